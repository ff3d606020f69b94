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

    /// Largest file ``local`` reads (16 MiB): far above every limit the compiler applies, so a
    /// too-large file is still reported as such, but a path to `/dev/zero` or a FIFO can neither
    /// hang the reader nor fill memory.
    package static let maxReadBytes = 16 * 1024 * 1024

    /// The machine's file system. ``read`` refuses anything but a regular file, and files over 16 MiB.
    public static let local = WorkflowFileSystem(
        read: { path in try readRegularFile(path) },
        realPath: { path in
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        },
        list: { path in
            (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        }
    )
}

extension WorkflowFileSystem {
    /// What the thing at `path` is when it exists but is not a regular file (symlinks followed):
    /// `a folder`, `a FIFO (named pipe)`, `a device`, `a socket`. `nil` for a regular file or nothing.
    /// Every path the CLI takes as a file (workflow, `--file`, `--store`) is checked with it first: a
    /// FIFO would block its reader forever, and a device is not a file to read or write.
    package static func notAFile(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// The bytes of the regular file at `path`, at most ``maxReadBytes``.
    package static func readRegularFile(_ path: String) throws -> [UInt8] {
        if let kind = notAFile(path) {
            throw UnreadableFile(path: path, reason: "it is not a regular file", kind: kind)
        }
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: target))
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maxReadBytes + 1) ?? Data()
        guard data.count <= maxReadBytes else {
            throw UnreadableFile(path: path, reason: "it is larger than \(maxReadBytes / 1024 / 1024) MiB")
        }
        return Array(data)
    }
}

/// A file ``WorkflowFileSystem/local`` will not read.
struct UnreadableFile: Error, CustomStringConvertible {
    var path: String
    var reason: String
    /// What the path is when it is not a regular file (`a folder`, `a FIFO (named pipe)`, `a device`).
    var kind: String?
    var description: String { "`\(path)`\(kind.map { " is \($0) and" } ?? "") cannot be read: \(reason)" }
}
