// The HNSW family of a sweep: one hnswlib graph per (M, ef_construction), queried at every (k, ef), measured
// exactly as the Annoy runs are (Timing: each query alone on one thread, then the batch; raw ids and times stored).
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
                var built: HNSWIndex? = try HNSWIndex(space: HNSWSpace(c.metric), dimension: base.cols, capacity: base.rows, parameters: params)
                try built!.add(base)
                let buildSeconds = Clock.now() - t0
                try built!.save(to: path)
                built = nil
                let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                let rssBefore = Machine.trimmedResidentBytes()
                let t1 = Clock.now()
                let ix = try HNSWIndex(path: path, space: HNSWSpace(c.metric), dimension: base.cols)
                let loadSeconds = Clock.now() - t1
                var ids: [UInt64] = [], dists: [Float] = []
                let cold = try queries.data.withUnsafeBufferPointer { q -> Double in
                    let t2 = Clock.now()
                    try ix.search(q.baseAddress!, k: c.ks[0], ids: &ids, distances: &dists)
                    return (Clock.now() - t2) * 1e6
                }
                try Timing.warmUp(queries) { try ix.search($0, k: c.ks[0], ids: &ids, distances: &dists) }
                let resident = max(0, Machine.residentBytes() - rssBefore)
                for k in c.ks {
                    for ef in grid.efs {
                        defer { bar.advance() }
                        try ix.setEf(ef)
                        let timed = try Timing.measure(queries, runs: c.runs, single: { q, out in
                            try ix.search(q, k: k, ids: &ids, distances: &dists)
                            out = ids.map { Int32(truncatingIfNeeded: $0) }  // labels are row numbers < base.rows
                        }, batch: { _ = try ix.search(queries, k: k, threads: c.queryThreads) })
                        var r = try record(timed, family: "hnsw", name: "hnsw-m\(m)-efc\(efc)-k\(k)-ef\(ef)", k: k, c: c,
                                           base: base, queries: queries, gt: gt)
                        r.m = m; r.efConstruction = efc; r.ef = ef
                        r.coldFirstQueryUs = cold; r.buildSeconds = ["1": buildSeconds]
                        r.indexBytes = bytes; r.loadSeconds = loadSeconds; r.indexResidentBytes = resident
                        runs.append(r)
                    }
                }
            }
        }
        return runs
    }
}
