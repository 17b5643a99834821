// openai/CLIP's CLIP.encode_image / encode_text over CLIPWeights (float32, used in place), batched.
// Embeddings come back as rows of a Matrix, not normalized (as the reference returns them).
import ClipCore
import ClipWeights

public final class CLIPModel: @unchecked Sendable {
    public let config: CLIPConfig
    public let weights: CLIPWeights
    let visual: VisionTransformer
    let text: TextTransformer
    let pool: WorkerPool
    private let visionCache = WorkspaceCache()
    private let textCache = WorkspaceCache()

    /// Checks every tensor the encoders read against the shapes the config predicts.
    public init(weights: CLIPWeights, pool: WorkerPool = .shared) throws {
        let c = weights.config
        guard c.visionLayers >= 1, c.transformerLayers >= 1, c.visionWidth % 64 == 0, c.visionWidth > 0,
              c.transformerHeads >= 1, c.transformerWidth % (16 * c.transformerHeads) == 0,
              c.visionPatchSize >= 1, c.imageResolution % c.visionPatchSize == 0 else {
            throw ModelError("model.config", "unsupported CLIP configuration \(c): a ViT with widths divisible by 64 (vision) and 16·heads (text), at least one layer each, is needed")
        }
        config = c
        self.weights = weights
        self.pool = pool
        visual = try VisionTransformer(weights)
        text = try TextTransformer(weights)
    }

    /// Floats in one preprocessed image: 3 × resolution × resolution.
    public var pixelsPerImage: Int { 3 * config.imageResolution * config.imageResolution }

    /// pixels: [count, 3, res, res] normalized CHW → [count, embedDim] (`encode_image`).
    public func encodeImages(_ pixels: UnsafeBufferPointer<Float>, count: Int) throws -> Matrix {
        guard count >= 0, pixels.count == count * pixelsPerImage else {
            throw ModelError("model.pixels", "expected \(count) images of 3×\(config.imageResolution)×\(config.imageResolution) floats (\(count * pixelsPerImage) values), got \(pixels.count)")
        }
        var out = Matrix(rows: count, cols: config.embedDim)
        if count == 0 { return out }
        let ws = visionCache.take(tokens: count * config.visionTokens, width: config.visionWidth, longest: config.visionTokens,
                                  headDim: 64, threads: pool.threads, minF: visual.patchFloats(count))
        defer { visionCache.giveBack(ws) }
        out.data.withUnsafeMutableBufferPointer { o in
            visual.forward(pixels: pixels.baseAddress!, images: count, ws, out: o.baseAddress!, pool: pool)
        }
        return out
    }

    public func encodeImages(_ pixels: [Float], count: Int) throws -> Matrix {
        try pixels.withUnsafeBufferPointer { try encodeImages($0, count: count) }
    }

    /// tokens: [count, contextLength] ids, row-major (`clip.tokenize` output) → [count, embedDim] (`encode_text`).
    /// `fullContext` runs all positions instead of stopping at the end token (same result; for tests and timing).
    public func encodeTexts(_ tokens: [Int32], count: Int, fullContext: Bool = false) throws -> Matrix {
        let n = config.contextLength
        guard count >= 0, tokens.count == count * n else {
            throw ModelError("model.tokens", "expected \(count) token rows of \(n) ids (\(count * n) values), got \(tokens.count)")
        }
        if let bad = tokens.firstIndex(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw ModelError("model.token-id", "token id \(tokens[bad]) in text \(bad / n) is outside the vocabulary (0..<\(config.vocabSize)); tokenize with CLIP's tokenizer")
        }
        var out = Matrix(rows: count, cols: config.embedDim)
        if count == 0 { return out }
        let layout = text.layout(tokens, count: count, full: fullContext)
        let ws = textCache.take(tokens: layout.tokens, width: config.transformerWidth, longest: layout.longest,
                                headDim: config.transformerWidth / config.transformerHeads, threads: pool.threads)
        defer { textCache.giveBack(ws) }
        out.data.withUnsafeMutableBufferPointer { o in
            text.forward(tokens: tokens, layout: layout, ws, out: o.baseAddress!, pool: pool)
        }
        return out
    }

    /// Rows of 77 ids, one per text.
    public func encodeTexts(_ rows: [[Int32]], fullContext: Bool = false) throws -> Matrix {
        for (i, r) in rows.enumerated() where r.count != config.contextLength {
            throw ModelError("model.tokens", "text \(i) has \(r.count) token ids; CLIP's context is \(config.contextLength)")
        }
        return try encodeTexts(rows.flatMap { $0 }, count: rows.count, fullContext: fullContext)
    }

    /// Multiply-adds of one image forward (patch embedding, blocks, projection), for GFLOP/s figures.
    public var imageMultiplyAdds: Double {
        let w = Double(config.visionWidth), n = Double(config.visionTokens), g2 = Double(config.gridSize * config.gridSize)
        let p2 = Double(3 * config.visionPatchSize * config.visionPatchSize)
        let perLayer = n * 12 * w * w + 2 * n * n * w
        return g2 * p2 * w + Double(config.visionLayers) * perLayer + w * Double(config.embedDim)
    }

    /// Multiply-adds of one text forward over `tokens` positions (as PyTorch computes, all 77).
    public func textMultiplyAdds(tokens: Int) -> Double {
        let w = Double(config.transformerWidth), n = Double(tokens)
        return Double(config.transformerLayers) * (n * 12 * w * w + n * n * w) + w * Double(config.embedDim)
    }
}
