// The index sidecar (`I.ann.json`): what Annoy's headerless file cannot say about itself.
import ClipCore
import Foundation

public struct IndexSidecar: Codable, Equatable, Sendable {
    public var format = "clipwb-annoy-index"
    public var version = 1
    public var annoyLayout = "annoylib.h 1.17"
    public var dimension: Int
    public var metric: Metric
    public var trees: Int
    public var seed: UInt64
    public var threads: Int
    public var items: Int
    /// Where the vectors came from (path and SHA-256 of the .npy, or a description).
    public var source: String

    public init(dimension: Int, metric: Metric, trees: Int, seed: UInt64, threads: Int, items: Int, source: String) {
        self.dimension = dimension
        self.metric = metric
        self.trees = trees
        self.seed = seed
        self.threads = threads
        self.items = items
        self.source = source
    }

    public static func path(for index: String) -> String { index + ".json" }

    public func write(for index: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Self.path(for: index), chunks: [Array(try enc.encode(self)) + [10]])
    }

    public static func read(for index: String) throws -> IndexSidecar? {
        let p = path(for: index)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        do {
            return try JSONDecoder().decode(IndexSidecar.self, from: Data(contentsOf: URL(fileURLWithPath: p)))
        } catch {
            throw AnnoyError("sidecar.bad", "the sidecar '\(p)' is not a clipwb index sidecar (\(error)); delete it and pass --dim/--metric")
        }
    }
}

extension AnnoyIndex {
    /// Opens an index using its sidecar; `dimension`/`metric` are required without one (files saved
    /// by Python annoy) and must agree with it when both are given.
    public static func open(path: String, dimension: Int? = nil, metric: Metric? = nil) throws -> (AnnoyIndex, IndexSidecar?) {
        let side = try IndexSidecar.read(for: path)
        if let side {
            if let d = dimension, d != side.dimension {
                throw AnnoyError("index.dim", "--dim \(d) disagrees with the sidecar '\(IndexSidecar.path(for: path))', which says dimension \(side.dimension); drop --dim")
            }
            if let m = metric, m != side.metric {
                throw AnnoyError("index.metric", "--metric \(m.rawValue) disagrees with the sidecar, which says \(side.metric.rawValue); drop --metric")
            }
            return (try AnnoyIndex(path: path, metric: side.metric, dimension: side.dimension), side)
        }
        guard let d = dimension else {
            throw AnnoyError("index.no-sidecar", "'\(path)' has no sidecar '\(IndexSidecar.path(for: path))' (an index saved by Python annoy?): pass its dimension with --dim, and --metric unless it is angular")
        }
        return (try AnnoyIndex(path: path, metric: metric ?? .angular, dimension: d), nil)
    }
}
