// Writing a sweep: results.json (everything, with provenance), results.csv (one row per setting),
// report.md (the tables), and per k the plots (SVGPlot): recall vs queries/s, vs build time, vs index size.
import ClipCore
import Foundation

public enum Report {
    /// Writes every output; returns the file names written (relative to `dir`), the main k's plot first among plots.
    @discardableResult
    public static func writeAll(_ r: SweepResult, to dir: String, recommendation: Recommendation? = nil) throws -> [String] {
        var files = ["results.json", "results.csv", "report.md"]
        try AtomicFile.write(dir + "/results.json", chunks: [Array(try JSONStyle.encoder().encode(r)) + [10]])
        try AtomicFile.write(dir + "/results.csv", chunks: [Array(csv(r).utf8)])
        try AtomicFile.write(dir + "/report.md", chunks: [Array(markdown(r, recommendation: recommendation).utf8)])
        if let recommendation {
            try AtomicFile.write(dir + "/recommendation.json", chunks: [Array(try JSONStyle.encoder().encode(recommendation)) + [10]])
            files.append("recommendation.json")
        }
        for (name, svg) in SVGPlot.all(r, target: recommendation?.targetRecall) {
            try AtomicFile.write(dir + "/" + name, chunks: [Array(svg.utf8)])
            files.append(name)
        }
        return files
    }

    /// The k the main plot (plot.svg) shows: 10 when swept, else the first.
    public static func mainK(_ r: SweepResult) -> Int { r.config.ks.contains(10) ? 10 : r.config.ks[0] }

    static func sk(_ s: Int?) -> String { s.map { $0 == -1 ? "auto" : String($0) } ?? "" }
    static func opt(_ v: Int?) -> String { v.map(String.init) ?? "" }
    static func mb(_ bytes: Int) -> String { f(Double(bytes) / 1e6, 1) + " MB" }

    public static func csv(_ r: SweepResult) -> String {
        let threads = r.config.buildThreads
        var out = "family,trees,k,search_k,effective_search_k,m,ef_construction,ef,recall,p50_us,p50_us_best,p99_us,mean_us,qps_1thread,qps_1thread_best,qps_batched,qps_batched_best,batch_threads,runs,cold_first_query_us,"
            + threads.map { "build_s_\($0)thread" }.joined(separator: ",") + ","
            + threads.map { "prepare_s_\($0)thread" }.joined(separator: ",")
            + ",index_bytes,index_resident_bytes,load_s,process_rss_bytes,peak_rss_bytes,load_average,raw_ids,raw_times_us\n"
        for x in r.runs {
            let build: [String] = x.family == "annoy" ? threads.map { f(x.buildSeconds[String($0)] ?? .nan, 3) }
                : threads.map { $0 == 1 ? f(x.buildSeconds["1"] ?? .nan, 3) : "" }
            let cells: [String] = [x.family, opt(x.trees), String(x.k), sk(x.searchK), opt(x.effectiveSearchK),
                                   opt(x.m), opt(x.efConstruction), opt(x.ef), f(x.recall, 4), f(x.p50Us, 1), f(x.p50UsBest, 1),
                                   x.p99Us.map { f($0, 1) } ?? "", f(x.meanUs, 1), f(x.qpsSingle, 1), f(x.qpsSingleBest, 1),
                                   f(x.qpsBatched, 1), f(x.qpsBatchedBest, 1), String(x.batchThreads), String(x.runs), f(x.coldFirstQueryUs, 1)]
                + build + threads.map { f(x.prepareSeconds[String($0)] ?? .nan, 3) }
                + [String(x.indexBytes), String(x.indexResidentBytes), f(x.loadSeconds, 5), String(x.processRssBytes),
                   String(x.peakRssBytes), f(x.loadAverage, 2), x.rawIds, x.rawTimesUs]
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    public static func markdown(_ r: SweepResult, recommendation: Recommendation? = nil) -> String {
        let c = r.config
        let env = r.environment
        let load = env.map { "\($0.loadAverageStart.map { f($0, 2) }.joined(separator: " ")) at the start, \($0.loadAverageEnd.map { f($0, 2) }.joined(separator: " ")) at the end" } ?? "not recorded"
        var s = """
        # clipwb eval: \(c.metric.rawValue), \(r.items) × \(r.dimension), \(r.queryCount) queries

        - base `\(c.base)`, queries `\(c.queries)`, ground truth: \(r.exact.source)
        - commit `\(c.commit)`, \(c.buildConfiguration) build, seed \(c.seed), build threads \(c.buildThreads.map(String.init).joined(separator: ", ")) (queried: \(c.buildThreads.last ?? 1)), batch threads \(c.queryThreads), started \(r.startedAt), took \(f(r.seconds, 1)) s
        - machine: \(env?.cpuModel ?? "unknown"), \(env?.logicalCpus ?? 0) logical CPUs, OpenBLAS threads \(env?.blasThreads ?? -1); load average (1, 5, 15 min): \(load)
        - every setting's queries ran \(c.runs) time\(c.runs == 1 ? "" : "s"): p50 and queries/s are the median run (best run in results.csv); \(r.p99Note ?? "p99 is the median run's")
        - latency and "QPS 1 thread": each query alone on one thread (exact: one [1, d] · Xᵀ BLAS product on one OpenBLAS thread); "QPS batched": all queries at once on \(c.queryThreads) thread\(c.queryThreads == 1 ? "" : "s") (exact: BLAS on \(c.queryThreads) threads)
        - memory: the index's own resident bytes after a warm-up pass (the process's resident set grew by this much when the index was read into memory and queried; exact: the vectors and norms it scans); the process's resident set is in results.csv
        - build s: building the trees (what Annoy's build() times); item preparation (Annoy's add_item) is in results.csv as prepare_s
        - recall@k: ann-benchmarks' tie-tolerant definition (a result counts when its true distance ≤ the k-th true neighbour's + 1e-3)

        """
        if let rec = recommendation { s += "\n" + recommendationText(rec) }
        s += "\n" + table(r, family: "exact", title: "Exact search (BLAS)", params: ["k"]) { [String($0.k)] }
        s += table(r, family: "annoy", title: "Annoy", params: ["trees", "k", "search_k"]) {
            [opt($0.trees), String($0.k), "\(sk($0.searchK)) (\(opt($0.effectiveSearchK)))"]
        }
        s += table(r, family: "hnsw", title: "HNSW (hnswlib \(c.hnsw.map { "seed \($0.seed)" } ?? ""); build on 1 thread; ef below k searches with k)",
                   params: ["M", "ef_construction", "k", "ef"]) {
            [opt($0.m), opt($0.efConstruction), String($0.k), opt($0.ef)]
        }
        s += "\nRaw per-query ids and times (µs, one column per run): `raw/`; ground truth ids: `ground_truth.npy`. Plots: "
            + SVGPlot.names(r).map { "`\($0)`" }.joined(separator: ", ") + ".\n"
        return s
    }

    static func table(_ r: SweepResult, family: String, title: String, params: [String], cells: (RunRecord) -> [String]) -> String {
        let runs = r.runs.filter { $0.family == family }
        guard !runs.isEmpty else { return "" }
        let cols = params + ["recall@k", "p50 µs", "p99 µs", "QPS 1 thread", "QPS batched", "build s", "index MB", "resident MB", "load ms"]
        var s = "\n## \(title)\n\n| " + cols.joined(separator: " | ") + " |\n|" + String(repeating: "---:|", count: cols.count) + "\n"
        for x in runs {
            let row = cells(x) + [f(x.recall, 4), f(x.p50Us, 1), x.p99Us.map { f($0, 1) } ?? "–", f(x.qpsSingle, 0), f(x.qpsBatched, 0),
                                  f(x.buildSecondsQueried, 2), f(Double(x.indexBytes) / 1e6, 1), f(Double(x.indexResidentBytes) / 1e6, 1),
                                  f(x.loadSeconds * 1e3, 2)]
            s += "| " + row.joined(separator: " | ") + " |\n"
        }
        return s
    }

    /// The recommendation in words, one line per k (printed by `clipwb eval` and put in report.md).
    public static func recommendationText(_ rec: Recommendation) -> String {
        var s = "## Recommendation: recall ≥ \(rec.targetRecall), \(rec.objective)\n\n"
        for p in rec.picks { s += "- \(p.message)\n" }
        s += "\nApply it to a catalog: `clipwb ingest … --index-config recommendation.json` (k=\(rec.defaultK) unless `--index-config-k`).\n"
        return s
    }

    static func f(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "–" }
        return String(format: "%.\(digits)f", v)
    }
}
