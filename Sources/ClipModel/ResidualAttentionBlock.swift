// openai/CLIP's ResidualAttentionBlock: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)), mlp = c_fc → QuickGELU → c_proj.
// Biases are fused into the passes around the GEMMs: in_proj's into attention's copies, out_proj's and
// c_proj's into the next LayerNorm pass (the GEMM accumulates x·Wᵀ straight into the residual), c_fc's
// into QuickGELU.
import ClipCore
import ClipWeights

struct ResidualAttentionBlock {
    let width: Int
    let heads: Int
    let ln1Weight, ln1Bias, inProjBias, outProjBias, ln2Weight, ln2Bias, fcBias, projBias: UnsafePointer<Float>
    let inProjWeight, outProjWeight, fcWeight, projWeight: WeightMatrix

    /// `prefix` like "visual.transformer.resblocks.3."; every tensor's shape is checked.
    init(_ weights: CLIPWeights, prefix: String, width w: Int, heads: Int) throws {
        width = w
        self.heads = heads
        func t(_ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
            try ModelTensors.pointer(weights, prefix + name, shape)
        }
        func m(_ name: String, _ shape: [Int]) throws -> WeightMatrix {
            try ModelTensors.matrix(weights, prefix + name, shape)
        }
        ln1Weight = try t("ln_1.weight", [w]); ln1Bias = try t("ln_1.bias", [w])
        inProjWeight = try m("attn.in_proj_weight", [3 * w, w]); inProjBias = try t("attn.in_proj_bias", [3 * w])
        outProjWeight = try m("attn.out_proj.weight", [w, w]); outProjBias = try t("attn.out_proj.bias", [w])
        ln2Weight = try t("ln_2.weight", [w]); ln2Bias = try t("ln_2.bias", [w])
        fcWeight = try m("mlp.c_fc.weight", [4 * w, w]); fcBias = try t("mlp.c_fc.bias", [4 * w])
        projWeight = try m("mlp.c_proj.weight", [w, 4 * w]); projBias = try t("mlp.c_proj.bias", [w])
    }

    /// One block over `layout.tokens` packed rows of `ws.x`. `pending` is a bias the previous block
    /// still owes x (its c_proj.bias); the returned bias is this block's, owed by x on return.
    /// With `keep` = .readout only the read-out row of each sequence survives, compacted to the top of `ws.x`.
    func forward(_ ws: Workspace, layout: SequenceLayout, pending: UnsafePointer<Float>?, keep: QueryRows,
                 pool: WorkerPool) -> UnsafePointer<Float> {
        let w = width, tokens = layout.tokens
        let x = ws.x, h = ws.h
        // h = ln_1(x + pending)
        Rows.forEach(tokens, width: w, pool: pool) { r in
            if let b = pending { Rows.add(x + r * w, b, w) }
            Kernels.layerNorm(x + r * w, h + r * w, width: w, gamma: ln1Weight, beta: ln1Bias)
        }
        // qkv: [tokens, 3w] = h: [tokens, w] · in_proj_weightᵀ: [w, 3w]
        GEMM.linear(h, lda: w, inProjWeight, ldw: w, ws.qkv, ldc: 3 * w, m: tokens, n: 3 * w, k: w, pool: pool)
        Attention.forward(qkv: ws.qkv, bias: inProjBias, width: w, heads: heads, layout: layout, queries: keep,
                          out: ws.ctx, scratch: ws.attention, pool: pool)
        var rows = tokens
        if keep != .all {
            // Only the read-out row of each sequence matters from here on (every later op is row-wise).
            rows = layout.count
            for s in 0..<layout.count {
                let src = layout.starts[s] + layout.readouts[s]
                if src != s { (x + s * w).update(from: x + src * w, count: w) }
            }
        }
        // x: [rows, w] += ctx: [rows, w] · out_proj.weightᵀ: [w, w]
        GEMM.linear(ws.ctx, lda: w, outProjWeight, ldw: w, x, ldc: w, m: rows, n: w, k: w, accumulate: true, pool: pool)
        // h = ln_2(x + out_proj.bias)
        Rows.forEach(rows, width: w, pool: pool) { r in
            Rows.add(x + r * w, outProjBias, w)
            Kernels.layerNorm(x + r * w, h + r * w, width: w, gamma: ln2Weight, beta: ln2Bias)
        }
        // f: [rows, 4w] = QuickGELU(h: [rows, w] · c_fc.weightᵀ: [w, 4w] + c_fc.bias)
        GEMM.linear(h, lda: w, fcWeight, ldw: w, ws.f, ldc: 4 * w, m: rows, n: 4 * w, k: w, pool: pool)
        Rows.forEach(rows, width: 4 * w, pool: pool) { r in
            Kernels.biasQuickGELU(ws.f + r * 4 * w, width: 4 * w, bias: fcBias)
        }
        // x: [rows, w] += f: [rows, 4w] · c_proj.weightᵀ: [4w, w]; c_proj.bias is owed.
        GEMM.linear(ws.f, lda: 4 * w, projWeight, ldw: 4 * w, x, ldc: w, m: rows, n: w, k: 4 * w, accumulate: true, pool: pool)
        return projBias
    }
}

/// Row-parallel passes: chunks of rows across the pool, inline when the pass is too small to share.
enum Rows {
    static let inlineElements = 1 << 15

    static func forEach(_ rows: Int, width: Int, pool: WorkerPool, _ body: (Int) -> Void) {
        if rows * width < inlineElements || pool.threads == 1 {
            for r in 0..<rows { body(r) }
            return
        }
        let chunk = max(1, inlineElements / (4 * width))
        pool.parallelFor((rows + chunk - 1) / chunk) { c in
            for r in (c * chunk)..<min(rows, (c + 1) * chunk) { body(r) }
        }
    }

    /// x[0..<n] += b[0..<n]
    @inline(__always) static func add(_ x: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
        for i in stride(from: 0, to: n, by: 16) { Kernels.store(Kernels.load(x + i) + Kernels.load(b + i), x + i) }
    }
}
