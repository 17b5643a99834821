// Which setting to use: for a target recall, the cheapest setting of the sweep (any family: Annoy, HNSW,
// exact) that reaches it at each k, found on each family's Pareto frontier (cost against recall: no other
// setting of the family is cheaper with at least the same recall). The frontier is also what the plot draws.
import ClipCore
import Foundation

public enum Objective: String, Codable, Sendable, CaseIterable {
    /// Median p50 latency, one query at a time on one thread.
    case p50
    /// Batched queries/s on the sweep's query threads (every family on the same thread count).
    case qps
    /// The index's own resident bytes after warm-up (exact: the vectors and norms it scans).
    case memory

    public var explanation: String {
        switch self {
        case .p50: return "lowest median p50 latency (one query at a time, one thread)"
        case .qps: return "most queries/s, batched on the sweep's query threads"
        case .memory: return "fewest resident bytes of the index after warm-up"
        }
    }

    /// The cost key of a record: smaller is better; ties fall to p50, memory, family, then parameters.
    public func key(_ r: RunRecord) -> [Double] {
        let primary: Double
        switch self {
        case .p50: primary = r.p50Us
        case .qps: primary = -r.qpsBatched
        case .memory: primary = Double(r.indexResidentBytes)
        }
        let family: Double = r.family == "exact" ? 0 : r.family == "annoy" ? 1 : 2
        return [primary, r.p50Us, Double(r.indexResidentBytes), family, Double(r.trees ?? r.m ?? 0),
                Double(r.effectiveSearchK ?? r.efConstruction ?? 0), Double(r.ef ?? 0)]
    }
}

/// One setting as a recommendation states it: what to build and what it measured.
public struct IndexSetting: Codable, Sendable, Equatable {
    public var family: String
    public var k: Int
    public var trees: Int?
    /// The search_k queries used (auto resolved to k × trees); `searchKSetting` is how it was asked for.
    public var searchK: Int?
    public var searchKSetting: String?
    public var seed: UInt64?
    public var m: Int?
    public var efConstruction: Int?
    public var ef: Int?
    public var recall: Double
    public var p50Us: Double
    public var qpsSingle: Double
    public var qpsBatched: Double
    public var batchThreads: Int
    public var buildSeconds: Double
    public var indexBytes: Int
    public var indexResidentBytes: Int

    public init(_ r: RunRecord, config: SweepConfig) {
        family = r.family; k = r.k; trees = r.trees; searchK = r.effectiveSearchK
        searchKSetting = r.searchK.map { $0 == -1 ? "auto" : String($0) }
        seed = r.family == "annoy" ? config.seed : r.family == "hnsw" ? config.hnsw.map { UInt64($0.seed) } : nil
        m = r.m; efConstruction = r.efConstruction; ef = r.ef
        recall = r.recall; p50Us = r.p50Us; qpsSingle = r.qpsSingle; qpsBatched = r.qpsBatched; batchThreads = r.batchThreads
        buildSeconds = r.buildSecondsQueried; indexBytes = r.indexBytes; indexResidentBytes = r.indexResidentBytes
    }

    public var describe: String {
        switch family {
        case "annoy": return "Annoy, \(trees ?? 0) trees, search_k \(searchK ?? 0)"
        case "hnsw": return "HNSW, M \(m ?? 0), ef_construction \(efConstruction ?? 0), ef \(ef ?? 0)"
        default: return "exact search"
        }
    }
}

public struct KRecommendation: Codable, Sendable {
    public var k: Int
    /// Whether any setting reaches the target at this k.
    public var reached: Bool
    /// The cheapest setting reaching the target; nil when none does.
    public var setting: IndexSetting?
    public var exactWins: Bool
    /// The cheapest setting of each family that reaches the target.
    public var byFamily: [IndexSetting]
    /// The highest recall any setting reached (when none reaches the target).
    public var bestRecall: Double
    public var message: String
}

public struct Recommendation: Codable, Sendable {
    public var targetRecall: Double
    public var optimize: Objective
    public var objective: String
    public var items: Int
    public var dimension: Int
    public var metric: String
    public var queryCount: Int
    public var runs: Int
    public var commit: String
    /// The k `clipwb ingest --index-config` applies unless told otherwise (10 when swept, else the largest).
    public var defaultK: Int
    public var picks: [KRecommendation]

    public func pick(k: Int) -> KRecommendation? { picks.first { $0.k == k } }
}

public enum Recommender {
    /// The family's Pareto frontier at k: records sorted by cost, each kept when it beats the recall of every
    /// cheaper one. Cheapest first.
    public static func frontier(_ runs: [RunRecord], family: String, k: Int, objective: Objective) -> [RunRecord] {
        frontier(runs, family: family, k: k, key: objective.key)
    }

    /// The frontier under any cost key (smaller is better; the plots use their own measure).
    public static func frontier(_ runs: [RunRecord], family: String, k: Int, key: (RunRecord) -> [Double]) -> [RunRecord] {
        let pts = runs.filter { $0.family == family && $0.k == k && $0.recall.isFinite }
            .sorted { key($0).lexicographicallyPrecedes(key($1)) }
        var out: [RunRecord] = []
        var best = -Double.infinity
        for p in pts where p.recall > best {
            out.append(p)
            best = p.recall
        }
        return out
    }

    public static func recommend(_ r: SweepResult, target: Double, objective: Objective) -> Recommendation {
        let families = ["exact", "annoy", "hnsw"]
        let picks = r.config.ks.map { k -> KRecommendation in
            // On each frontier the first point reaching the target is the family's cheapest that does.
            let perFamily = families.compactMap { f in frontier(r.runs, family: f, k: k, objective: objective).first { $0.recall >= target } }
            let best = perFamily.min { objective.key($0).lexicographicallyPrecedes(objective.key($1)) }
            let bestRecall = r.runs.filter { $0.k == k }.map(\.recall).max() ?? .nan
            let setting = best.map { IndexSetting($0, config: r.config) }
            let exact = r.runs.first { $0.k == k && $0.family == "exact" }
            return KRecommendation(k: k, reached: best != nil, setting: setting, exactWins: best?.family == "exact",
                                   byFamily: perFamily.map { IndexSetting($0, config: r.config) }, bestRecall: bestRecall,
                                   message: message(k: k, target: target, objective: objective, setting: setting,
                                                    exact: exact, bestRecall: bestRecall))
        }
        return Recommendation(targetRecall: target, optimize: objective, objective: objective.explanation, items: r.items,
                              dimension: r.dimension, metric: r.config.metric.rawValue, queryCount: r.queryCount,
                              runs: r.config.runs, commit: r.config.commit,
                              defaultK: r.config.ks.contains(10) ? 10 : (r.config.ks.max() ?? 10), picks: picks)
    }

    static func message(k: Int, target: Double, objective: Objective, setting s: IndexSetting?, exact: RunRecord?,
                        bestRecall: Double) -> String {
        guard let s else {
            return "k=\(k): no setting reaches recall \(target) (the best reached \(Report.f(bestRecall, 4))); widen the sweep (more trees, larger search_k or ef)"
        }
        let figures = "recall \(Report.f(s.recall, 4)), p50 \(Report.f(s.p50Us, 1)) µs, \(Report.f(s.qpsBatched, 0)) queries/s batched on \(s.batchThreads) thread\(s.batchThreads == 1 ? "" : "s"), build \(Report.f(s.buildSeconds, 2)) s, index \(Report.mb(s.indexBytes)), resident \(Report.mb(s.indexResidentBytes))"
        if s.family == "exact" {
            return "k=\(k): exact search wins at this size (\(figures)): no index setting reaching recall \(target) is cheaper by \(objective.rawValue)"
        }
        let ex = exact.map { "; exact search: p50 \(Report.f($0.p50Us, 1)) µs, \(Report.f($0.qpsBatched, 0)) queries/s batched" } ?? ""
        return "k=\(k): \(s.describe) (\(figures))\(ex)"
    }
}
