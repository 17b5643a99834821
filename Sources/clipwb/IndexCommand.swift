// `clipwb index build|query`: Annoy-compatible forests or hnswlib HNSW graphs over float vectors.
// A shell over AnnoyIndex and HNSWIndex (IndexHNSW.swift).
import AnnoyIndex
import ArgumentParser
import ClipCore
import ClipEval
import Foundation
import HNSWIndex

enum IndexKind: String, ExpressibleByArgument, CaseIterable {
    case annoy, hnsw
}

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build and query Annoy-compatible indexes (spotify/annoy 1.17 file layout) or HNSW graphs (hnswlib's file).",
        subcommands: [IndexBuild.self, IndexQuery.self])
}

struct IndexBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a forest of random-projection trees (or an HNSW graph) and save it with a JSON sidecar.",
        discussion: """
        Annoy: the trees are Python annoy's for the same seed built with n_jobs=1, node for node. \
        HNSW (--kind hnsw): hnswlib's graph, items added in order on one thread, so the file is Python hnswlib's \
        for the same M, ef_construction, seed and space with add_items(num_threads=1).
        """)

    @Option(help: "annoy (a forest, --trees) or hnsw (an hnswlib graph, --m, --ef-construction).") var kind: IndexKind = .annoy
    @Option(help: "Vectors to index: float32 .npy [rows, dim], .fvecs, or FILE.hdf5[:train].") var vectors: String
    @Option(help: "Number of trees, for annoy (more: better recall, bigger file, slower build).") var trees: Int?
    @Option(help: "angular, euclidean or dot; for hnsw also hnswlib's names cosine (= angular), l2 (= euclidean), ip (= dot).") var metric: String = "angular"
    @Option(help: "Seed (default: Annoy's own Kiss64Random seed, \(Kiss64Random.defaultSeed); with --kind hnsw, hnswlib's random_seed 100).") var seed: UInt64?
    @Option(help: "Build threads, for annoy. As annoy's n_jobs: thread t builds floor((trees + t) / threads) trees from seed + t, so the forest depends on the count (1 = annoy's n_jobs=1 trees; same seed and count, same file).") var threads: Int = 2
    @Option(help: "HNSW links per element (2·M on level 0): more means better recall, more memory.") var m: Int = 16
    @Option(name: .customLong("ef-construction"), help: "HNSW candidate list while inserting: more means a better graph, a slower build.") var efConstruction: Int = 200
    @Option(help: "Index file to write (the sidecar goes to OUT.json).") var out: String
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        switch kind {
        case .annoy:
            guard let trees else { throw ValidationError("--trees is needed for an Annoy index (or pass --kind hnsw)") }
            guard trees >= 1 else { throw ValidationError("--trees must be at least 1") }
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
            guard seed != 0 else { throw ValidationError("--seed must be nonzero (Kiss64Random's requirement)") }
        case .hnsw:
            guard trees == nil else { throw ValidationError("--trees is for Annoy; an HNSW graph takes --m and --ef-construction") }
            guard (2...32767).contains(m) else { throw ValidationError("--m must be in 2...32767") }
            guard efConstruction >= 1 else { throw ValidationError("--ef-construction must be at least 1") }
            guard (seed ?? 0) <= UInt64(Int.max) else { throw ValidationError("--seed must be below 2^63 for hnswlib") }
        }
    }

    func run() throws {
        if kind == .hnsw { return try runHNSW() }
        let trees = trees!, seed = seed ?? Kiss64Random.defaultSeed
        try reportingErrors {
            let m = try Metric(parsing: metric)
            let x = try VectorFiles.readFloats(vectors, what: "vector")
            let bar = ProgressBar(total: trees, label: "building", unit: "trees")
            let t0 = Clock.now()
            let built = try AnnoyBuilder.build(x, metric: m, options: BuildOptions(trees: trees, seed: seed, threads: threads)) {
                bar.advance()
            }
            bar.finish()
            let seconds = Clock.now() - t0
            try built.write(to: out)
            let side = IndexSidecar(dimension: x.cols, metric: m, trees: trees, seed: seed, threads: threads,
                                    items: x.rows, source: vectors)
            try side.write(for: out)
            let summary = BuildSummary(index: out, sidecar: IndexSidecar.path(for: out), items: x.rows, dimension: x.cols,
                                       metric: m.rawValue, trees: trees, seed: seed, threads: threads,
                                       nodes: built.nodeCount, bytes: built.fileSize, seconds: seconds,
                                       prepareSeconds: built.prepareSeconds, treeSeconds: built.treeSeconds)
            if json { try printJSON(summary) } else {
                print("wrote \(out): \(x.rows) items × \(x.cols), \(m.rawValue), \(trees) trees, \(built.nodeCount) nodes, \(built.fileSize) bytes in \(String(format: "%.2f", seconds)) s (items \(String(format: "%.2f", built.prepareSeconds)) s, trees \(String(format: "%.2f", built.treeSeconds)) s; \(threads) threads, seed \(seed))")
            }
        }
    }
}

struct BuildSummary: Encodable {
    let index: String, sidecar: String, items: Int, dimension: Int, metric: String, trees: Int
    let seed: UInt64, threads: Int, nodes: Int, bytes: Int, seconds: Double, prepareSeconds: Double, treeSeconds: Double
}

struct IndexQuery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Find the k nearest items of each query vector.")

    @Option(help: "annoy or hnsw (default: what the sidecar INDEX.json says, else annoy).") var kind: IndexKind?
    @Option(help: "Index file (its sidecar INDEX.json gives the dimension and metric).") var index: String
    @Option(help: "Query vectors: float32 .npy [queries, dim], .fvecs, or FILE.hdf5:test.") var vectors: String
    @Option(help: "Neighbours per query.") var k: Int
    @Option(name: .customLong("search-k"), help: "Nodes to inspect (Annoy's search_k; default k × trees).") var searchK: Int?
    @Flag(help: "Exact search with BLAS over the index's own vectors instead of the trees.") var exact = false
    @Option(help: "HNSW search candidate list (hnswlib's ef; default 10, as hnswlib's; at least k is used).") var ef: Int?
    @Option(help: "Dimension, for index files without a sidecar (saved by Python annoy or hnswlib).") var dim: Int?
    @Option(help: "Metric, for index files without a sidecar.") var metric: String?
    @Option(help: "Query threads.") var threads: Int = 2
    @Flag(help: "Print ids and distances as JSON.") var json = false
    @Option(help: "Write the ids as an int64 .npy [queries, k] instead of printing them.") var out: String?

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if json && out != nil { throw ValidationError("choose one of --json and --out") }
        if let ef, ef < 1 { throw ValidationError("--ef must be at least 1") }
    }

    func run() throws {
        if try resolvedKind() == .hnsw { return try runHNSW() }
        if ef != nil { throw ValidationError("--ef is for HNSW indexes; an Annoy index takes --search-k") }
        try reportingErrors {
            let (ix, _) = try AnnoyIndex.open(path: index, dimension: dim, metric: try metric.map { try Metric(parsing: $0) })
            let q = try VectorFiles.readFloats(vectors, what: "query", defaultDataset: "test")
            try ix.checkQueries(q)
            try ix.checkParameters(k: k, searchK: searchK)
            let result: (ids: [[Int32]], distances: [[Float]])
            let t0 = Clock.now()
            defer {
                let s = Clock.now() - t0
                stderrLine("searched \(q.rows) queries in \(String(format: "%.3f", s)) s on \(exact ? "BLAS" : "\(threads) thread(s)") (\(Int(Double(q.rows) / max(s, 1e-9))) queries/s)")
            }
            if exact {
                let base = Matrix(rows: ix.itemCount, cols: ix.dimension, data: (0..<ix.itemCount).flatMap { ix.item($0) })
                result = ExactSearch(base: base, metric: ix.metric).search(q, k: k)
            } else {
                result = ix.search(q, k: k, searchK: searchK ?? -1, threads: threads)
            }
            if let out {
                let width = result.ids.map(\.count).max() ?? 0
                let flat = result.ids.flatMap { row in row.map(Int.init) + [Int](repeating: -1, count: width - row.count) }
                try NPY.writeInts(flat, rows: q.rows, cols: width, to: out)
                print("wrote \(out): \(q.rows) × \(width) ids (-1 pads rows with fewer results)")
            } else if json {
                try printJSON(QueryOutput(ids: result.ids, distances: result.distances))
            } else {
                for (i, row) in result.ids.enumerated() {
                    print("\(i): " + zip(row, result.distances[i]).map { "\($0.0) (\(String(format: "%.4f", $0.1)))" }.joined(separator: " "))
                }
            }
        }
    }
}

struct QueryOutput: Encodable {
    let ids: [[Int32]]
    let distances: [[Float]]
}
