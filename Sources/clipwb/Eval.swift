// `clipwb eval`: the tree × search_k × k sweep (and HNSW's M × ef_construction × ef) → results.json, results.csv,
// report.md, plot.svg.
// A shell over ClipEval.Sweep.
import AnnoyIndex
import ArgumentParser
import ClipCore
import ClipEval
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Sweep trees × search_k × k (and HNSW M × ef_construction × ef) against exact search: recall, latency, build time, plots.",
        discussion: """
        Inputs: float32 .npy, .fvecs (.ivecs for ground truth), or ann-benchmarks HDF5 as FILE.hdf5:train, \
        FILE.hdf5:test, FILE.hdf5:neighbors. Without --ground-truth, exact BLAS search provides it. \
        HNSW runs (hnswlib, --hnsw-m with --hnsw-ef-construction and --hnsw-ef) sit beside the Annoy ones; \
        --trees none leaves Annoy out.
        """)

    @Option(help: "Base vectors to index.") var vectors: String?
    @Option(help: "Query vectors.") var queries: String?
    @Option(name: .customLong("ground-truth"), help: "Neighbour ids [queries, ≥ max k] (.npy, .ivecs, FILE.hdf5:neighbors).") var groundTruth: String?
    @Option(help: "Embed a folder of images first (needs --weights).") var images: String?
    @Option(help: "Converted CLIP weights, with --images.") var weights: String?
    @Option(help: "Tree counts, comma-separated, or none (no Annoy runs).") var trees: String = "1,2,5,10,25,50,100"
    @Option(name: .customLong("search-k"), help: "search_k values: auto (k × trees) and/or numbers, comma-separated.") var searchK: String = "auto"
    @Option(help: "k values, comma-separated.") var k: String = "1,10,100"
    @Option(help: "angular, euclidean or dot.") var metric: String = "angular"
    @Option(help: "Seed of the tree builds.") var seed: UInt64 = Kiss64Random.defaultSeed
    @Option(name: .customLong("build-threads"), help: "Build thread counts to time, comma-separated; the last one's index is queried.") var buildThreads: String = "2"
    @Option(help: "Threads for the batched queries/s figure.") var threads: Int = 2
    @Option(help: "Output folder, e.g. eval/results/NAME/.") var out: String
    @Option(name: .customLong("hnsw-m"), help: "HNSW M values (≥ 2), comma-separated; without it, no HNSW runs.") var hnswM: String?
    @Option(name: .customLong("hnsw-ef-construction"), help: "HNSW ef_construction values, comma-separated.") var hnswEfConstruction: String = "200"
    @Option(name: .customLong("hnsw-ef"), help: "HNSW ef values to query each graph at, comma-separated.") var hnswEf: String = "10,20,50,100,200"
    @Option(name: .customLong("hnsw-seed"), help: "hnswlib's random_seed for the HNSW builds.") var hnswSeed: Int = 100

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
        if images != nil || weights != nil {
            throw ValidationError("--images/--weights are not available yet: they need the image encoder. Embed the folder with `clipwb embed` and pass the .npy with --vectors")
        }
        guard vectors != nil, queries != nil else { throw ValidationError("pass --vectors BASE and --queries Q") }
        if trees != "none" { _ = try Self.ints(trees, "--trees") }
        if let hnswM {
            guard try Self.ints(hnswM, "--hnsw-m").allSatisfy({ $0 >= 2 }) else { throw ValidationError("--hnsw-m values must be at least 2") }
            _ = try Self.ints(hnswEfConstruction, "--hnsw-ef-construction")
            _ = try Self.ints(hnswEf, "--hnsw-ef")
            guard hnswSeed >= 0 else { throw ValidationError("--hnsw-seed must be at least 0") }
        }
        if trees == "none" && hnswM == nil { throw ValidationError("--trees none leaves nothing to run: pass --hnsw-m too") }
        _ = try Self.ints(k, "--k")
        _ = try Self.ints(searchK, "--search-k", allowAuto: true)
        _ = try Self.ints(buildThreads, "--build-threads")
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
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
            let c = SweepConfig(base: vectors!, queries: queries!, groundTruth: groundTruth, metric: try Metric(parsing: metric),
                                trees: treeCounts, searchKs: sks, ks: ks, seed: seed,
                                buildThreads: try Self.ints(buildThreads, "--build-threads"), queryThreads: threads,
                                out: out.hasSuffix("/") ? String(out.dropLast()) : out, commit: gitCommit(),
                                buildConfiguration: configuration,
                                hnsw: try hnswM.map { HNSWGrid(ms: try Self.ints($0, "--hnsw-m"),
                                                               efConstructions: try Self.ints(hnswEfConstruction, "--hnsw-ef-construction"),
                                                               efs: try Self.ints(hnswEf, "--hnsw-ef"), seed: hnswSeed) })
            let result = try Sweep.run(c)
            try Report.writeAll(result, to: c.out)
            print("wrote \(c.out)/results.json, results.csv, report.md, plot.svg (\(result.runs.count) runs)")
        }
    }
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
