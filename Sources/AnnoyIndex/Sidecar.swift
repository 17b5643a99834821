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
        try SidecarJSON.write(self, to: Self.path(for: index))
    }

    public static func read(for index: String) throws -> IndexSidecar? {
        let p = path(for: index)
        let side = try SidecarJSON.read(Self.self, from: p) { error in
            AnnoyError("sidecar.bad", "the sidecar '\(p)' is not a clipwb index sidecar (\(error)); delete it and pass --dim/--metric")
        }
        guard let side else { return nil }
        guard side.format == "clipwb-annoy-index" else {
            throw AnnoyError("sidecar.bad", "the sidecar '\(p)' has format '\(side.format)', not clipwb-annoy-index; delete it and pass --dim/--metric")
        }
        guard side.version == 1 else {
            throw AnnoyError("sidecar.version", "the sidecar '\(p)' is version \(side.version); this clipwb reads version 1 (a newer clipwb wrote it: use that one, or delete the sidecar and pass --dim/--metric)")
        }
        return side
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
            try checkNodeSize(path: path, dimension: side.dimension, from: "the sidecar '\(IndexSidecar.path(for: path))'")
            return (try AnnoyIndex(path: path, metric: side.metric, dimension: side.dimension), side)
        }
        guard let d = dimension else {
            throw AnnoyError("index.no-sidecar", "'\(path)' has no sidecar '\(IndexSidecar.path(for: path))' (an index saved by Python annoy?): pass its dimension with --dim, and --metric unless it is angular")
        }
        try checkNodeSize(path: path, dimension: d, from: "--dim")
        return (try AnnoyIndex(path: path, metric: metric ?? .angular, dimension: d), nil)
    }

    /// A node is at most 16 header bytes plus 4 per coordinate (`NodeLayout`); that size, computed with
    /// checked arithmetic, must fit in the file before any layout is derived from the dimension.
    static func checkNodeSize(path: String, dimension: Int, from source: String) throws {
        guard dimension > 0 else { throw AnnoyError("index.dim", "the dimension must be positive (got \(dimension) from \(source))") }
        var st = stat()
        guard stat(path, &st) == 0 else { return }  // a missing file is reported by AnnoyIndex itself
        let fileBytes = Int(st.st_size)
        let node = CheckedSize.product(4, dimension).flatMap { $0 <= Int.max - 16 ? $0 + 16 : nil }
        guard let node, node <= fileBytes else {
            let size = node.map { "\($0)-byte nodes" } ?? "nodes of more than \(Int.max) bytes"
            throw AnnoyError("index.dim", "dimension \(dimension) (from \(source)) means \(size), more than the whole \(fileBytes)-byte index '\(path)'; pass the dimension the index was built with")
        }
    }
}
