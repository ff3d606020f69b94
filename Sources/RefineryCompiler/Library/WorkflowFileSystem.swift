// The disk access of workflow name resolution, injected so tests run against temp folders or
// in-memory trees.

import Foundation

/// The file operations ``WorkflowLibrary`` needs.
public struct WorkflowFileSystem: Sendable {
    /// The bytes of a file.
    public var read: @Sendable (String) throws -> [UInt8]
    /// The path with every symlink resolved, or `nil` when nothing exists there.
    public var realPath: @Sendable (String) -> String?
    /// The names of the entries of a folder (`[]` when it does not exist).
    public var list: @Sendable (String) -> [String]

    /// Creates a file system from its operations.
    public init(
        read: @escaping @Sendable (String) throws -> [UInt8],
        realPath: @escaping @Sendable (String) -> String?,
        list: @escaping @Sendable (String) -> [String]
    ) {
        self.read = read
        self.realPath = realPath
        self.list = list
    }

    /// The machine's file system.
    public static let local = WorkflowFileSystem(
        read: { path in
            Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        },
        realPath: { path in
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        },
        list: { path in
            (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        }
    )
}
