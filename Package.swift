// swift-tools-version: 6.2
import PackageDescription

// The layers of DESIGN §1, lowest first. Dependencies point one way: a target may only
// depend on targets of its own or a lower layer.
//
// `REFINERY_LAYER=syntax|compiler|runtime|providers|store` limits the package to the
// layers up to the one named (and their tests). It is a development convenience: a change
// to the compiler can be tested without building the HTTP stack. Unset, everything builds.
let layers = ["syntax", "compiler", "runtime", "providers", "store", "app"]
let requestedLayer = Context.environment["REFINERY_LAYER"] ?? "app"
let maxLayer = layers.firstIndex(of: requestedLayer) ?? layers.count - 1
func enabled(_ layer: String) -> Bool { (layers.firstIndex(of: layer) ?? 0) <= maxLayer }

var targets: [Target] = [
    .systemLibrary(
        name: "CYAML",
        pkgConfig: "yaml-0.1",
        providers: [.apt(["libyaml-dev"])]
    ),
    .target(name: "RefinerySyntax", dependencies: ["CYAML"]),
    .testTarget(name: "RefinerySyntaxTests", dependencies: ["RefinerySyntax"]),
]

if enabled("compiler") {
    targets += [
        .target(
            name: "RefineryCompiler",
            dependencies: ["RefinerySyntax", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "RefineryCompilerTests",
            dependencies: ["RefineryCompiler"],
            exclude: ["Fixtures", "Graph/SchemaFixtures"]  // read through #filePath, not as resources
        ),
        // `swift run -c release RefineryBenchmarks [compile|...]`: timings of the hot paths.
        .executableTarget(
            name: "RefineryBenchmarks",
            dependencies: ["RefineryCompiler"],
            path: "Benchmarks/Sources/RefineryBenchmarks"
        ),
    ]
}

if enabled("runtime") {
    targets += [
        // glibc's mallopt, for ProcessTuning (header only; nothing to link).
        .systemLibrary(name: "CMalloc"),
        // A process-wide allocator setting for executables (`refinery`, the engine benchmark); the engine
        // works without it, so it is no part of the runtime library.
        .target(name: "RefineryProcessTuning", dependencies: ["CMalloc"]),
        // The Swift task allocator's entry points, for the call tasks' async frames (TaskStack; header only,
        // the runtime is linked already).
        .systemLibrary(name: "CTaskAllocator"),
        .target(
            name: "RefineryRuntime",
            dependencies: [
                "RefineryCompiler",
                "CTaskAllocator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // Scripted provider and helpers for tests and examples. Not a product.
        .target(name: "RefineryTestSupport", dependencies: ["RefineryRuntime"]),
        .testTarget(
            name: "RefineryRuntimeTests",
            dependencies: [
                "RefineryRuntime", "RefineryTestSupport", "RefineryProcessTuning",
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // Library examples (DESIGN §5), built and run by RefineryRuntimeTests.
        .executableTarget(
            name: "ExampleCustomProvider", dependencies: ["RefineryRuntime"], path: "examples/swift/custom-provider"),
        .executableTarget(
            name: "ExampleRoundByRound", dependencies: ["RefineryRuntime"], path: "examples/swift/round-by-round"),
        // `swift run -c release RefineryEngineBenchmarks`: engine overhead, critical path, memory.
        // With the store layer, its `ledger` mode also measures runs recorded in the SQLite ledger.
        .executableTarget(
            name: "RefineryEngineBenchmarks",
            dependencies: ["RefineryRuntime", "RefineryTestSupport", "RefineryProcessTuning"]
                + (enabled("store") ? ["RefineryStore"] : []),
            path: "Benchmarks/Sources/RefineryEngineBenchmarks",
            // A flag, not `canImport`: a store module left in the build folder by a full build must not
            // be picked up by a runtime-layer build that does not link it.
            swiftSettings: enabled("store") ? [.define("REFINERY_STORE_BENCHMARKS")] : []),
    ]
}

if enabled("providers") {
    targets += [
        .target(
            name: "RefineryProviders",
            dependencies: [
                "RefineryRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system", condition: .when(platforms: [.linux])),
            ]
        ),
        // The real-path benchmark's fake model API (Benchmarks/README.md): OpenAI and Anthropic shapes
        // with a fixed delay, on plain NIO so it costs far less per request than `refinery`.
        .executableTarget(
            name: "RefineryFakeProvider",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/Sources/RefineryFakeProvider"),
        // The real path's floor (Benchmarks/README.md): the same requests through AsyncHTTPClient, or bare NIO,
        // with nothing of `refinery` around them.
        .executableTarget(
            name: "RefineryHTTPFloor",
            dependencies: [
                "RefineryProviders",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/Sources/RefineryHTTPFloor"),
    ]
}

if enabled("store") {
    targets += [
        .target(
            name: "RefineryStore",
            dependencies: [
                "RefineryRuntime", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(name: "RefineryStoreTests", dependencies: ["RefineryStore", "RefineryTestSupport"]),
    ]
}

if enabled("app") {
    targets += [
        // The application layer: name resolution, saved configs, run orchestration with the
        // ledger. The CLI calls one entry point of this module per command.
        .target(
            name: "Refinery",
            dependencies: [
                "RefineryCompiler", "RefineryRuntime", "RefineryProviders", "RefineryStore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system", condition: .when(platforms: [.linux])),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // `refinery mcp`: the Model Context Protocol server over RunService (issue 15).
        .target(
            name: "RefineryMCP",
            dependencies: [
                "Refinery", "RefineryCompiler", "RefineryRuntime",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What `refinery` and `refinery-mcp` parse alike (`--store`, the exit code of a usage error).
        .target(
            name: "RefineryCommandSupport",
            dependencies: ["Refinery", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // `refinery`. It does not link the MCP SDK: `refinery mcp` execs `refinery-mcp` (below), so that
        // FoundationNetworking's ~30 shared libraries stay out of every other command's start-up.
        .executableTarget(
            name: "RefineryCLI",
            dependencies: [
                "Refinery", "RefineryCommandSupport", "RefineryRuntime", "RefineryProcessTuning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `refinery-mcp`: the MCP server that `refinery mcp` runs, installed beside `refinery`.
        .executableTarget(
            name: "RefineryMCPServer",
            dependencies: [
                "Refinery", "RefineryCommandSupport", "RefineryMCP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `swift run -c release RefineryBatchBenchmarks`: the batch scheduler (issue 11 item 5).
        .executableTarget(
            name: "RefineryBatchBenchmarks",
            dependencies: [
                "Refinery", "RefineryCompiler", "RefineryRuntime", "RefineryStore", "RefineryProcessTuning",
            ],
            path: "Benchmarks/Sources/RefineryBatchBenchmarks"
        ),
        // The 8-call run's floor (Benchmarks/README.md, "Session 8"): the libraries `refinery` links, the same
        // command line, 8 HTTP calls in 4 layers and 8 ledger rows, and nothing of `refinery`.
        .executableTarget(
            name: "RefineryStartFloor",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Benchmarks/Sources/RefineryStartFloor"
        ),
        // Provider wire tests and CLI end-to-end tests against in-process fake servers
        // (Hummingbird, test-only), and the real `refinery` binary.
        .testTarget(
            name: "RefineryIntegrationTests",
            dependencies: [
                "Refinery",
                "RefineryStore",
                "RefineryTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // The fake servers run in a ServiceGroup, stopped by a graceful shutdown (FakeServer.stop()).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
}

// Each dependency with the lowest layer that needs it.
let dependencies: [Package.Dependency] = [
    ("compiler", Package.Dependency.package(url: "https://github.com/apple/swift-crypto", from: "3.12.0")),
    ("runtime", .package(url: "https://github.com/apple/swift-log", from: "1.6.0")),
    ("runtime", .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0")),
    ("providers", .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0")),
    ("providers", .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0")),
    ("providers", .package(url: "https://github.com/apple/swift-nio", from: "2.80.0")),
    ("providers", .package(url: "https://github.com/apple/swift-system", from: "1.4.0")),
    ("app", .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0")),
    ("app", .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0")),
    // Hummingbird's own; named for the test fake servers' graceful stop.
    ("app", .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0")),
    ("store", .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0")),
    ("store", .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2")),
    ("app", .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")),
    ("app", .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1")),
].filter { enabled($0.0) }.map(\.1)

let package = Package(
    name: "refinery",
    platforms: [.macOS(.v15)],
    products: enabled("app")
        ? [
            .executable(name: "refinery", targets: ["RefineryCLI"]),
            .executable(name: "refinery-mcp", targets: ["RefineryMCPServer"]),
            .library(
                name: "Refinery",
                targets: [
                    "Refinery", "RefineryCompiler", "RefineryRuntime", "RefineryProviders", "RefineryStore",
                    "RefineryProcessTuning",
                ]
            ),
        ] : [],
    dependencies: dependencies,
    targets: targets
)

// One strict settings block for every target (STYLE habit 2).
for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
