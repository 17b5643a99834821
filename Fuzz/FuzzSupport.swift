// Shared by the libFuzzer targets (compiled into each): the rule every target checks, an input
// written to a temp file for the readers that open paths, and the seed-writing hook run.sh uses.
// Any input must succeed or throw a ClipwbError; a crash, an ASan report, a timeout or any other
// error type is a bug.
import ClipCore
import Foundation

enum Fuzz {
    /// Runs one input through `body`; a ClipwbError is a clean refusal, anything else traps.
    static func run(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: ([UInt8]) throws -> Void) -> CInt {
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        do {
            try body(bytes)
        } catch is ClipwbError {
            return 0
        } catch {
            fatalError("unexpected error type \(type(of: error)): \(error)")
        }
        return 0
    }

    /// One temp file per process, rewritten for every input (libFuzzer runs inputs one at a time).
    static func withTempFile<T>(_ bytes: [UInt8], suffix: String, _ body: (String) throws -> T) throws -> T {
        let path = NSTemporaryDirectory() + "/clipwb-fuzz-\(getpid())\(suffix)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            fatalError("cannot write the fuzz input to \(path)")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    /// The bytes a path-taking writer produces (seeds are made by the library's own writers).
    static func written(_ write: (String) throws -> Void) throws -> [UInt8] {
        try withTempFile([], suffix: ".seed") { path in
            try write(path)
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    /// If CLIPWB_FUZZ_SEEDS names a directory, writes `seeds` there (name → bytes) and exits: run.sh makes
    /// the seed corpus with the library's own writers in a step of its own, so nothing is committed.
    static func writeSeeds(_ seeds: () throws -> [String: [UInt8]]) {
        guard let dir = ProcessInfo.processInfo.environment["CLIPWB_FUZZ_SEEDS"], !dir.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, bytes) in try seeds() where !FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes)) {
                fatalError("cannot write the seed \(dir)/\(name)")
            }
            exit(0)
        } catch {
            fatalError("cannot write the seeds to \(dir): \(error)")
        }
    }

    /// Small seeded values in [-0.5, 0.5) (SplitMix64), for seed tensors and vectors.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<count).map { _ in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 24) - 0.5
        }
    }
}

/// libFuzzer's optional init hook: each target provides `fuzzSeeds()`.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    Fuzz.writeSeeds(fuzzSeeds)
    return 0
}
