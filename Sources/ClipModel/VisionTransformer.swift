// openai/CLIP's VisionTransformer.forward (open_clip's and HF's CLIPVisionTransformer compute the same): conv1 (as one GEMM over im2col'd patches), class token,
// positional embedding, ln_pre, the residual blocks, ln_post on the class token, @ proj.
import ClipCore
import ClipWeights

final class VisionTransformer: ImageTower, @unchecked Sendable {
    let spec: ModelSpec
    let conv1: WeightMatrix
    let classEmbedding, positionalEmbedding, lnPreWeight, lnPreBias: UnsafePointer<Float>
    let lnPostWeight, lnPostBias, proj: UnsafePointer<Float>
    let blocks: [ResidualAttentionBlock]
    private let cache = WorkspaceCache()

    init(_ weights: CLIPWeights) throws {
        let c = weights.spec
        spec = c
        let w = c.vision.transformer.width, p = c.vision.patchSize
        func t(_ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
            try ModelTensors.pointer(weights, "visual." + name, shape)
        }
        conv1 = try ModelTensors.matrix(weights, "visual.conv1.weight", [w, 3, p, p])
        classEmbedding = try t("class_embedding", [w])
        positionalEmbedding = try t("positional_embedding", [c.visionTokens, w])
        lnPreWeight = try t("ln_pre.weight", [w]); lnPreBias = try t("ln_pre.bias", [w])
        lnPostWeight = try t("ln_post.weight", [w]); lnPostBias = try t("ln_post.bias", [w])
        proj = try t("proj", [w, c.embedDim])
        blocks = try (0..<c.vision.transformer.layers).map {
            try ResidualAttentionBlock(weights, prefix: "visual.transformer.resblocks.\($0).", spec: c.vision.transformer)
        }
    }

    func encode(pixels: UnsafePointer<Float>, images: Int, out: UnsafeMutablePointer<Float>, pool: WorkerPool, probe: StageProbe?) {
        let t = spec.vision.transformer
        let ws = cache.take(tokens: images * spec.visionTokens, width: t.width, mlpWidth: t.mlpWidth, longest: spec.visionTokens,
                            headDim: t.headWidth, threads: pool.threads, minF: patchFloats(images))
        defer { cache.giveBack(ws) }
        forward(pixels: pixels, images: images, ws, out: out, pool: pool, probe: probe)
    }

    /// Multiply-adds of one image: patch embedding, blocks (q/k/v/out, MLP, attention), projection.
    var multiplyAdds: Double {
        let t = spec.vision.transformer
        let w = Double(t.width), m = Double(t.mlpWidth), n = Double(spec.visionTokens), g2 = Double(spec.gridSize * spec.gridSize)
        let p2 = Double(3 * spec.vision.patchSize * spec.vision.patchSize)
        let perLayer = n * (4 * w * w + 2 * w * m) + 2 * n * n * w
        return g2 * p2 * w + Double(t.layers) * perLayer + w * Double(spec.embedDim)
    }

    /// Floats the im2col patches need for `images` images: [images·grid², 3·patch²].
    func patchFloats(_ images: Int) -> Int { images * spec.gridSize * spec.gridSize * 3 * spec.vision.patchSize * spec.vision.patchSize }

    /// pixels: [images, 3, res, res] normalized → out: [images, embedDim]. With a probe every block keeps all tokens
    /// (the last one too) so each stage can be recorded whole.
    func forward(pixels: UnsafePointer<Float>, images b: Int, _ ws: Workspace, out: UnsafeMutablePointer<Float>, pool: WorkerPool,
                 probe: StageProbe? = nil) {
        let w = spec.vision.transformer.width, g = spec.gridSize, n = spec.visionTokens
        let patchLen = 3 * spec.vision.patchSize * spec.vision.patchSize
        im2col(pixels, images: b, into: ws.f, pool: pool)
        // emb: [images·grid², w] = patches: [images·grid², 3·p·p] · conv1.weightᵀ: [3·p·p, w]
        GEMM.linear(ws.f, lda: patchLen, conv1, ldw: patchLen, ws.ctx, ldc: w, m: b * g * g, n: w, k: patchLen, pool: pool)
        // x[image, t] = ln_pre((t == 0 ? class_embedding : emb[image, t − 1]) + positional_embedding[t])
        let x = ws.x, emb = ws.ctx, h = ws.h
        Rows.forEach(b * n, width: w, pool: pool) { r in
            let (img, t) = (r / n, r % n)
            let src = t == 0 ? classEmbedding : UnsafePointer(emb + (img * g * g + t - 1) * w)
            for j in 0..<w { h[r * w + j] = src[j] + positionalEmbedding[t * w + j] }
            Kernels.layerNorm(h + r * w, x + r * w, width: w, gamma: lnPreWeight, beta: lnPreBias, eps: spec.vision.transformer.layerNormEps)
        }
        func record(_ stage: String, _ rows: UnsafePointer<Float>, owed: UnsafePointer<Float>? = nil) {
            for img in 0..<b { probe?.record(stage, item: img, rows: rows + img * n * w, count: n, width: w, owed: owed) }
        }
        if probe != nil {
            record("visual.embeddings", h)
            record("visual.ln_pre", x)
        }
        let layout = SequenceLayout(lengths: Array(repeating: n, count: b), causal: false, readouts: Array(repeating: 0, count: b))
        var pending: UnsafePointer<Float>? = nil
        for (i, block) in blocks.enumerated() {
            let last = i == blocks.count - 1 && probe == nil
            pending = block.forward(ws, layout: layout, pending: pending, keep: last ? .readout : .all, pool: pool,
                                    tap: probe.map { _ in { point, owed in record("visual.block\(i).\(point)", x, owed: owed) } })
        }
        if probe != nil {
            // every token went through the last block: settle its owed bias, move the class tokens up as .readout does
            for img in 0..<b {
                if let p = pending { Rows.add(x + img * n * w, p, w) }
                if img > 0 { (x + img * w).update(from: x + img * n * w, count: w) }
            }
            pending = nil
        }
        // x now holds one class-token row per image: out = ln_post(x + pending) @ proj: [w, embedDim]
        for r in 0..<b {
            if let p = pending { Rows.add(x + r * w, p, w) }
            Kernels.layerNorm(x + r * w, h + r * w, width: w, gamma: lnPostWeight, beta: lnPostBias, eps: spec.vision.transformer.layerNormEps)
        }
        GEMM.matmul(h, lda: w, proj, ldb: spec.embedDim, transB: false, out, ldc: spec.embedDim,
                    m: b, n: spec.embedDim, k: w)
        for img in 0..<b {
            probe?.record("visual.ln_post", item: img, rows: h + img * w, count: 1, width: w)
            probe?.record("visual.proj", item: img, rows: out + img * spec.embedDim, count: 1, width: spec.embedDim)
        }
    }

    /// patches[image·grid² + gy·grid + gx, c·p² + ky·p + kx] = pixels[image, c, gy·p + ky, gx·p + kx]
    /// (conv1.weight's [out, c, ky, kx] order, and the grid flattened row-major as `reshape` does).
    func im2col(_ pixels: UnsafePointer<Float>, images b: Int, into patches: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let p = spec.vision.patchSize, g = spec.gridSize, res = spec.imageResolution
        let patchLen = 3 * p * p
        pool.parallelFor(b * g) { job in
            let (img, gy) = (job / g, job % g)
            for gx in 0..<g {
                let dst = patches + ((img * g + gy) * g + gx) * patchLen
                for c in 0..<3 {
                    for ky in 0..<p {
                        let src = pixels + ((img * 3 + c) * res + gy * p + ky) * res + gx * p
                        (dst + (c * p + ky) * p).update(from: src, count: p)
                    }
                }
            }
        }
    }
}
