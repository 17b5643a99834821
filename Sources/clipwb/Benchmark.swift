// `clipwb benchmark load`: times loading weight files into a ready model (CLIPModel built), interleaved, for
// `make bench-weights`. Kept out of tests: timing is measured here, never asserted.
import ArgumentParser
import ClipCore
import ClipModel
import ClipWeights
import Foundation

struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure things for docs/benchmarks.md (timings are reported, never asserted).",
        subcommands: [LoadTimes.self, BenchEncoders.self])
}

struct LoadTimes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load each weight file ROUNDS times, interleaved, and report the median.",
        discussion: "A load ends when a CLIPModel is built over the file: every tensor checked and usable by the encoders (with --halves widen, f16/bf16 widened to float32; with --halves direct, float16 matrices read as they are). Files are read once first so the page cache is warm for all.")

    @Argument(help: "Weight files (.h5 or .safetensors).")
    var files: [String]

    @Option(help: "Rounds; each round loads every file once.")
    var rounds: Int = 7

    @Option(help: "Half-precision tensors: widen (to float32 at load) or direct (the encoders read float16).")
    var halves: HalfWeights = .widen

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard !files.isEmpty else { throw ValidationError("name at least one weight file") }
    }

    struct Row: Encodable { let file: String; let bytes: Int; let milliseconds: [Double]; let medianMs: Double; let minMs: Double }

    func run() throws {
        try reportingErrors {
            for f in files { _ = try CLIPModel(weights: CLIPWeights.load(path: f, halves: halves)) }  // warm the page cache, check they load
            var times = [[Double]](repeating: [], count: files.count)
            for _ in 0..<rounds {
                for (i, f) in files.enumerated() {
                    let t0 = Clock.now()
                    let w = try CLIPModel(weights: CLIPWeights.load(path: f, halves: halves))
                    times[i].append((Clock.now() - t0) * 1000)
                    withExtendedLifetime(w) {}
                }
            }
            let rows = files.enumerated().map { i, f in
                Row(file: f, bytes: fileSize(f), milliseconds: times[i], medianMs: median(times[i]), minMs: times[i].min()!)
            }
            if json { try printJSON(rows); return }
            for r in rows { print(String(format: "%@  %@  median %.1f ms  min %.1f ms", r.file, formatBytes(r.bytes), r.medianMs, r.minMs)) }
        }
    }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
