// Builds the prompt a run sends (DESIGN §4, seed 000 "File Input"): the instruction from the
// argument or stdin, then each file in a block tagged with a per-run random nonce, so a file
// that contains a closing tag cannot pretend its content ended.

public import Foundation
import RefineryCompiler

/// One file given with `-f/--file`.
public struct InputFile: Sendable, Hashable {
    /// The path as the user wrote it (shown to the models).
    public var path: String
    /// The file's bytes.
    public var contents: Data

    /// Creates an input file.
    public init(path: String, contents: Data) {
        self.path = path
        self.contents = contents
    }
}

/// Assembles prompt text and files into the run's prompt, enforcing the input budget.
public struct InputAssembler: Sendable {
    /// Prompt, stdin and file bytes allowed in total: 1 MiB.
    public static let defaultByteLimit = 1 << 20

    /// The byte budget.
    public var byteLimit: Int
    private let makeNonce: @Sendable () -> String

    /// Creates an assembler; `makeNonce` is injectable for tests (default: 128 random bits, hex).
    public init(byteLimit: Int = InputAssembler.defaultByteLimit, makeNonce: (@Sendable () -> String)? = nil) {
        self.byteLimit = byteLimit
        self.makeNonce =
            makeNonce ?? {
                var generator = SystemRandomNumberGenerator()
                return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }
                    .map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
            }
    }

    /// Reads each path from disk, then assembles. Throws ``InputError`` before anything is sent. A file given
    /// twice, under any name (`a.rs` and `./a.rs`, `dir/../a.rs`, a link to it), is included once, under the
    /// name it was first given.
    public func assemble(prompt: Data?, filePaths: [String], workingDirectory: URL) throws -> String {
        var files: [InputFile] = []
        var total = prompt?.count ?? 0
        var included = Set<[Int]>()
        for path in filePaths {
            // An empty path is the working directory to Foundation: it was refused as a folder named ``.
            guard !path.isEmpty else {
                throw InputError(
                    code: .unreadable, message: "A file path is empty; --file (-f) needs the path of a file.")
            }
            let url = URL(fileURLWithPath: path, relativeTo: workingDirectory)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                throw InputError(code: .unreadable, message: "Cannot read \(path): no such file.")
            }
            if isFolder.boolValue {
                throw InputError(
                    code: .unreadable, message: "\(path) is a folder; give the files in it with one --file each.")
            }
            if let kind = WorkflowFileSystem.notAFile(url.path) {
                throw InputError(
                    code: .unreadable, message: "\(path) is \(kind), not a file; --file takes regular files.")
            }
            // The file's own attributes, not a link's (whose size is its target's name).
            let attributes =
                (try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)) ?? [:]
            // The file's identity (device and inode), which every name of it shares.
            if let device = attributes[.systemNumber] as? Int, let inode = attributes[.systemFileNumber] as? Int,
                !included.insert([device, inode]).inserted
            {
                continue
            }
            let size = attributes[.size] as? Int ?? 0
            // Refuse oversized files before reading them into memory.
            guard total + size <= byteLimit else { throw tooLarge(total + size) }
            guard let contents = FileManager.default.contents(atPath: url.path) else {
                throw InputError(
                    code: .unreadable, message: "Cannot read \(path): check that the file exists and is readable.")
            }
            total += contents.count
            files.append(InputFile(path: path, contents: contents))
        }
        return try assemble(prompt: prompt, files: files)
    }

    /// The prompt: the instruction (if any), then one nonce-tagged block per file.
    public func assemble(prompt: Data?, files: [InputFile]) throws -> String {
        let total = (prompt?.count ?? 0) + files.reduce(0) { $0 + $1.contents.count }
        guard total <= byteLimit else { throw tooLarge(total) }
        var instruction: String?
        if let prompt {
            guard let text = String(validating: prompt, as: UTF8.self) else {
                throw InputError(
                    code: .notUTF8, message: "The prompt is not valid UTF-8; convert it (e.g. with iconv).")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            instruction = trimmed.isEmpty ? nil : trimmed
        }
        var texts: [(path: String, text: String)] = []
        for file in files {
            guard let text = String(validating: file.contents, as: UTF8.self) else {
                throw InputError(
                    code: .notUTF8,
                    message: "\(file.path) is not valid UTF-8 text; only text files can be given with --file.")
            }
            texts.append((file.path, text))
        }
        if instruction == nil && texts.isEmpty {
            throw InputError(
                code: .empty, message: "Nothing to ask: give a prompt, `-` to read it from stdin, or --file.")
        }
        guard !texts.isEmpty else { return instruction ?? "" }
        let nonce = try freshNonce(avoiding: texts.map(\.text) + [instruction ?? ""])
        var parts: [String] = instruction.map { [$0] } ?? []
        for (path, text) in texts {
            let body = text.hasSuffix("\n") ? text : text + "\n"
            parts.append("<file-\(nonce) path=\"\(Self.escapeAttribute(path))\">\n\(body)</file-\(nonce)>")
        }
        return parts.joined(separator: "\n\n")
    }

    private func freshNonce(avoiding texts: [String]) throws -> String {
        // A random nonce colliding with the content is astronomically unlikely; checking keeps the
        // guarantee unconditional (and makes an injected, predictable nonce safe too).
        for _ in 0..<8 {
            let nonce = makeNonce()
            if !nonce.isEmpty && !texts.contains(where: { $0.contains(nonce) }) { return nonce }
        }
        throw InputError(code: .invalidOption, message: "Could not pick a file-block nonce absent from the input.")
    }

    private func tooLarge(_ total: Int) -> InputError {
        InputError(
            code: .tooLarge,
            message: "The input is \(total) bytes; prompt, stdin and files may total at most \(byteLimit) bytes "
                + "(1 MB). Pass fewer or smaller files.")
    }

    private static func escapeAttribute(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\n", with: " ")
    }
}
