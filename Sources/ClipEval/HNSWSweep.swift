// The HNSW family of a sweep: one hnswlib graph per (M, ef_construction), queried at every (k, ef), measured
// exactly as the Annoy runs are (each query alone on one thread, then the batch; raw ids and times stored).
import AnnoyIndex
import ClipCore
import Foundation
import HNSWIndex

extension HNSWSpace {
    /// The hnswlib space ranking as the metric does: angular → cosine, euclidean → l2 (squared), dot → ip.
    public init(_ metric: Metric) {
        switch metric {
        case .angular: self = .cosine
        case .euclidean: self = .l2
        case .dot: self = .ip
        }
    }
}

extension Sweep {
    static func runHNSW(_ c: SweepConfig, base: Matrix, queries: Matrix, gt: [[Int32]], bar: ProgressBar) throws -> [RunRecord] {
        guard let grid = c.hnsw, grid.runsPerK > 0 else { return [] }
        var runs: [RunRecord] = []
        let path = c.out + "/index.hnsw"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for m in grid.ms {
            for efc in grid.efConstructions {
                let params = HNSWParameters(m: m, efConstruction: efc, seed: grid.seed)
                let t0 = Clock.now()
                let built = try HNSWIndex(space: HNSWSpace(c.metric), dimension: base.cols, capacity: base.rows, parameters: params)
                try built.add(base)
                let buildSeconds = Clock.now() - t0
                try built.save(to: path)
                let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                let t1 = Clock.now()
                let ix = try HNSWIndex(path: path, space: HNSWSpace(c.metric), dimension: base.cols)
                let loadSeconds = Clock.now() - t1
                var ids: [UInt64] = [], dists: [Float] = []
                let cold = try queries.data.withUnsafeBufferPointer { q -> Double in
                    let t2 = Clock.now()
                    try ix.search(q.baseAddress!, k: c.ks[0], ids: &ids, distances: &dists)
                    return (Clock.now() - t2) * 1e6
                }
                for k in c.ks {
                    for ef in grid.efs {
                        defer { bar.advance() }
                        try ix.setEf(ef)
                        var r = try measureHNSW(ix, queries, base: base, gt: gt, k: k, c: c, name: "hnsw-m\(m)-efc\(efc)-k\(k)-ef\(ef)")
                        r.m = m; r.efConstruction = efc; r.ef = ef
                        r.coldFirstQueryUs = cold; r.buildSeconds = ["1": buildSeconds]
                        r.indexBytes = bytes; r.loadSeconds = loadSeconds
                        runs.append(r)
                    }
                }
            }
        }
        return runs
    }

    static func measureHNSW(_ ix: HNSWIndex, _ queries: Matrix, base: Matrix, gt: [[Int32]], k: Int, c: SweepConfig,
                            name: String) throws -> RunRecord {
        var all = [[Int32]](repeating: [], count: queries.rows)
        var times = [Double](repeating: 0, count: queries.rows)
        var ids: [UInt64] = [], dists: [Float] = []
        try queries.data.withUnsafeBufferPointer { q in
            for i in 0..<queries.rows {
                let t0 = Clock.now()
                try ix.search(q.baseAddress! + i * queries.cols, k: k, ids: &ids, distances: &dists)
                times[i] = (Clock.now() - t0) * 1e6
                all[i] = ids.map { Int32(truncatingIfNeeded: $0) }  // labels are row numbers < base.rows
            }
        }
        let t0 = Clock.now()
        _ = try ix.search(queries, k: k, threads: c.queryThreads)
        let batchSeconds = Clock.now() - t0
        let (idsPath, timesPath, recall) = try recordRaw(name, ids: all, times: times, k: k, c: c, base: base, queries: queries, gt: gt)
        return RunRecord(family: "hnsw", trees: nil, k: k, searchK: nil, effectiveSearchK: nil,
                         recall: Metrics.mean(recall), p50Us: Metrics.percentile(times, 50),
                         p99Us: Metrics.percentile(times, 99), meanUs: Metrics.mean(times),
                         qpsSingle: Double(queries.rows) / times.reduce(0, +) * 1e6,
                         qpsBatched: Double(queries.rows) / batchSeconds, batchThreads: c.queryThreads,
                         coldFirstQueryUs: 0, buildSeconds: [:], indexBytes: 0, loadSeconds: 0,
                         peakRssBytes: peakRSS(), rawIds: idsPath, rawTimesUs: timesPath)
    }
}
