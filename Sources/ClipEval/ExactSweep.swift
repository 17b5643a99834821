// The exact family of a sweep: brute-force BLAS search measured as the indexes are, at every k. Single: each
// query alone ([1, d] · Xᵀ) with OpenBLAS on one thread, so it compares with the indexes' one-thread figures;
// batched: all queries as [q, d] · Xᵀ products with OpenBLAS on `queryThreads` threads.
import ClipCore
import Foundation

extension Sweep {
    static func runExact(_ c: SweepConfig, base: Matrix, queries: Matrix, gt: [[Int32]], bar: ProgressBar) throws -> [RunRecord] {
        let t0 = Clock.now()
        let exact = ExactSearch(base: base, metric: c.metric)
        let prepare = Clock.now() - t0
        var runs: [RunRecord] = []
        for k in c.ks {
            defer { bar.advance() }
            let timed = Machine.withBLASThreads(1) {
                Timing.measure(queries, runs: c.runs, single: { q, out in out = exact.search(q, k: k).ids },
                               batch: { Machine.withBLASThreads(c.queryThreads) { _ = exact.search(queries, k: k) } })
            }
            var r = try record(timed, family: "exact", name: "exact-k\(k)", k: k, c: c, base: base, queries: queries, gt: gt)
            r.buildSeconds = ["1": prepare]
            r.indexBytes = exact.memoryBytes
            r.indexResidentBytes = exact.memoryBytes
            runs.append(r)
        }
        return runs
    }
}
