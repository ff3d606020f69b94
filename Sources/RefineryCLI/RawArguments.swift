// The bytes of a command-line argument as the shell passed them. Swift decodes `argv` into Strings
// by replacing invalid UTF-8 with U+FFFD, so a prompt given as an argument would reach the models
// silently altered, where the same bytes on stdin are refused (exit 4). The prompt argument is
// taken from here instead, so both paths go through the same UTF-8 check.

import Foundation

enum RawArguments {
    /// The raw bytes of the `argv` entry that decodes to `argument`, or its UTF-8 when none does.
    static func bytes(of argument: String) -> Data {
        // Only an argument with a replacement character can have come from invalid bytes.
        guard argument.unicodeScalars.contains("\u{FFFD}") else { return Data(argument.utf8) }
        for index in 0..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let raw = Data(bytes: pointer, count: strlen(pointer))
            if String(decoding: raw, as: UTF8.self) == argument { return raw }
        }
        return Data(argument.utf8)
    }
}
