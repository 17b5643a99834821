// openai/CLIP's CLIP.encode_image / encode_text over CLIPWeights (float32 or float16, used in place), batched;
// the image tower comes from the registry by the spec's family.
// Embeddings come back as rows of a Matrix, not normalized (as the reference returns them).
import ClipCore
import ClipWeights

public final class CLIPModel: @unchecked Sendable {
    public let spec: ModelSpec
    public let weights: CLIPWeights
    let visual: any ImageTower
    let text: TextTransformer
    let pool: WorkerPool
    private let textCache = WorkspaceCache()

    /// Checks every tensor the encoders read against the shapes the spec predicts.
    public init(weights: CLIPWeights, pool: WorkerPool = .shared) throws {
        spec = weights.spec
        self.weights = weights
        self.pool = pool
        visual = try TowerRegistry.imageTower(weights)
        text = try TextTransformer(weights)
    }

    /// Floats in one preprocessed image: 3 × resolution × resolution.
    public var pixelsPerImage: Int { 3 * spec.imageResolution * spec.imageResolution }

    /// pixels: [count, 3, res, res] normalized CHW → [count, embedDim] (`encode_image`). A `probe` records every
    /// named stage of the forward pass (for the verifier's layer-by-layer comparison); nil records nothing.
    public func encodeImages(_ pixels: UnsafeBufferPointer<Float>, count: Int, probe: StageProbe? = nil) throws -> Matrix {
        guard count >= 0, pixels.count == count * pixelsPerImage else {
            throw ModelError("model.pixels", "expected \(count) images of 3×\(spec.imageResolution)×\(spec.imageResolution) floats (\(count * pixelsPerImage) values), got \(pixels.count)")
        }
        var out = Matrix(rows: count, cols: spec.embedDim)
        if count == 0 { return out }
        out.data.withUnsafeMutableBufferPointer { o in
            visual.encode(pixels: pixels.baseAddress!, images: count, out: o.baseAddress!, pool: pool, probe: probe)
        }
        return out
    }

    public func encodeImages(_ pixels: [Float], count: Int, probe: StageProbe? = nil) throws -> Matrix {
        try pixels.withUnsafeBufferPointer { try encodeImages($0, count: count, probe: probe) }
    }

    /// tokens: [count, contextLength] ids, row-major (`clip.tokenize` output) → [count, embedDim] (`encode_text`).
    /// `fullContext` runs all positions instead of stopping at the end token (same result; for tests and timing).
    public func encodeTexts(_ tokens: [Int32], count: Int, fullContext: Bool = false, probe: StageProbe? = nil) throws -> Matrix {
        let n = spec.contextLength
        guard count >= 0, tokens.count == count * n else {
            throw ModelError("model.tokens", "expected \(count) token rows of \(n) ids (\(count * n) values), got \(tokens.count)")
        }
        if let bad = tokens.firstIndex(where: { $0 < 0 || Int($0) >= spec.vocabSize }) {
            throw ModelError("model.token-id", "token id \(tokens[bad]) in text \(bad / n) is outside the vocabulary (0..<\(spec.vocabSize)); tokenize with CLIP's tokenizer")
        }
        var out = Matrix(rows: count, cols: spec.embedDim)
        if count == 0 { return out }
        let layout = text.layout(tokens, count: count, full: fullContext)
        let t = spec.text.transformer
        let ws = textCache.take(tokens: layout.tokens, width: t.width, mlpWidth: t.mlpWidth, longest: layout.longest,
                                headDim: t.headWidth, threads: pool.threads)
        defer { textCache.giveBack(ws) }
        out.data.withUnsafeMutableBufferPointer { o in
            text.forward(tokens: tokens, layout: layout, ws, out: o.baseAddress!, pool: pool, probe: probe)
        }
        return out
    }

    /// Rows of 77 ids, one per text.
    public func encodeTexts(_ rows: [[Int32]], fullContext: Bool = false) throws -> Matrix {
        for (i, r) in rows.enumerated() where r.count != spec.contextLength {
            throw ModelError("model.tokens", "text \(i) has \(r.count) token ids; CLIP's context is \(spec.contextLength)")
        }
        return try encodeTexts(rows.flatMap { $0 }, count: rows.count, fullContext: fullContext)
    }

    /// Multiply-adds of one image forward, for GFLOP/s figures.
    public var imageMultiplyAdds: Double { visual.multiplyAdds }

    /// Multiply-adds of one text forward over `tokens` positions (as PyTorch computes, all 77).
    public func textMultiplyAdds(tokens: Int) -> Double {
        let t = spec.text.transformer
        let w = Double(t.width), n = Double(tokens), m = Double(t.mlpWidth)
        return Double(t.layers) * (n * (4 * w * w + 2 * w * m) + n * n * w) + w * Double(spec.embedDim)
    }
}

/// An image tower: pixels [images, 3, res, res] → embeddings [images, embedDim]; with a probe, each named stage
/// recorded per image (StageProbe).
protocol ImageTower: AnyObject, Sendable {
    func encode(pixels: UnsafePointer<Float>, images: Int, out: UnsafeMutablePointer<Float>, pool: WorkerPool, probe: StageProbe?)
    /// Multiply-adds of one image.
    var multiplyAdds: Double { get }
}

/// ClipModel's side of the architecture registry (ClipWeights.ArchitectureRegistry): each family's tower builder.
enum TowerRegistry {
    static let builders: [String: (CLIPWeights) throws -> any ImageTower] = [
        ViTArchitecture.family: { try VisionTransformer($0) },
        ResNetArchitecture.family: { try ModifiedResNet($0) },
    ]

    static func imageTower(_ weights: CLIPWeights) throws -> any ImageTower {
        guard let build = builders[weights.spec.family] else {
            throw ModelError("model.family", "no image tower is registered for architecture family '\(weights.spec.family)'")
        }
        return try build(weights)
    }
}
