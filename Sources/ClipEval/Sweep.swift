// The runner: builds one forest per tree count, queries it at every (k, search_k), stores raw
// per-query ids and times, then measures recall and latency from them (ann-benchmarks' split of
// running, measuring and plotting). HNSW graphs are the second family (HNSWSweep.swift), exact search
// the third (ExactSweep.swift); every family is timed by the same `Timing` (Measure.swift).
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
    /// Query passes per setting (ann-benchmarks' --runs): best and median kept.
    public var runs: Int = 3
    /// Whether exact search is measured as a family (single-thread and batched) beside the indexes.
    public var exactFamily: Bool = true

    public init(base: String, queries: String, groundTruth: String?, metric: Metric, trees: [Int], searchKs: [Int],
                ks: [Int], seed: UInt64, buildThreads: [Int], queryThreads: Int, out: String, commit: String,
                buildConfiguration: String, hnsw: HNSWGrid? = nil, runs: Int = 3, exactFamily: Bool = true) {
        self.hnsw = hnsw
        self.base = base; self.queries = queries; self.groundTruth = groundTruth; self.metric = metric
        self.trees = trees; self.searchKs = searchKs; self.ks = ks; self.seed = seed
        self.buildThreads = buildThreads; self.queryThreads = queryThreads; self.out = out
        self.commit = commit; self.buildConfiguration = buildConfiguration
        self.runs = runs; self.exactFamily = exactFamily
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
    /// annoy, hnsw or exact.
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
    /// Median over the runs of each run's p50 (one query at a time, one thread); best: the lowest run.
    public var p50Us: Double
    public var p50UsBest: Double = .nan
    /// nil when there are too few queries for a 99th percentile to mean anything (Timing.p99MinimumQueries).
    public var p99Us: Double?
    public var meanUs: Double
    /// Queries/s one at a time on one thread: median over runs, and the best run.
    public var qpsSingle: Double
    public var qpsSingleBest: Double = .nan
    /// Queries/s of the whole batch on `batchThreads` threads: median over runs, and the best run.
    public var qpsBatched: Double
    public var qpsBatchedBest: Double = .nan
    public var batchThreads: Int
    public var runs: Int = 1
    public var coldFirstQueryUs: Double
    /// Seconds building the trees per build thread count ("1", "2"): what Annoy's build() times.
    public var buildSeconds: [String: Double]
    /// Seconds making the item nodes (copy, norms, NaN check; Annoy's add_item loop) per thread count.
    public var prepareSeconds: [String: Double] = [:]
    public var indexBytes: Int
    /// The index's own memory: growth of the process's resident set from before loading the index to after a
    /// warm-up pass of every query (indexes are read into private memory, as `clipwb serve` reads them); exact
    /// search: the vectors it scans and their norms.
    public var indexResidentBytes: Int = 0
    /// The process's resident set (current, not the high-water mark) after this setting's queries.
    public var processRssBytes: Int = 0
    public var loadSeconds: Double
    public var peakRssBytes: Int
    /// 1-minute load average when this setting was measured.
    public var loadAverage: Double = .nan
    public var rawIds: String
    public var rawTimesUs: String

    /// The setting in a few words: "trees 10, search_k 100", "M 16, efc 200, ef 50", "exact".
    public var parameters: String {
        switch family {
        case "annoy": return "trees \(trees ?? 0), search_k \(effectiveSearchK ?? 0)" + (searchK == -1 ? " (auto)" : "")
        case "hnsw": return "M \(m ?? 0), efc \(efConstruction ?? 0), ef \(ef ?? 0)"
        default: return "exact"
        }
    }

    /// Build seconds of the index queried (the last build thread count timed; exact: none).
    public var buildSecondsQueried: Double { buildSeconds.max { Int($0.key) ?? 0 < Int($1.key) ?? 0 }?.value ?? 0 }
}

public struct ExactRecord: Codable, Sendable {
    public var family = "exact"
    public var seconds: Double
    public var qps: Double
    public var k: Int
    public var source: String
}

/// Where and under what load a sweep ran.
public struct RunEnvironment: Codable, Sendable {
    public var cpuModel: String
    public var logicalCpus: Int
    /// OpenBLAS's thread count when the sweep started (-1: not OpenBLAS).
    public var blasThreads: Int
    public var queryThreads: Int
    public var buildThreads: [Int]
    public var loadAverageStart: [Double]
    public var loadAverageEnd: [Double] = []
    public var commit: String
    public var buildConfiguration: String
}

public struct SweepResult: Codable, Sendable {
    public var config: SweepConfig
    public var items: Int
    public var dimension: Int
    public var queryCount: Int
    public var startedAt: String
    public var environment: RunEnvironment?
    public var exact: ExactRecord
    public var runs: [RunRecord]
    /// Seconds the whole sweep took.
    public var seconds: Double = 0

    /// Why p99 is missing, when it is.
    public var p99Note: String? {
        queryCount >= Timing.p99MinimumQueries ? nil
            : "p99 not reported: \(queryCount) queries are too few for a 99th percentile (it needs ≥ \(Timing.p99MinimumQueries), so that ≥ 10 queries lie above it)"
    }
}

public enum Sweep {
    public static func run(_ c: SweepConfig, progress: Bool? = nil) throws -> SweepResult {
        let sweepStart = Clock.now()
        let base = try VectorFiles.readFloats(c.base, what: "base vector")
        let queries = try VectorFiles.readFloats(c.queries, what: "query", defaultDataset: "test")
        guard base.rows > 0 else { throw AnnoyError("index.empty", "'\(c.base)' holds no vectors; the index would be empty") }
        guard queries.cols == base.cols else {
            throw AnnoyError("query.dim", "the queries have \(queries.cols) columns but the base vectors have \(base.cols)")
        }
        guard queries.rows > 0 else { throw EvalError("query.empty", "'\(c.queries)' holds no query vectors") }
        guard c.runs >= 1 else { throw EvalError("runs", "runs must be at least 1") }
        let maxK = c.ks.max() ?? 1
        guard maxK <= base.rows else {
            throw AnnoyError("query.k", "k=\(maxK) is larger than the collection: '\(c.base)' holds \(base.rows) vectors")
        }
        try FileManager.default.createDirectory(atPath: c.out + "/raw", withIntermediateDirectories: true)
        let started = ISO8601DateFormatter().string(from: Date())
        var env = Machine.environment(c)
        let (gt, exact) = try groundTruth(c, base: base, queries: queries, k: maxK)
        try NPY.writeInts(gt.flatMap { $0.map(Int.init) }, rows: gt.count, cols: maxK, to: c.out + "/ground_truth.npy")

        let grid = c.trees.count * c.ks.count * c.searchKs.count + (c.hnsw?.runsPerK ?? 0) * c.ks.count
            + (c.exactFamily ? c.ks.count : 0)
        let bar = ProgressBar(total: grid, label: "eval", unit: "settings", enabled: progress)
        var runs: [RunRecord] = []
        if c.exactFamily { runs += try runExact(c, base: base, queries: queries, gt: gt, bar: bar) }
        runs += try runAnnoy(c, base: base, queries: queries, gt: gt, bar: bar)
        runs += try runHNSW(c, base: base, queries: queries, gt: gt, bar: bar)
        bar.finish()
        env.loadAverageEnd = Machine.loadAverage()
        return SweepResult(config: c, items: base.rows, dimension: base.cols, queryCount: queries.rows,
                           startedAt: started, environment: env, exact: exact, runs: runs, seconds: Clock.now() - sweepStart)
    }

    static func runAnnoy(_ c: SweepConfig, base: Matrix, queries: Matrix, gt: [[Int32]], bar: ProgressBar) throws -> [RunRecord] {
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
            let rssBefore = Machine.trimmedResidentBytes()
            let t0 = Clock.now()
            // Read into private memory, as `clipwb serve` holds its index.
            let ix = try AnnoyIndex(path: indexPath, metric: c.metric, dimension: base.cols, backing: .privateCopy)
            let loadSeconds = Clock.now() - t0
            let searcher = Searcher(index: ix)
            var ids: [Int32] = [], dists: [Float] = []
            try ix.checkParameters(k: c.ks[0], searchK: nil)
            let cold = queries.data.withUnsafeBufferPointer { q -> Double in
                let t1 = Clock.now()
                searcher.query(q.baseAddress!, k: c.ks[0], searchK: -1, ids: &ids, distances: &dists)
                return (Clock.now() - t1) * 1e6
            }
            // Warm-up: every query once at the first k, Annoy's default search_k.
            Timing.warmUp(queries) { searcher.query($0, k: c.ks[0], searchK: -1, ids: &ids, distances: &dists) }
            let resident = max(0, Machine.residentBytes() - rssBefore)
            for k in c.ks {
                for sk in c.searchKs {
                    defer { bar.advance() }
                    if sk != -1 && sk < k { continue }
                    try ix.checkParameters(k: k, searchK: sk)
                    let name = "trees\(t)-k\(k)-sk\(sk == -1 ? "auto" : String(sk))"
                    let timed = Timing.measure(queries, runs: c.runs, single: { q, out in
                        searcher.query(q, k: k, searchK: sk, ids: &out, distances: &dists)
                    }, batch: { _ = ix.search(queries, k: k, searchK: sk, threads: c.queryThreads) })
                    var r = try record(timed, family: "annoy", name: name, k: k, c: c, base: base, queries: queries, gt: gt)
                    r.trees = t; r.searchK = sk; r.effectiveSearchK = sk == -1 ? k * ix.treeCount : sk
                    r.coldFirstQueryUs = cold; r.buildSeconds = buildSeconds; r.prepareSeconds = prepareSeconds
                    r.indexBytes = ix.fileSize; r.loadSeconds = loadSeconds; r.indexResidentBytes = resident
                    runs.append(r)
                }
            }
        }
        return runs
    }

    /// A measured setting → its record: raw ids and times written, recall scored, timings summarised.
    static func record(_ t: Timing.Result, family: String, name: String, k: Int, c: SweepConfig, base: Matrix,
                       queries: Matrix, gt: [[Int32]]) throws -> RunRecord {
        let (idsPath, timesPath, recall) = try recordRaw(name, ids: t.ids, times: t.times, k: k, c: c, base: base, queries: queries, gt: gt)
        let s = t.summary(queries: queries.rows)
        return RunRecord(family: family, trees: nil, k: k, searchK: nil, effectiveSearchK: nil,
                         recall: Metrics.mean(recall), p50Us: s.p50, p50UsBest: s.p50Best,
                         p99Us: queries.rows >= Timing.p99MinimumQueries ? s.p99 : nil, meanUs: s.mean,
                         qpsSingle: s.qps, qpsSingleBest: s.qpsBest, qpsBatched: s.qpsBatched, qpsBatchedBest: s.qpsBatchedBest,
                         batchThreads: c.queryThreads, runs: c.runs, coldFirstQueryUs: 0, buildSeconds: [:], indexBytes: 0,
                         processRssBytes: Machine.residentBytes(), loadSeconds: 0, peakRssBytes: peakRSS(),
                         loadAverage: Machine.loadAverage().first ?? .nan, rawIds: idsPath, rawTimesUs: timesPath)
    }

    /// Writes a run's result ids (padded with -1 to k) and per-query µs ([queries, runs]) under raw/, and scores
    /// the ids against the ground truth: (ids path, times path, per-query recall). Every family's runs go through here.
    static func recordRaw(_ name: String, ids all: [[Int32]], times: [[Double]], k: Int, c: SweepConfig, base: Matrix,
                          queries: Matrix, gt: [[Int32]]) throws -> (String, String, [Double]) {
        let idsPath = "raw/\(name)-ids.npy", timesPath = "raw/\(name)-us.npy"
        try NPY.writeInts(all.flatMap { row in row.map(Int.init) + [Int](repeating: -1, count: k - row.count) },
                          rows: queries.rows, cols: k, to: c.out + "/" + idsPath)
        // times: [runs][queries] → [queries, runs] row-major.
        let runs = times.count
        var m = Matrix(rows: queries.rows, cols: runs)
        for r in 0..<runs { for i in 0..<queries.rows { m.data[i * runs + r] = Float(times[r][i]) } }
        try NPY.write(m, to: c.out + "/" + timesPath)
        let recall = Metrics.recall(metric: c.metric, base: base, queries: queries, groundTruth: gt, results: all, k: k)
        return (idsPath, timesPath, recall)
    }

    /// Ground truth from a file (ids; at least max k columns) or from exact BLAS search.
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
