import Testing
import Foundation
import AnnoyIndex
@testable import ClipEval
import ClipCore

/// The pick by brute force, written apart from Recommender: every record at k reaching the target, the least by
/// the objective's own figure (ties to the lower p50).
private func bruteForce(_ runs: [RunRecord], k: Int, target: Double, objective: Objective) -> RunRecord? {
    var best: RunRecord?
    func cost(_ r: RunRecord) -> (Double, Double) {
        switch objective {
        case .p50: return (r.p50Us, 0)
        case .qps: return (-r.qpsBatched, r.p50Us)
        case .memory: return (Double(r.indexResidentBytes), r.p50Us)
        }
    }
    for r in runs where r.k == k && r.recall >= target {
        if best == nil || cost(r) < cost(best!) { best = r }
    }
    return best
}

private func record(_ family: String, k: Int, recall: Double, p50: Double, qps: Double, bytes: Int, n: Int) -> RunRecord {
    var r = RunRecord(family: family, trees: family == "annoy" ? n : nil, k: k, searchK: family == "annoy" ? 100 * n : nil,
                      effectiveSearchK: family == "annoy" ? 100 * n : nil, recall: recall, p50Us: p50, p99Us: nil, meanUs: p50,
                      qpsSingle: 1e6 / p50, qpsBatched: qps, batchThreads: 2, coldFirstQueryUs: 0, buildSeconds: ["1": 1],
                      indexBytes: bytes, loadSeconds: 0, peakRssBytes: 0, rawIds: "", rawTimesUs: "")
    if family == "hnsw" { r.m = n; r.efConstruction = 100; r.ef = 10 * n }
    r.indexResidentBytes = bytes
    return r
}

private func result(_ runs: [RunRecord], ks: [Int]) -> SweepResult {
    let c = SweepConfig(base: "b", queries: "q", groundTruth: nil, metric: .angular, trees: [1], searchKs: [-1], ks: ks, seed: 1,
                        buildThreads: [2], queryThreads: 2, out: "o", commit: "test", buildConfiguration: "debug")
    return SweepResult(config: c, items: 1000, dimension: 8, queryCount: 10, startedAt: "", environment: nil,
                       exact: ExactRecord(seconds: 1, qps: 1, k: 10, source: "test"), runs: runs)
}

@Suite struct RecommendationTests {
    @Test func equalsTheBruteForcePickOnRandomGrids() {
        var rng = Kiss64Random(seed: 7)
        func u() -> Double { Double(rng.kiss() >> 11) / Double(1 << 53) }
        var checked = 0, exactWins = 0, unreachable = 0
        for _ in 0..<200 {
            var runs: [RunRecord] = []
            for k in [1, 10] {
                runs.append(record("exact", k: k, recall: 1, p50: 50 + 2000 * u(), qps: 100 + 5000 * u(), bytes: 400_000, n: 0))
                for n in 1...12 {
                    runs.append(record(n % 2 == 0 ? "annoy" : "hnsw", k: k, recall: 0.5 + 0.5 * u(), p50: 5 + 1000 * u(),
                                       qps: 100 + 1e5 * u(), bytes: 100_000 + Int(1e6 * u()), n: n))
                }
            }
            let target = [0.9, 0.95, 0.99, 0.999][Int(rng.kiss() % 4)]
            for objective in Objective.allCases {
                let rec = Recommender.recommend(result(runs, ks: [1, 10]), target: target, objective: objective)
                for k in [1, 10] {
                    let want = bruteForce(runs, k: k, target: target, objective: objective)
                    let got = rec.pick(k: k)!
                    #expect(got.setting == want.map { IndexSetting($0, config: result(runs, ks: [1]).config) })
                    #expect(got.exactWins == (want?.family == "exact"))
                    if got.exactWins { exactWins += 1; #expect(got.message.contains("exact search wins")) }
                    checked += 1
                }
            }
        }
        #expect(checked == 1200 && exactWins > 50)
        // A target nothing reaches.
        let none = Recommender.recommend(result([record("annoy", k: 10, recall: 0.8, p50: 5, qps: 10, bytes: 1, n: 1)], ks: [10]),
                                         target: 0.9, objective: .p50).pick(k: 10)!
        #expect(!none.reached && none.setting == nil && none.message.contains("no setting reaches recall 0.9"))
        _ = unreachable
    }

    @Test func negativeControlAnEditedGridChangesThePick() {
        // The comparison can fail: make a cheaper setting reach the target and the recorded pick is no longer the
        // brute-force pick over the edited grid.
        var runs = [record("exact", k: 10, recall: 1, p50: 900, qps: 1000, bytes: 400_000, n: 0),
                    record("annoy", k: 10, recall: 0.97, p50: 300, qps: 3000, bytes: 500_000, n: 2),
                    record("hnsw", k: 10, recall: 0.85, p50: 40, qps: 50000, bytes: 700_000, n: 3)]
        let rec = Recommender.recommend(result(runs, ks: [10]), target: 0.95, objective: .p50)
        #expect(rec.pick(k: 10)!.setting?.family == "annoy")
        runs[2].recall = 0.99
        let edited = bruteForce(runs, k: 10, target: 0.95, objective: .p50)!
        #expect(rec.pick(k: 10)!.setting != IndexSetting(edited, config: result(runs, ks: [10]).config))
        #expect(Recommender.recommend(result(runs, ks: [10]), target: 0.95, objective: .p50).pick(k: 10)!.setting?.family == "hnsw")
        // And exact wins when it is the cheapest reaching the target.
        runs[0].p50Us = 10
        let exact = Recommender.recommend(result(runs, ks: [10]), target: 0.95, objective: .p50).pick(k: 10)!
        #expect(exact.exactWins && exact.message.contains("exact search wins at this size"))
    }

    @Test func aRealSweepsRecommendationIsTheBruteForcePick() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-rec-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rng = Kiss64Random(seed: 3)
        func m(_ rows: Int) -> Matrix { Matrix(rows: rows, cols: 12, data: (0..<(rows * 12)).map { _ in Float(rng.kiss() >> 40) / Float(1 << 24) - 0.5 }) }
        try NPY.write(m(600), to: dir + "/base.npy")
        try NPY.write(m(25), to: dir + "/q.npy")
        let c = SweepConfig(base: dir + "/base.npy", queries: dir + "/q.npy", groundTruth: nil, metric: .angular,
                            trees: [1, 3], searchKs: [-1, 60, 300], ks: [1, 10], seed: 5, buildThreads: [1], queryThreads: 2,
                            out: dir + "/out", commit: "test", buildConfiguration: "debug",
                            hnsw: HNSWGrid(ms: [4], efConstructions: [40], efs: [10, 40]), runs: 1)
        let r = try Sweep.run(c, progress: false)
        for target in [0.5, 0.9, 0.95, 0.99] {
            for objective in Objective.allCases {
                let rec = Recommender.recommend(r, target: target, objective: objective)
                for k in c.ks {
                    let want = bruteForce(r.runs, k: k, target: target, objective: objective)
                    #expect(rec.pick(k: k)?.setting == want.map { IndexSetting($0, config: c) }, "target \(target) \(objective) k \(k)")
                }
            }
        }
    }
}
