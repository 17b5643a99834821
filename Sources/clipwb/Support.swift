// Shared CLI plumbing: error reporting with exit codes, JSON printing.
import ArgumentParser
import ClipCore
import Foundation

/// Exit statuses: 0 success/pass, 1 a check failed, 2 bad input or environment.
enum Exit {
    static let failed: Int32 = 1
    static let badInput: Int32 = 2
}

/// Runs `body`, turning library errors into one `error:` line on stderr and the matching exit code.
func reportingErrors<R>(_ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let e as ClipwbError {
        FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
        throw ExitCode(e.kind == .failed ? Exit.failed : Exit.badInput)
    }
}

func reportingErrors<R>(_ body: () async throws -> R) async throws -> R {
    do {
        return try await body()
    } catch let e as ClipwbError {
        FileHandle.standardError.write(Data("error: \(e.message)\n".utf8))
        throw ExitCode(e.kind == .failed ? Exit.failed : Exit.badInput)
    }
}

/// Prints an Encodable as pretty, key-sorted, snake_case JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let data = try JSONStyle.encoder().encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

func stderrLine(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
