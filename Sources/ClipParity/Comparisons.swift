// Stage-by-stage comparison figures for `clipwb verify`: embeddings by cosine and absolute error, pixels by
// absolute difference and by how many differ by more than one 8-bit level. Sums in Double.
import ClipCore

/// Rows of ours against rows of a reference: the figures verify reports, and the worst row.
public struct EmbeddingComparison: Codable, Equatable, Sendable {
    public let count: Int
    public let minCosine: Double
    public let meanCosine: Double
    public let maxAbsError: Double
    /// The row with the lowest cosine.
    public let worst: Int
    /// Per row: cosine and max |ours − reference|.
    public let rowCosines: [Double]
    public let rowMaxAbsErrors: [Double]

    public init(ours: Matrix, reference: Matrix) {
        precondition(ours.rows == reference.rows && ours.cols == reference.cols, "compared matrices differ in shape")
        var minCos = Double.infinity, total = 0.0, maxErr = 0.0, worst = 0
        var cosines: [Double] = [], errors: [Double] = []
        for r in 0..<ours.rows {
            let c = Self.cosine(ours.row(r), reference.row(r))
            total += c
            if c < minCos || (c.isNaN && !minCos.isNaN) { minCos = c; worst = r }
            var rowErr = 0.0
            for (a, b) in zip(ours.row(r), reference.row(r)) {
                let d = Double(abs(a - b))
                rowErr = d.isNaN || rowErr.isNaN ? .nan : max(rowErr, d)
            }
            maxErr = rowErr.isNaN || maxErr.isNaN ? .nan : max(maxErr, rowErr)
            cosines.append(c)
            errors.append(rowErr)
        }
        rowCosines = cosines
        rowMaxAbsErrors = errors
        count = ours.rows
        minCosine = ours.rows == 0 ? 1 : minCos
        meanCosine = ours.rows == 0 ? 1 : total / Double(ours.rows)
        maxAbsError = maxErr
        self.worst = worst
    }

    /// cos(a, b); two zero vectors count as equal (1), one zero vector as unrelated (0).
    public static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        if na == 0 && nb == 0 { return 1 }
        if na == 0 || nb == 0 { return 0 }
        return dot / (na.squareRoot() * nb.squareRoot())
    }
}

/// Preprocessed images against the reference's `pixels` ([count, 3, h, w], normalized).
public struct PixelComparison: Codable, Equatable, Sendable {
    public let maxAbsDiff: Double
    public let meanAbsDiff: Double
    /// Values differing by more than one 8-bit level, 1/255/std[c] in normalized units.
    public let overOneLevel: Int
    /// The image with the largest difference.
    public let worst: Int

    public init(ours: UnsafeBufferPointer<Float>, reference: UnsafeBufferPointer<Float>, count: Int, std: [Float]) {
        precondition(ours.count == reference.count && count > 0 && ours.count % (3 * count) == 0, "pixel buffers differ in size")
        let plane = ours.count / count / 3
        var maxDiff = 0.0, total = 0.0, over = 0, worst = 0
        for i in 0..<count {
            for c in 0..<3 {
                let level = Double(1 / 255 / std[c])
                let base = (i * 3 + c) * plane
                for j in base..<(base + plane) {
                    let d = Double(abs(ours[j] - reference[j]))
                    total += d
                    if d > level * (1 + 1e-6) { over += 1 }
                    if d > maxDiff || d.isNaN { maxDiff = d; worst = i }
                }
            }
        }
        maxAbsDiff = maxDiff
        meanAbsDiff = total / Double(ours.count)
        overOneLevel = over
        self.worst = worst
    }
}
