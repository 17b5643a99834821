// hnswlib's spaces and build parameters (hnswlib's Python Index: space, M, ef_construction, random_seed).
import CHNSW

public enum HNSWSpace: String, Codable, CaseIterable, Sendable {
    /// Squared Euclidean distance (hnswlib reports it unrooted).
    case l2
    /// 1 − x·y.
    case ip
    /// 1 − cos: ip over vectors normalised on add and on query, as hnswlib's Python bindings do.
    case cosine

    /// hnswlib's names, or clipwb's metric names: euclidean → l2, dot → ip, angular → cosine.
    public init(parsing s: String) throws {
        switch s.lowercased() {
        case "l2", "euclidean": self = .l2
        case "ip", "dot": self = .ip
        case "cosine", "angular": self = .cosine
        default: throw HNSWError("hnsw.space", "unknown HNSW space '\(s)': use l2, ip or cosine (or euclidean, dot, angular)")
        }
    }

    var shim: Int32 {
        switch self {
        case .l2: return Int32(CHNSW_L2.rawValue)
        case .ip: return Int32(CHNSW_IP.rawValue)
        case .cosine: return Int32(CHNSW_COSINE.rawValue)
        }
    }
}

public struct HNSWParameters: Codable, Equatable, Sendable {
    /// Links per element on the upper levels (2·M on level 0): more means better recall, more memory.
    public var m: Int
    /// Candidate list size while inserting: more means a better graph and a slower build.
    public var efConstruction: Int
    /// hnswlib's random_seed (levels come from std::default_random_engine seeded with it).
    public var seed: Int

    /// hnswlib's own defaults.
    public init(m: Int = 16, efConstruction: Int = 200, seed: Int = 100) {
        self.m = m
        self.efConstruction = efConstruction
        self.seed = seed
    }
}
