// The index seam: nearest neighbours by angular distance over the catalog's unit vectors.
// The catalog's index is an Annoy index (AnnoyIndex); `ExactNeighbors` answers the same question
// by brute force and is what tests compare it with.
import ClipCore

public struct Neighbor: Sendable, Equatable {
    public var id: Int
    /// Annoy's angular distance, sqrt(2 − 2·cos).
    public var distance: Float
    /// cos = 1 − distance²/2, what the page shows as the score.
    public var cosine: Float { 1 - distance * distance / 2 }
}

public protocol NeighborIndex: Sendable {
    var count: Int { get }
    var dimension: Int { get }
    /// Up to `n` nearest items to `query`, nearest first. `searchK` bounds an approximate index's
    /// work (Annoy's search_k; -1 its default); exact search ignores it.
    func nearest(to query: [Float], n: Int, searchK: Int) throws -> [Neighbor]
}

extension NeighborIndex {
    public func nearest(to query: [Float], n: Int) throws -> [Neighbor] { try nearest(to: query, n: n, searchK: -1) }
}

/// Brute-force search over rows: exact, O(rows·dim) per query.
public struct ExactNeighbors: NeighborIndex {
    public let vectors: Matrix
    public var count: Int { vectors.rows }
    public var dimension: Int { vectors.cols }

    public init(_ vectors: Matrix) { self.vectors = vectors }

    public func nearest(to query: [Float], n: Int, searchK: Int = -1) throws -> [Neighbor] {
        guard query.count == vectors.cols else {
            throw SearchError("index.dimension", "query has dimension \(query.count), the index \(vectors.cols)")
        }
        return vectors.data.withUnsafeBufferPointer { exactNeighbors($0, cols: vectors.cols, query: query, n: n, firstID: 0) }
    }
}

/// The `n` rows of `values` ([rows, cols], row-major) nearest to `query` by angular distance, nearest
/// first (ties by id); row r is id `firstID + r`.
func exactNeighbors(_ values: UnsafeBufferPointer<Float>, cols: Int, query: [Float], n: Int, firstID: Int) -> [Neighbor] {
    var qn: Float = 0
    for v in query { qn += v * v }
    qn = qn.squareRoot()
    let rows = values.count / cols
    var scored: [Neighbor] = []
    scored.reserveCapacity(rows)
    for r in 0..<rows {
        var dot: Float = 0, nn: Float = 0
        for c in 0..<cols {
            let x = values[r * cols + c]
            dot += x * query[c]
            nn += x * x
        }
        let denom = nn.squareRoot() * qn
        let cos = denom > 0 ? dot / denom : 0
        scored.append(Neighbor(id: firstID + r, distance: max(0, 2 - 2 * cos).squareRoot()))
    }
    scored.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
    return Array(scored.prefix(n))
}
