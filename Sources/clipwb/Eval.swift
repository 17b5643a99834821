// `clipwb eval`: the sweep over Annoy, HNSW and exact search at each k → results.json, results.csv, report.md,
// plots (SVG, PNG), and with --target-recall a recommendation (recommendation.json).
// A shell over ClipEval.Sweep.
import AnnoyIndex
import ArgumentParser
import ClipCore
import ClipEval
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Sweep Annoy (trees × search_k), HNSW (M × ef_construction × ef) and exact search at each k: recall, latency, build time, memory, plots, a recommendation.",
        discussion: """
        Inputs: float32 .npy, .fvecs (.ivecs for ground truth), or ann-benchmarks HDF5 as FILE.hdf5:train, \
        FILE.hdf5:test, FILE.hdf5:neighbors; or --images DIR --weights W (the folder embedded once, cached in --out, \
        queried with --texts or with held-out images). Without --ground-truth, exact BLAS search provides it. \
        Exact search is measured as a family beside the indexes (one query on one thread, and batched). \
        --trees none leaves Annoy out. --target-recall R prints, per k, the cheapest setting reaching R (or that \
        exact search wins) and writes recommendation.json for `clipwb ingest --index-config`.
        """)

    @Option(help: "Base vectors to index.") var vectors: String?
    @Option(name: .customLong("from-results"), help: "No sweep: re-derive the report, plots and (with --target-recall) the recommendation from a recorded results.json.") var fromResults: String?
    @Option(help: "Query vectors.") var queries: String?
    @Option(name: .customLong("ground-truth"), help: "Neighbour ids [queries, ≥ max k] (.npy, .ivecs, FILE.hdf5:neighbors).") var groundTruth: String?
    @Option(help: "Embed this folder of images (recursively) and evaluate on its embeddings (needs --weights); cached in --out.") var images: String?
    @Option(help: "CLIP weights for --images (and --texts).") var weights: String?
    @Option(help: "With --images: query with these texts' embeddings (one per line) instead of held-out images.") var texts: String?
    @Option(help: "With --images and no --texts: images held out as queries (default: a tenth, at most 200).") var holdout: Int?
    @Option(name: [.customLong("batch-size")], help: "With --images: images per forward pass.") var batchSize: Int = 16
    @Option(help: "Tree counts, comma-separated, or none (no Annoy runs).") var trees: String = "1,2,5,10,25,50,100"
    @Option(name: .customLong("search-k"), help: "search_k values: auto (k × trees) and/or numbers, comma-separated.") var searchK: String = "auto"
    @Option(help: "k values, comma-separated.") var k: String = "1,10,100"
    @Option(help: "angular, euclidean or dot.") var metric: String = "angular"
    @Option(help: "Seed of the tree builds (and of the held-out images).") var seed: UInt64 = Kiss64Random.defaultSeed
    @Option(name: .customLong("build-threads"), help: "Build thread counts to time, comma-separated; the last one's index is queried.") var buildThreads: String = "2"
    @Option(help: "Threads for the batched queries/s figure (exact search: OpenBLAS threads).") var threads: Int = 2
    @Option(help: "Times every setting's queries run; p50 and queries/s are the median run, the best is kept too.") var runs: Int = 3
    @Option(help: "Output folder, e.g. eval/results/NAME/.") var out: String
    @Option(name: .customLong("hnsw-m"), help: "HNSW M values (≥ 2), comma-separated; without it, no HNSW runs.") var hnswM: String?
    @Option(name: .customLong("hnsw-ef-construction"), help: "HNSW ef_construction values, comma-separated.") var hnswEfConstruction: String = "200"
    @Option(name: .customLong("hnsw-ef"), help: "HNSW ef values to query each graph at, comma-separated.") var hnswEf: String = "10,20,50,100,200"
    @Option(name: .customLong("hnsw-seed"), help: "hnswlib's random_seed for the HNSW builds.") var hnswSeed: Int = 100
    @Option(name: .customLong("target-recall"), help: "Recommend, per k, the cheapest setting reaching this recall@k (0 < R ≤ 1); writes recommendation.json.") var targetRecall: Double?
    @Option(help: "What cheapest means: p50 (latency, one query on one thread), qps (batched queries/s), memory (index resident bytes).") var optimize: Objective = .p50
    @Flag(inversion: .prefixedNo, help: "Render each SVG plot as PNG too (rsvg-convert, else headless Chromium).") var png = true
    @Flag(help: "Print the recommendation (or, without --target-recall, the output files) as JSON.") var json = false

    static func ints(_ s: String, _ flag: String, allowAuto: Bool = false) throws -> [Int] {
        try s.split(separator: ",").map { part in
            let p = part.trimmingCharacters(in: .whitespaces)
            if allowAuto && (p == "auto" || p == "-1") { return -1 }
            guard let v = Int(p), v >= 1 else {
                throw ValidationError("\(flag) takes positive integers\(allowAuto ? " or auto" : "") separated by commas; '\(p)' is not one")
            }
            return v
        }
    }

    func validate() throws {
        if let r = targetRecall, !(r > 0 && r <= 1) { throw ValidationError("--target-recall must be in (0, 1], e.g. 0.95; got \(r)") }
        if fromResults != nil {
            guard vectors == nil, queries == nil, images == nil else {
                throw ValidationError("--from-results reads a recorded sweep: leave out --vectors, --queries and --images")
            }
            return
        }
        if images != nil {
            guard weights != nil else { throw ValidationError("--images needs --weights (the CLIP weights to embed the folder with)") }
            guard vectors == nil, queries == nil, groundTruth == nil else {
                throw ValidationError("--images replaces --vectors/--queries/--ground-truth: pass one or the other")
            }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: images!, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("'\(images!)' is not a folder; pass a folder of images to --images")
            }
            if let holdout, holdout < 1 { throw ValidationError("--holdout must be at least 1") }
            if texts != nil && holdout != nil { throw ValidationError("--texts queries with texts; --holdout is for image queries: pass one") }
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        } else {
            if weights != nil || texts != nil { throw ValidationError("--weights and --texts go with --images DIR") }
            guard vectors != nil, queries != nil else { throw ValidationError("pass --vectors BASE and --queries Q (or --images DIR --weights W)") }
        }
        if trees != "none" { _ = try Self.ints(trees, "--trees") }
        if let hnswM {
            guard try Self.ints(hnswM, "--hnsw-m").allSatisfy({ $0 >= 2 }) else { throw ValidationError("--hnsw-m values must be at least 2") }
            _ = try Self.ints(hnswEfConstruction, "--hnsw-ef-construction")
            _ = try Self.ints(hnswEf, "--hnsw-ef")
            guard hnswSeed >= 0 else { throw ValidationError("--hnsw-seed must be at least 0") }
        }
        _ = try Self.ints(k, "--k")
        _ = try Self.ints(searchK, "--search-k", allowAuto: true)
        _ = try Self.ints(buildThreads, "--build-threads")
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1 (3 is ann-benchmarks' habit)") }
    }

    func run() throws {
        try reportingErrors {
            let ks = try Self.ints(k, "--k"), sks = try Self.ints(searchK, "--search-k", allowAuto: true)
            let treeCounts = trees == "none" ? [] : try Self.ints(trees, "--trees")
            for kk in ks where !treeCounts.isEmpty { for s in sks where s != -1 && s < kk {
                throw AnnoyError("query.search-k", "search_k=\(s) is smaller than k=\(kk): use search_k ≥ k (or auto)")
            } }
            #if DEBUG
            let configuration = "debug"
            #else
            let configuration = "release"
            #endif
            let outDir = out.hasSuffix("/") ? String(out.dropLast()) : out
            try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
            if let fromResults {
                let recorded = try JSONStyle.decoder().decode(SweepResult.self, from: Data(RegularFile.contents(fromResults)))
                return try report(recorded, out: outDir)
            }
            var base = vectors ?? "", query = queries ?? ""
            if let images, let weights {
                let set = try ImageEvalSet.make(folder: images, weights: weights, texts: texts, holdout: holdout,
                                                seed: seed, batch: batchSize, out: outDir)
                (base, query) = (set.base, set.queries)
                stderrLine(set.summary)
            }
            let c = SweepConfig(base: base, queries: query, groundTruth: groundTruth, metric: try Metric(parsing: metric),
                                trees: treeCounts, searchKs: sks, ks: ks, seed: seed,
                                buildThreads: try Self.ints(buildThreads, "--build-threads"), queryThreads: threads,
                                out: outDir, commit: gitCommit(), buildConfiguration: configuration,
                                hnsw: try hnswM.map { HNSWGrid(ms: try Self.ints($0, "--hnsw-m"),
                                                               efConstructions: try Self.ints(hnswEfConstruction, "--hnsw-ef-construction"),
                                                               efs: try Self.ints(hnswEf, "--hnsw-ef"), seed: hnswSeed) },
                                runs: runs)
            try report(try Sweep.run(c), out: c.out)
        }
    }

    /// Writes the outputs of a sweep (run now or recorded) and says what they are.
    func report(_ result: SweepResult, out: String) throws {
        let rec = targetRecall.map { Recommender.recommend(result, target: $0, objective: optimize) }
        var files = try Report.writeAll(result, to: out, recommendation: rec)
        if png { files += PlotImages.renderPNGs(files.filter { $0.hasSuffix(".svg") }, in: out) }
        if json, let rec { try printJSON(rec); return }
        if json { try printJSON(EvalOutput(out: out, files: files, settings: result.runs.count, seconds: result.seconds)); return }
        let main = Report.mainK(result)
        print("wrote \(out)/: \(result.runs.count) settings" + (fromResults == nil ? " in \(String(format: "%.1f", result.seconds)) s" : " (from \(fromResults!))"))
        print("  results.json, results.csv, report.md" + (rec != nil ? ", recommendation.json" : ""))
        print("  plot.svg: recall@\(main) vs queries/s; per k (" + result.config.ks.map { "k=\($0)" }.joined(separator: ", ")
              + "): plot-kK.svg (queries/s), plot-kK-build.svg (build time), plot-kK-size.svg (index size)"
              + (files.contains { $0.hasSuffix(".png") } ? ", each also as .png" : ""))
        if let note = result.p99Note { print("  " + note) }
        if let rec { print("\n" + Report.recommendationText(rec), terminator: "") }
    }
}

extension Objective: ExpressibleByArgument {}

struct EvalOutput: Encodable {
    var out: String
    var files: [String]
    var settings: Int
    var seconds: Double
}

/// The checked-out commit (with `-dirty` when the tree has changes), or "unknown".
func gitCommit() -> String {
    func git(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    guard let head = git(["rev-parse", "--short", "HEAD"]) else { return "unknown" }
    let dirty = (git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty ? "" : "-dirty"
    return head + dirty
}
