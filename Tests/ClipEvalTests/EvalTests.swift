import Testing
import Foundation
import AnnoyIndex
@testable import ClipEval
import ClipCore

private func vectors(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
    var rng = Kiss64Random(seed: seed)
    return Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in Float(rng.kiss() >> 40) / Float(1 << 24) - 0.5 })
}

private func tempDir() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-eval-\(UUID())").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

private func message(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let e as ClipwbError { return e.message } catch { return "\(error)" }
}

@Suite struct EvalTests {
    @Test(arguments: Metric.allCases)
    func exactSearchMatchesItsNaiveTwin(metric: Metric) {
        let base = vectors(700, 33, seed: 1), q = vectors(12, 33, seed: 2)
        let exact = ExactSearch(base: base, metric: metric)
        let got = exact.search(q, k: 7, batch: 5), one = exact.search(q, k: 7, batch: 1)  // sgemm, and sgemv per query
        for i in 0..<q.rows {
            #expect(got.ids[i] == exact.naiveSearch(Array(q.row(i)), k: 7))
            #expect(one.ids[i] == got.ids[i])
        }
    }

    @Test func recallIsTieTolerant() {
        // Items 1 and 2 are the same point: returning either as the 1st neighbour is a full hit.
        let base = Matrix(rows: 4, cols: 2, data: [10, 0, 1, 0, 1, 0, 0, 5])
        let q = Matrix(rows: 1, cols: 2, data: [1, 0.001])
        let r = Metrics.recall(metric: .euclidean, base: base, queries: q, groundTruth: [[1, 2]], results: [[2]], k: 1)
        #expect(r == [1.0])
        let miss = Metrics.recall(metric: .euclidean, base: base, queries: q, groundTruth: [[1, 2]], results: [[3, 0]], k: 2)
        #expect(miss == [0.0])
        let half = Metrics.recall(metric: .euclidean, base: base, queries: q, groundTruth: [[1, 2]], results: [[2, 3]], k: 2)
        #expect(half == [0.5])
    }

    @Test func percentilesAreNearestRank() {
        let v = (1...100).map(Double.init)
        #expect(Metrics.percentile(v, 50) == 50)
        #expect(Metrics.percentile(v, 99) == 99)
        #expect(Metrics.percentile([3, 1, 2], 50) == 2)
    }

    @Test func fvecsAndIvecsRoundTrip() throws {
        let dir = try tempDir()
        var bytes: [UInt8] = []
        for r in 0..<3 {
            withUnsafeBytes(of: Int32(2)) { bytes += $0 }
            for c in 0..<2 { withUnsafeBytes(of: Float(r * 2 + c)) { bytes += $0 } }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/x.fvecs"))
        let m = try VectorFiles.readFloats(dir + "/x.fvecs")
        #expect(m.rows == 3 && m.cols == 2 && m.data == [0, 1, 2, 3, 4, 5])
        try Data(bytes.dropLast(3)).write(to: URL(fileURLWithPath: dir + "/bad.fvecs"))
        #expect(message { _ = try VectorFiles.readFloats(dir + "/bad.fvecs") }?.contains("is not a valid .fvecs file") == true)
        var ib: [UInt8] = []
        for r in 0..<2 { withUnsafeBytes(of: Int32(3)) { ib += $0 }; for c in 0..<3 { withUnsafeBytes(of: Int32(r * 3 + c)) { ib += $0 } } }
        try Data(ib).write(to: URL(fileURLWithPath: dir + "/g.ivecs"))
        let g = try VectorFiles.readInts(dir + "/g.ivecs")
        #expect(g.rows == 2 && g.cols == 3 && g.data == [0, 1, 2, 3, 4, 5])
    }

    @Test func npyThatIsNotFloat32Or2D() throws {
        let dir = try tempDir()
        let f64 = NPY.header(descr: "<f8", shape: [2, 2]) + [UInt8](repeating: 0, count: 32)
        try Data(f64).write(to: URL(fileURLWithPath: dir + "/d.npy"))
        #expect(message { _ = try VectorFiles.readFloats(dir + "/d.npy") }?.contains("holds dtype <f8; clipwb needs float32") == true)
        let threeD = NPY.header(descr: "<f4", shape: [2, 2, 2]) + [UInt8](repeating: 0, count: 32)
        try Data(threeD).write(to: URL(fileURLWithPath: dir + "/t.npy"))
        #expect(message { _ = try VectorFiles.readFloats(dir + "/t.npy") }?.contains("is 3-D with shape [2, 2, 2]; clipwb needs a 2-D array") == true)
        var nan = vectors(4, 3, seed: 1)
        nan.data[5] = .nan
        try NPY.write(nan, to: dir + "/n.npy")
        #expect(message { _ = try VectorFiles.readFloats(dir + "/n.npy", what: "query") } == "query row 1 holds nan at column 2; remove or repair that row (NaN/Inf cannot be indexed)")
    }

    @Test func sweepWritesAllFourOutputs() throws {
        let dir = try tempDir()
        try NPY.write(vectors(800, 16, seed: 3), to: dir + "/base.npy")
        try NPY.write(vectors(30, 16, seed: 4), to: dir + "/q.npy")
        let c = SweepConfig(base: dir + "/base.npy", queries: dir + "/q.npy", groundTruth: nil, metric: .angular,
                            trees: [1, 4], searchKs: [-1, 400], ks: [1, 10], seed: 5, buildThreads: [1, 2],
                            queryThreads: 2, out: dir + "/out", commit: "test", buildConfiguration: "debug", runs: 2)
        let r = try Sweep.run(c, progress: false)
        try Report.writeAll(r, to: c.out)
        #expect(r.runs.count == 10 && r.runs.filter { $0.family == "exact" }.count == 2)
        #expect(r.runs.allSatisfy { $0.runs == 2 && $0.p50UsBest <= $0.p50Us && $0.qpsSingleBest >= $0.qpsSingle })
        // 30 queries: too few for a p99.
        #expect(r.runs.allSatisfy { $0.p99Us == nil } && r.p99Note != nil)
        #expect(r.runs.filter { $0.family == "exact" }.allSatisfy { $0.recall == 1 && $0.indexResidentBytes == 800 * 16 * 4 + 800 * 4 })
        #expect(r.environment?.cpuModel.isEmpty == false && r.environment?.loadAverageStart.count == 3 && r.environment?.commit == "test")
        // Exhaustive search_k on one tree finds every true neighbour.
        #expect(r.runs.filter { $0.searchK == 400 && $0.trees == 4 }.allSatisfy { $0.recall > 0.9 })
        #expect(r.runs.filter { $0.family == "annoy" }.allSatisfy { $0.recall >= 0 && $0.recall <= 1 && $0.p50Us > 0 && $0.buildSeconds.count == 2 })
        for f in ["results.json", "results.csv", "report.md", "plot.svg", "plot-k1.svg", "plot-k10-build.svg", "plot-k1-size.svg",
                  "ground_truth.npy", r.runs[0].rawIds, r.runs[0].rawTimesUs] {
            #expect(FileManager.default.fileExists(atPath: c.out + "/" + f), "missing \(f)")
        }
        // Raw times: one column per run.
        #expect(try NPY.readMatrix(c.out + "/" + r.runs[0].rawTimesUs).cols == 2)
        let svg = try String(contentsOfFile: c.out + "/plot.svg", encoding: .utf8)
        #expect(svg.contains("class=\"frontier\" data-family=\"annoy\"") && svg.contains("exact (BLAS, 1 thread)") && svg.contains(">4t sk400<"))
        #expect(svg.contains(">0.99<") && svg.contains("batched on 2 threads"))
        let csv = try String(contentsOfFile: c.out + "/results.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 11)
        let back = try JSONStyle.decoder().decode(SweepResult.self, from: Data(contentsOf: URL(fileURLWithPath: c.out + "/results.json")))
        #expect(back.runs.count == 10 && back.config.commit == "test")
    }

    @Test func sweepRunsHNSWBesideAnnoy() throws {
        let dir = try tempDir()
        try NPY.write(vectors(800, 16, seed: 3), to: dir + "/base.npy")
        try NPY.write(vectors(30, 16, seed: 4), to: dir + "/q.npy")
        let c = SweepConfig(base: dir + "/base.npy", queries: dir + "/q.npy", groundTruth: nil, metric: .euclidean,
                            trees: [2], searchKs: [-1], ks: [1, 10], seed: 5, buildThreads: [1], queryThreads: 2,
                            out: dir + "/out", commit: "test", buildConfiguration: "debug",
                            hnsw: HNSWGrid(ms: [4, 8], efConstructions: [50], efs: [10, 100]))
        let r = try Sweep.run(c, progress: false)
        try Report.writeAll(r, to: c.out)
        let h = r.runs.filter { $0.family == "hnsw" }, a = r.runs.filter { $0.family == "annoy" }
        #expect(h.count == 8 && a.count == 2 && r.runs.count == 12)
        #expect(h.allSatisfy { $0.trees == nil && $0.searchK == nil && $0.m != nil && $0.ef != nil && $0.buildSeconds["1"] != nil && $0.indexBytes > 0 && $0.p50Us > 0 })
        #expect(a.allSatisfy { $0.m == nil && $0.trees == 2 })
        #expect(h.filter { $0.ef == 100 && $0.m == 8 }.allSatisfy { $0.recall > 0.9 })
        let csv = try String(contentsOfFile: c.out + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[0].hasPrefix("family,trees,k,search_k,effective_search_k,m,ef_construction,ef,recall,"))
        #expect(csv.contains { $0.hasPrefix("hnsw,,10,,,8,50,100,") } && csv.contains { $0.hasPrefix("annoy,2,10,auto,20,,,,") })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: c.out + "/results.json"))) as! [String: Any]
        let runs = json["runs"] as! [[String: Any]]
        #expect(runs.contains { $0["family"] as? String == "hnsw" && $0["ef_construction"] as? Int == 50 && $0["trees"] == nil })
        #expect((json["exact"] as! [String: Any])["family"] as? String == "exact")
        #expect((json["config"] as! [String: Any])["hnsw"] != nil)
        let svg = try String(contentsOfFile: c.out + "/plot.svg", encoding: .utf8)
        #expect(svg.contains(">M8 efc50 ef100<") && svg.contains("data-family=\"hnsw\"") && svg.contains(">2t sk20<"))
        let md = try String(contentsOfFile: c.out + "/report.md", encoding: .utf8)
        #expect(md.contains("| M | ef_construction | k | ef |"))
    }

    @Test func groundTruthWithTooFewColumns() throws {
        let dir = try tempDir()
        try NPY.write(vectors(100, 8, seed: 3), to: dir + "/base.npy")
        try NPY.write(vectors(5, 8, seed: 4), to: dir + "/q.npy")
        try NPY.writeInts([Int](repeating: 0, count: 5 * 3), rows: 5, cols: 3, to: dir + "/gt.npy")
        let c = SweepConfig(base: dir + "/base.npy", queries: dir + "/q.npy", groundTruth: dir + "/gt.npy", metric: .angular,
                            trees: [1], searchKs: [-1], ks: [10], seed: 5, buildThreads: [1], queryThreads: 1,
                            out: dir + "/out", commit: "test", buildConfiguration: "debug")
        #expect(message { _ = try Sweep.run(c, progress: false) }?.contains("is [5, 3]; it needs one row per query (5) and at least k=10 columns") == true)
    }
}
