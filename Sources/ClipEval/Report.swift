// Writing a sweep: results.json (everything, with provenance), results.csv (one row per run),
// report.md (the table), plot.svg (recall vs queries/s).
import ClipCore
import Foundation

public enum Report {
    public static func writeAll(_ r: SweepResult, to dir: String) throws {
        try AtomicFile.write(dir + "/results.json", chunks: [Array(try JSONStyle.encoder().encode(r)) + [10]])
        try AtomicFile.write(dir + "/results.csv", chunks: [Array(csv(r).utf8)])
        try AtomicFile.write(dir + "/report.md", chunks: [Array(markdown(r).utf8)])
        let k = r.config.ks.contains(10) ? 10 : r.config.ks[0]
        try AtomicFile.write(dir + "/plot.svg", chunks: [Array(SVGPlot.recallVsQPS(r, k: k).utf8)])
        for other in r.config.ks where other != k {
            try AtomicFile.write(dir + "/plot-k\(other).svg", chunks: [Array(SVGPlot.recallVsQPS(r, k: other).utf8)])
        }
    }

    static func sk(_ s: Int?) -> String { s.map { $0 == -1 ? "auto" : String($0) } ?? "" }
    static func opt(_ v: Int?) -> String { v.map(String.init) ?? "" }

    public static func csv(_ r: SweepResult) -> String {
        let threads = r.config.buildThreads
        var out = "family,trees,k,search_k,effective_search_k,m,ef_construction,ef,recall,p50_us,p99_us,mean_us,qps_1thread,qps_batched,batch_threads,cold_first_query_us,"
            + threads.map { "build_s_\($0)thread" }.joined(separator: ",") + ","
            + threads.map { "prepare_s_\($0)thread" }.joined(separator: ",")
            + ",index_bytes,load_s,peak_rss_bytes,raw_ids,raw_times_us\n"
        for x in r.runs {
            let cells: [String] = [x.family, opt(x.trees), String(x.k), sk(x.searchK), opt(x.effectiveSearchK),
                                   opt(x.m), opt(x.efConstruction), opt(x.ef), f(x.recall, 4), f(x.p50Us, 1), f(x.p99Us, 1), f(x.meanUs, 1), f(x.qpsSingle, 1),
                                   f(x.qpsBatched, 1), String(x.batchThreads), f(x.coldFirstQueryUs, 1)]
                + threads.map { f(x.buildSeconds[String($0)] ?? .nan, 3) }
                + threads.map { f(x.prepareSeconds[String($0)] ?? .nan, 3) }
                + [String(x.indexBytes), f(x.loadSeconds, 5), String(x.peakRssBytes), x.rawIds, x.rawTimesUs]
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    public static func markdown(_ r: SweepResult) -> String {
        let c = r.config
        var s = """
        # clipwb eval: \(c.metric.rawValue), \(r.items) × \(r.dimension), \(r.queryCount) queries

        - base `\(c.base)`, queries `\(c.queries)`, ground truth: \(r.exact.source)
        - commit `\(c.commit)`, \(c.buildConfiguration) build, seed \(c.seed), build threads \(c.buildThreads.map(String.init).joined(separator: ", ")) (queried: \(c.buildThreads.last ?? 1)), batch threads \(c.queryThreads), started \(r.startedAt)
        - exact search (BLAS sgemm, batched): \(f(r.exact.qps, 1)) queries/s, \(f(r.exact.seconds, 2)) s for k=\(r.exact.k)
        - build s: building the trees (what Annoy's build() times); item preparation (Annoy's add_item) is in results.csv as prepare_s
        - recall@k: ann-benchmarks' tie-tolerant definition (a result counts when its true distance ≤ the k-th true neighbour's + 1e-3); latency: each query alone on one thread

        | trees | k | search_k | recall@k | p50 µs | p99 µs | QPS 1 thread | QPS batched | cold 1st query µs | \(c.buildThreads.map { "build s (\($0) thr)" }.joined(separator: " | ")) | index MB | load ms | peak RSS MB |
        |---:|---:|---:|---:|---:|---:|---:|---:|---:|\(c.buildThreads.map { _ in "---:|" }.joined())---:|---:|---:|

        """
        for x in r.runs where x.family == "annoy" {
            let builds = c.buildThreads.map { f(x.buildSeconds[String($0)] ?? .nan, 2) }.joined(separator: " | ")
            s += "| \(opt(x.trees)) | \(x.k) | \(sk(x.searchK)) (\(opt(x.effectiveSearchK))) | \(f(x.recall, 4)) | \(f(x.p50Us, 1)) | \(f(x.p99Us, 1)) | \(f(x.qpsSingle, 0)) | \(f(x.qpsBatched, 0)) | \(f(x.coldFirstQueryUs, 1)) | \(builds) | \(f(Double(x.indexBytes) / 1e6, 1)) | \(f(x.loadSeconds * 1e3, 2)) | \(f(Double(x.peakRssBytes) / 1e6, 0)) |\n"
        }
        s += hnswTable(r)
        s += "\nRaw per-query ids and times: `raw/` (one .npy pair per row above); ground truth ids: `ground_truth.npy`. Plot: `plot.svg`.\n"
        return s
    }

    /// The HNSW runs (hnswlib graphs; build on one thread, items added in order), when the sweep has any.
    static func hnswTable(_ r: SweepResult) -> String {
        let runs = r.runs.filter { $0.family == "hnsw" }
        guard !runs.isEmpty else { return "" }
        var s = """

        HNSW (hnswlib \(r.config.hnsw.map { "seed \($0.seed)" } ?? ""); build on 1 thread; ef below k searches with k):

        | M | ef_construction | k | ef | recall@k | p50 µs | p99 µs | QPS 1 thread | QPS batched | cold 1st query µs | build s (1 thr) | index MB | load ms | peak RSS MB |
        |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|

        """
        for x in runs {
            s += "| \(opt(x.m)) | \(opt(x.efConstruction)) | \(x.k) | \(opt(x.ef)) | \(f(x.recall, 4)) | \(f(x.p50Us, 1)) | \(f(x.p99Us, 1)) | \(f(x.qpsSingle, 0)) | \(f(x.qpsBatched, 0)) | \(f(x.coldFirstQueryUs, 1)) | \(f(x.buildSeconds["1"] ?? .nan, 2)) | \(f(Double(x.indexBytes) / 1e6, 1)) | \(f(x.loadSeconds * 1e3, 2)) | \(f(Double(x.peakRssBytes) / 1e6, 0)) |\n"
        }
        return s
    }

    static func f(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "–" }
        return String(format: "%.\(digits)f", v)
    }
}
