// Row-major float matrices: the currency between stages (embeddings, queries, vectors).

public struct Matrix: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    /// Row-major, `rows * cols` values.
    public var data: [Float]

    public init(rows: Int, cols: Int, data: [Float]) {
        precondition(data.count == rows * cols, "Matrix data has \(data.count) values, expected \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        self.init(rows: rows, cols: cols, data: [Float](repeating: value, count: rows * cols))
    }

    public func row(_ i: Int) -> ArraySlice<Float> {
        data[(i * cols)..<((i + 1) * cols)]
    }

    /// The first row containing NaN or ±Inf, with its column, or nil.
    public func firstNonFinite() -> (row: Int, col: Int)? {
        for (i, v) in data.enumerated() where !v.isFinite { return (i / cols, i % cols) }
        return nil
    }

    /// L2-normalizes each row in place; zero rows stay zero.
    public mutating func normalizeRows() {
        for r in 0..<rows {
            var s: Float = 0
            for c in 0..<cols { s += data[r * cols + c] * data[r * cols + c] }
            guard s > 0 else { continue }
            let inv = 1 / s.squareRoot()
            for c in 0..<cols { data[r * cols + c] *= inv }
        }
    }
}
