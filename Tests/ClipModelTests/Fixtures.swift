// The committed tiny fixture (weights/tiny) and small helpers the model tests share.
import ClipCore
import ClipWeights
import Foundation

enum Fixture {
    /// The repository root: two levels above this file, or $CLIPWB_REPO.
    static let root = ProcessInfo.processInfo.environment["CLIPWB_REPO"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let weightsPath = root + "/weights/tiny/clip-tiny.h5"
    static let referencePath = root + "/weights/tiny/clip-tiny-reference.h5"

    struct Reference {
        let pixels: [Float]
        let imageCount: Int
        let imageEmbeddings: [Float]
        let tokens: [Int32]
        let textCount: Int
        let textEmbeddings: [Float]
        let dim: Int
    }

    static func reference() throws -> Reference {
        let f = try HDF5File(path: referencePath)
        let pixels = try f.readFloats("/images/pixels")
        let emb = try f.readFloats("/images/embeddings")
        let tokens = try f.readInt32s("/texts/tokens")
        let temb = try f.readFloats("/texts/embeddings")
        let dim = try f.info("/images/embeddings").shape[1]
        return Reference(pixels: pixels, imageCount: pixels.count / (3 * 224 * 224), imageEmbeddings: emb,
                         tokens: tokens, textCount: tokens.count / 77, textEmbeddings: temb, dim: dim)
    }

    static func weights() throws -> CLIPWeights { try CLIPWeights.load(path: weightsPath) }
}

/// Cosine similarity of two equal-length vectors, in Double.
func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}

/// The largest |a − b|; infinity when the lengths differ or either side has a NaN anywhere, so a comparison
/// with a tolerance can never pass on missing or undefined values.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        if x.isNaN || y.isNaN { return .infinity }
        worst = max(worst, abs(x - y))
    }
    return worst
}

/// Deterministic pseudo-random floats in [-1, 1) (xorshift), for kernel tests.
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<n).map { _ in
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return Float(Double(s >> 40) / Double(1 << 24)) * 2 - 1
    }
}
