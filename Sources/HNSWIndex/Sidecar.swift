// The HNSW sidecar (`I.hnsw.json`): what hnswlib's file does not say about itself (space, seed, source).
import ClipCore
import Foundation

public struct HNSWSidecar: Codable, Equatable, Sendable {
    public var format = "clipwb-hnsw-index"
    public var version = 1
    public var hnswlibLayout = "hnswlib 0.6.2 saveIndex (same as 0.8.0)"
    public var dimension: Int
    public var space: HNSWSpace
    public var m: Int
    public var efConstruction: Int
    public var seed: Int
    public var items: Int
    /// Where the vectors came from.
    public var source: String

    public init(dimension: Int, space: HNSWSpace, parameters: HNSWParameters, items: Int, source: String) {
        self.dimension = dimension
        self.space = space
        self.m = parameters.m
        self.efConstruction = parameters.efConstruction
        self.seed = parameters.seed
        self.items = items
        self.source = source
    }

    public static func path(for index: String) -> String { index + ".json" }

    public func write(for index: String) throws {
        try SidecarJSON.write(self, to: Self.path(for: index))
    }

    public static func read(for index: String) throws -> HNSWSidecar? {
        let p = path(for: index)
        return try SidecarJSON.read(Self.self, from: p) { error in
            HNSWError("sidecar.bad", "the sidecar '\(p)' is not a clipwb HNSW sidecar (\(error)); delete it and pass --dim/--metric")
        }
    }
}

extension HNSWIndex {
    /// Opens an index using its sidecar; without one (a file saved by Python hnswlib) `dimension` and `space`
    /// are required. Given values must agree with the sidecar.
    public static func open(path: String, dimension: Int? = nil, space: HNSWSpace? = nil) throws -> (HNSWIndex, HNSWSidecar?) {
        if let side = try HNSWSidecar.read(for: path) {
            if let d = dimension, d != side.dimension {
                throw HNSWError("index.dim", "--dim \(d) disagrees with the sidecar '\(HNSWSidecar.path(for: path))', which says dimension \(side.dimension); drop --dim")
            }
            if let s = space, s != side.space {
                throw HNSWError("index.metric", "--metric \(s.rawValue) disagrees with the sidecar, which says \(side.space.rawValue); drop --metric")
            }
            return (try HNSWIndex(path: path, space: side.space, dimension: side.dimension), side)
        }
        guard let d = dimension, let s = space else {
            throw HNSWError("index.no-sidecar", "'\(path)' has no sidecar '\(HNSWSidecar.path(for: path))' (an index saved by Python hnswlib?): pass its dimension with --dim and its space with --metric (l2, ip or cosine); hnswlib's file records neither")
        }
        return (try HNSWIndex(path: path, space: s, dimension: d), nil)
    }
}
