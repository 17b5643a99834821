// The runner: builds one forest per tree count, queries it at every (k, search_k), stores raw
// per-query ids and times, then measures recall and latency from them (ann-benchmarks' split of
// running, measuring and plotting). HNSW graphs are the second family (HNSWSweep.swift).
import AnnoyIndex
import ClipCore
import Foundation

public struct SweepConfig: Codable, Sendable {
    public var base: String
    public var queries: String
    public var groundTruth: String?
    public var metric: Metric
    public var trees: [Int]
    /// -1 is Annoy's default (k × trees), written `auto`.
    public var searchKs: [Int]
    public var ks: [Int]
    public var seed: UInt64
    /// Build thread counts to time; the index queried is built with the last one.
    public var buildThreads: [Int]
    public var queryThreads: Int
    public var out: String
    public var commit: String
    public var buildConfiguration: String
    /// The HNSW grid (nil or empty lists: no HNSW runs).
    public var hnsw: HNSWGrid?

    public init(base: String, queries: String, groundTruth: String?, metric: Metric, trees: [Int], searchKs: [Int],
                ks: [Int], seed: UInt64, buildThreads: [Int], queryThreads: Int, out: String, commit: String,
                buildConfiguration: String, hnsw: HNSWGrid? = nil) {
        self.hnsw = hnsw
        self.base = base; self.queries = queries; self.groundTruth = groundTruth; self.metric = metric
        self.trees = trees; self.searchKs = searchKs; self.ks = ks; self.seed = seed
        self.buildThreads = buildThreads; self.queryThreads = queryThreads; self.out = out
        self.commit = commit; self.buildConfiguration = buildConfiguration
    }
}

/// M × ef_construction graphs, each queried at every ef (hnswlib's names).
public struct HNSWGrid: Codable, Sendable {
    public var ms: [Int]
    public var efConstructions: [Int]
    public var efs: [Int]
    /// hnswlib's random_seed of every build.
    public var seed: Int

    public init(ms: [Int], efConstructions: [Int], efs: [Int], seed: Int = 100) {
        self.ms = ms; self.efConstructions = efConstructions; self.efs = efs; self.seed = seed
    }

    public var runsPerK: Int { ms.count * efConstructions.count * efs.count }
}

public struct RunRecord: Codable, Sendable {
    /// annoy or hnsw (exact search is SweepResult.exact).
    public var family: String = "annoy"
    /// Annoy's parameters (nil for other families).
    public var trees: Int?
    public var k: Int
    public var searchK: Int?
    public var effectiveSearchK: Int?
    /// HNSW's parameters (nil for other families); hnswlib searches with max(ef, k).
    public var m: Int? = nil
    public var efConstruction: Int? = nil
    public var ef: Int? = nil
    public var recall: Double
    public var p50Us: Double
    public var p99Us: Double
    public var meanUs: Double
    public var qpsSingle: Double
    public var qpsBatched: Double
    public var batchThreads: Int
    public var coldFirstQueryUs: Double
    /// Seconds building the trees per build thread count ("1", "2"): what Annoy's build() times.
    public var buildSeconds: [String: Double]
    /// Seconds making the item nodes (copy, norms, NaN check; Annoy's add_item loop) per thread count.
    public var prepareSeconds: [String: Double] = [:]
    public var indexBytes: Int
    public var loadSeconds: Double
    public var peakRssBytes: Int
    public var rawIds: String
    public var rawTimesUs: String
}

public struct ExactRecord: Codable, Sendable {
    public var family = "exact"
    public var seconds: Double
    public var qps: Double
    public var k: Int
    public var source: String
}

public struct SweepResult: Codable, Sendable {
    public var config: SweepConfig
    public var items: Int
    public var dimension: Int
    public var queryCount: Int
    public var startedAt: String
    public var exact: ExactRecord
    public var runs: [RunRecord]
}

public enum Sweep {
    public static func run(_ c: SweepConfig, progress: Bool? = nil) throws -> SweepResult {
        let base = try VectorFiles.readFloats(c.base, what: "base vector")
        let queries = try VectorFiles.readFloats(c.queries, what: "query", defaultDataset: "test")
        guard base.rows > 0 else { throw AnnoyError("index.empty", "'\(c.base)' holds no vectors; the index would be empty") }
        guard queries.cols == base.cols else {
            throw AnnoyError("query.dim", "the queries have \(queries.cols) columns but the base vectors have \(base.cols)")
        }
        let maxK = c.ks.max() ?? 1
        guard maxK <= base.rows else {
            throw AnnoyError("query.k", "k=\(maxK) is larger than the collection: '\(c.base)' holds \(base.rows) vectors")
        }
        try FileManager.default.createDirectory(atPath: c.out + "/raw", withIntermediateDirectories: true)
        let started = ISO8601DateFormatter().string(from: Date())
        let (gt, exact) = try groundTruth(c, base: base, queries: queries, k: maxK)
        try NPY.writeInts(gt.flatMap { $0.map(Int.init) }, rows: gt.count, cols: maxK, to: c.out + "/ground_truth.npy")

        let grid = c.trees.count * c.ks.count * c.searchKs.count + (c.hnsw?.runsPerK ?? 0) * c.ks.count
        let bar = ProgressBar(total: grid, label: "eval", unit: "runs", enabled: progress)
        var runs: [RunRecord] = []
        let indexPath = c.out + "/index.ann"
        defer { try? FileManager.default.removeItem(atPath: indexPath) }
        for t in c.trees {
            var buildSeconds: [String: Double] = [:], prepareSeconds: [String: Double] = [:]
            var built: BuiltIndex?
            for bt in c.buildThreads {
                built = try AnnoyBuilder.build(base, metric: c.metric, options: BuildOptions(trees: t, seed: c.seed, threads: bt))
                buildSeconds[String(bt)] = built!.treeSeconds
                prepareSeconds[String(bt)] = built!.prepareSeconds
            }
            try built!.write(to: indexPath)
            built = nil
            let t0 = Clock.now()
            let ix = try AnnoyIndex(path: indexPath, metric: c.metric, dimension: base.cols)
            let loadSeconds = Clock.now() - t0
            let searcher = Searcher(index: ix)
            var ids: [Int32] = [], dists: [Float] = []
            let cold = try queries.data.withUnsafeBufferPointer { q -> Double in
                try ix.checkParameters(k: c.ks[0], searchK: nil)
                let t1 = Clock.now()
                searcher.query(q.baseAddress!, k: c.ks[0], searchK: -1, ids: &ids, distances: &dists)
                return (Clock.now() - t1) * 1e6
            }
            for k in c.ks {
                for sk in c.searchKs {
                    defer { bar.advance() }
                    if sk != -1 && sk < k { continue }
                    let name = "trees\(t)-k\(k)-sk\(sk == -1 ? "auto" : String(sk))"
                    var r = try measure(ix, searcher, queries, base: base, gt: gt, k: k, searchK: sk, c: c, name: name)
                    r.trees = t; r.coldFirstQueryUs = cold; r.buildSeconds = buildSeconds; r.prepareSeconds = prepareSeconds
                    r.indexBytes = ix.fileSize; r.loadSeconds = loadSeconds
                    runs.append(r)
                }
            }
        }
        runs += try runHNSW(c, base: base, queries: queries, gt: gt, bar: bar)
        bar.finish()
        return SweepResult(config: c, items: base.rows, dimension: base.cols, queryCount: queries.rows,
                           startedAt: started, exact: exact, runs: runs)
    }

    /// One grid point: every query timed alone on one thread, then the batch on `queryThreads`.
    static func measure(_ ix: AnnoyIndex, _ s: Searcher, _ queries: Matrix, base: Matrix, gt: [[Int32]],
                        k: Int, searchK: Int, c: SweepConfig, name: String) throws -> RunRecord {
        try ix.checkParameters(k: k, searchK: searchK)
        var all = [[Int32]](repeating: [], count: queries.rows)
        var times = [Double](repeating: 0, count: queries.rows)
        var dists: [Float] = []
        queries.data.withUnsafeBufferPointer { q in
            for i in 0..<queries.rows {
                let t0 = Clock.now()
                s.query(q.baseAddress! + i * queries.cols, k: k, searchK: searchK, ids: &all[i], distances: &dists)
                times[i] = (Clock.now() - t0) * 1e6
            }
        }
        let t0 = Clock.now()
        _ = ix.search(queries, k: k, searchK: searchK, threads: c.queryThreads)
        let batchSeconds = Clock.now() - t0
        let (idsPath, timesPath, recall) = try recordRaw(name, ids: all, times: times, k: k, c: c, base: base, queries: queries, gt: gt)
        return RunRecord(trees: 0, k: k, searchK: searchK, effectiveSearchK: searchK == -1 ? k * ix.treeCount : searchK,
                         recall: Metrics.mean(recall), p50Us: Metrics.percentile(times, 50),
                         p99Us: Metrics.percentile(times, 99), meanUs: Metrics.mean(times),
                         qpsSingle: Double(queries.rows) / times.reduce(0, +) * 1e6,
                         qpsBatched: Double(queries.rows) / batchSeconds, batchThreads: c.queryThreads,
                         coldFirstQueryUs: 0, buildSeconds: [:], indexBytes: 0, loadSeconds: 0,
                         peakRssBytes: peakRSS(), rawIds: idsPath, rawTimesUs: timesPath)
    }

    /// Ground truth from a file (ids; at least max k columns) or from exact BLAS search.
    /// Writes a run's result ids (padded with -1 to k) and per-query µs under raw/, and scores the ids
    /// against the ground truth: (ids path, times path, per-query recall). Every family's runs go through here.
    static func recordRaw(_ name: String, ids all: [[Int32]], times: [Double], k: Int, c: SweepConfig, base: Matrix,
                          queries: Matrix, gt: [[Int32]]) throws -> (String, String, [Double]) {
        let idsPath = "raw/\(name)-ids.npy", timesPath = "raw/\(name)-us.npy"
        try NPY.writeInts(all.flatMap { row in row.map(Int.init) + [Int](repeating: -1, count: k - row.count) },
                          rows: queries.rows, cols: k, to: c.out + "/" + idsPath)
        try NPY.write(Matrix(rows: queries.rows, cols: 1, data: times.map(Float.init)), to: c.out + "/" + timesPath)
        let recall = Metrics.recall(metric: c.metric, base: base, queries: queries, groundTruth: gt, results: all, k: k)
        return (idsPath, timesPath, recall)
    }

    static func groundTruth(_ c: SweepConfig, base: Matrix, queries: Matrix, k: Int) throws -> ([[Int32]], ExactRecord) {
        let exact = ExactSearch(base: base, metric: c.metric)
        let t0 = Clock.now()
        let computed = exact.search(queries, k: k).ids
        let seconds = Clock.now() - t0
        let record = ExactRecord(seconds: seconds, qps: Double(queries.rows) / seconds, k: k,
                                 source: c.groundTruth ?? "exact search (BLAS sgemm)")
        guard let path = c.groundTruth else { return (computed, record) }
        let g = try VectorFiles.readInts(path)
        guard g.rows == queries.rows, g.cols >= k else {
            throw EvalError("gt.shape", "the ground truth '\(path)' is [\(g.rows), \(g.cols)]; it needs one row per query (\(queries.rows)) and at least k=\(k) columns")
        }
        guard g.data.allSatisfy({ $0 >= 0 && $0 < base.rows }) else {
            throw EvalError("gt.range", "the ground truth '\(path)' names ids outside 0..<\(base.rows)")
        }
        return ((0..<g.rows).map { r in (0..<k).map { Int32(g.data[r * g.cols + $0]) } }, record)
    }

    static func peakRSS() -> Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Int(u.ru_maxrss) * 1024
    }
}
