// How every family is timed (ann-benchmarks' protocol with --runs): each query alone on one thread, the
// whole query set `runs` times, then the batch `runs` times; medians and bests are kept, raw times stored.
// And what the machine was doing: CPU model, threads, load average, resident memory.
import CBLAS
import ClipCore
import Foundation

public enum Timing {
    /// Below this many queries a 99th percentile is the largest or second-largest time: not reported.
    public static let p99MinimumQueries = 1000

    public struct Result {
        /// Result ids of every query (from the last run).
        public var ids: [[Int32]]
        /// Microseconds per query, per run: times[run][query].
        public var times: [[Double]]
        /// Seconds of each batched run.
        public var batchSeconds: [Double]

        public struct Summary { var p50, p50Best, p99, mean, qps, qpsBest, qpsBatched, qpsBatchedBest: Double }

        /// Per run: p50, p99, mean, queries/s; then the median over runs and the best run.
        func summary(queries: Int) -> Summary {
            let p50s = times.map { Metrics.percentile($0, 50) }
            let qps = times.map { Double(queries) / $0.reduce(0, +) * 1e6 }
            let batched = batchSeconds.map { Double(queries) / $0 }
            return Summary(p50: median(p50s), p50Best: p50s.min() ?? .nan,
                           p99: median(times.map { Metrics.percentile($0, 99) }), mean: median(times.map(Metrics.mean)),
                           qps: median(qps), qpsBest: qps.max() ?? .nan,
                           qpsBatched: median(batched), qpsBatchedBest: batched.max() ?? .nan)
        }
    }

    /// Median (mean of the middle two for an even count).
    public static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Times `single` on every query `runs` times (each call alone), then `batch` `runs` times.
    public static func measure(_ queries: Matrix, runs: Int, single: (UnsafePointer<Float>, inout [Int32]) throws -> Void,
                               batch: () throws -> Void) rethrows -> Result {
        var ids = [[Int32]](repeating: [], count: queries.rows)
        var times = [[Double]](repeating: [Double](repeating: 0, count: queries.rows), count: runs)
        try queries.data.withUnsafeBufferPointer { q in
            for r in 0..<runs {
                for i in 0..<queries.rows {
                    let t0 = Clock.now()
                    try single(q.baseAddress! + i * queries.cols, &ids[i])
                    times[r][i] = (Clock.now() - t0) * 1e6
                }
            }
        }
        var batchSeconds: [Double] = []
        for _ in 0..<runs {
            let t0 = Clock.now()
            try batch()
            batchSeconds.append(Clock.now() - t0)
        }
        return Result(ids: ids, times: times, batchSeconds: batchSeconds)
    }

    /// Every query once, untimed (pages the index in, fills caches).
    public static func warmUp(_ queries: Matrix, _ body: (UnsafePointer<Float>) throws -> Void) rethrows {
        try queries.data.withUnsafeBufferPointer { q in
            for i in 0..<queries.rows { try body(q.baseAddress! + i * queries.cols) }
        }
    }
}

public enum Machine {
    /// /proc/loadavg's 1, 5 and 15-minute load averages.
    public static func loadAverage() -> [Double] {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
        return s.split(separator: " ").prefix(3).compactMap { Double($0) }
    }

    /// The process's resident set now (/proc/self/statm), in bytes.
    public static func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let f = s.split(separator: " ")
        return f.count > 1 ? (Int(f[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    /// The resident set after returning the heap's free pages to the system (malloc_trim): the baseline an index's
    /// growth is measured from, so an index cannot hide in pages a freed build left resident.
    public static func trimmedResidentBytes() -> Int {
        // glibc's malloc_trim (<malloc.h> is not in Swift's Glibc module), looked up once.
        if let trim = mallocTrim { _ = trim(0) }
        return residentBytes()
    }

    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim")
        .map { unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self) }

    /// /proc/cpuinfo's first "model name".
    public static func cpuModel() -> String {
        guard let s = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in s.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        }
        return "unknown"
    }

    static func environment(_ c: SweepConfig) -> RunEnvironment {
        RunEnvironment(cpuModel: cpuModel(), logicalCpus: ProcessInfo.processInfo.activeProcessorCount,
                       blasThreads: Int(clipwb_blas_get_num_threads()), queryThreads: c.queryThreads,
                       buildThreads: c.buildThreads, loadAverageStart: loadAverage(), commit: c.commit,
                       buildConfiguration: c.buildConfiguration)
    }

    /// Runs `body` with OpenBLAS on `threads` threads, then restores its count (no effect without OpenBLAS).
    static func withBLASThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        let before = clipwb_blas_get_num_threads()
        guard before > 0 else { return try body() }
        clipwb_blas_set_num_threads(Int32(threads))
        defer { clipwb_blas_set_num_threads(before) }
        return try body()
    }
}
