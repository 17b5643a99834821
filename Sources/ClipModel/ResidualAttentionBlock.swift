// openai/CLIP's ResidualAttentionBlock (open_clip's, HF's CLIPEncoderLayer): x = x + ls_1(attn(ln_1(x)));
// x = x + ls_2(mlp(ln_2(x))), mlp = c_fc → activation (QuickGELU or exact GELU) → c_proj, ls_* open_clip's
// LayerScale (absent: identity). Without LayerScale the biases are fused into the passes around the GEMMs:
// in_proj's into attention's copies, out_proj's and c_proj's into the next LayerNorm pass (the GEMM
// accumulates x·Wᵀ straight into the residual), c_fc's into the activation. With LayerScale each branch is
// computed into `h` and added as x += gamma ⊙ (branch + bias).
import ClipCore
import ClipWeights

struct ResidualAttentionBlock {
    let spec: TransformerSpec
    let ln1Weight, ln1Bias, inProjBias, outProjBias, ln2Weight, ln2Bias, fcBias, projBias: UnsafePointer<Float>
    let ls1, ls2: UnsafePointer<Float>?
    let inProjWeight, outProjWeight, fcWeight, projWeight: WeightMatrix

    /// `prefix` like "visual.transformer.resblocks.3."; every tensor's shape is checked.
    init(_ weights: CLIPWeights, prefix: String, spec t: TransformerSpec) throws {
        spec = t
        let (w, m) = (t.width, t.mlpWidth)
        func v(_ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
            try ModelTensors.pointer(weights, prefix + name, shape)
        }
        func mat(_ name: String, _ shape: [Int]) throws -> WeightMatrix {
            try ModelTensors.matrix(weights, prefix + name, shape)
        }
        ln1Weight = try v("ln_1.weight", [w]); ln1Bias = try v("ln_1.bias", [w])
        inProjWeight = try mat("attn.in_proj_weight", [3 * w, w]); inProjBias = try v("attn.in_proj_bias", [3 * w])
        outProjWeight = try mat("attn.out_proj.weight", [w, w]); outProjBias = try v("attn.out_proj.bias", [w])
        ln2Weight = try v("ln_2.weight", [w]); ln2Bias = try v("ln_2.bias", [w])
        fcWeight = try mat("mlp.c_fc.weight", [m, w]); fcBias = try v("mlp.c_fc.bias", [m])
        projWeight = try mat("mlp.c_proj.weight", [w, m]); projBias = try v("mlp.c_proj.bias", [w])
        ls1 = t.layerScale ? try v("ls_1.gamma", [w]) : nil
        ls2 = t.layerScale ? try v("ls_2.gamma", [w]) : nil
    }

    /// One block over `layout.tokens` packed rows of `ws.x`. `pending` is a bias the previous block
    /// still owes x (its c_proj.bias); the returned bias is this block's, owed by x on return (nil: none).
    /// With `keep` = .readout only the read-out row of each sequence survives, compacted to the top of `ws.x`.
    /// `tap`, when given, sees x after the attention residual ("attn") and after the MLP residual ("mlp"), with the
    /// bias x still owes at that point (the probe's stages; run with keep = .all so every row is there).
    func forward(_ ws: Workspace, layout: SequenceLayout, pending: UnsafePointer<Float>?, keep: QueryRows,
                 pool: WorkerPool, tap: ((_ point: String, _ owed: UnsafePointer<Float>?) -> Void)? = nil) -> UnsafePointer<Float>? {
        let (w, m, eps) = (spec.width, spec.mlpWidth, spec.layerNormEps)
        let tokens = layout.tokens
        let x = ws.x, h = ws.h
        // h = ln_1(x + pending)
        Rows.forEach(tokens, width: w, pool: pool) { r in
            if let b = pending { Rows.add(x + r * w, b, w) }
            Kernels.layerNorm(x + r * w, h + r * w, width: w, gamma: ln1Weight, beta: ln1Bias, eps: eps)
        }
        // qkv: [tokens, 3w] = h: [tokens, w] · in_proj_weightᵀ: [w, 3w]
        GEMM.linear(h, lda: w, inProjWeight, ldw: w, ws.qkv, ldc: 3 * w, m: tokens, n: 3 * w, k: w, pool: pool)
        Attention.forward(qkv: ws.qkv, bias: inProjBias, width: w, heads: spec.heads, layout: layout, queries: keep,
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
        // x: [rows, w] += ls_1 ⊙ (ctx: [rows, w] · out_proj.weightᵀ: [w, w] + out_proj.bias); h = ln_2(x)
        residual(ws.ctx, lda: w, outProjWeight, k: w, bias: outProjBias, gamma: ls1, rows: rows, ws, pool: pool) { r in
            Kernels.layerNorm(x + r * w, h + r * w, width: w, gamma: ln2Weight, beta: ln2Bias, eps: eps)
        }
        tap?("attn", nil)
        // f: [rows, m] = activation(h: [rows, w] · c_fc.weightᵀ: [w, m] + c_fc.bias)
        GEMM.linear(h, lda: w, fcWeight, ldw: w, ws.f, ldc: m, m: rows, n: m, k: w, pool: pool)
        let gelu = spec.activation == .gelu
        Rows.forEach(rows, width: m, pool: pool) { r in
            if gelu { Kernels.biasGELU(ws.f + r * m, width: m, bias: fcBias) } else { Kernels.biasQuickGELU(ws.f + r * m, width: m, bias: fcBias) }
        }
        // x: [rows, w] += ls_2 ⊙ (f: [rows, m] · c_proj.weightᵀ: [m, w] + c_proj.bias); without LayerScale the bias is owed.
        if ls2 == nil {
            GEMM.linear(ws.f, lda: m, projWeight, ldw: m, x, ldc: w, m: rows, n: w, k: m, accumulate: true, pool: pool)
            tap?("mlp", projBias)
            return projBias
        }
        residual(ws.f, lda: m, projWeight, k: m, bias: projBias, gamma: ls2, rows: rows, ws, pool: pool) { _ in }
        tap?("mlp", nil)
        return nil
    }

    /// x[rows, w] += gamma ⊙ (a[rows, k] · weightᵀ + bias), then `after(r)` per row. Without gamma the product
    /// accumulates straight into x and the bias is added in the row pass.
    private func residual(_ a: UnsafePointer<Float>, lda: Int, _ weight: WeightMatrix, k: Int, bias: UnsafePointer<Float>,
                          gamma: UnsafePointer<Float>?, rows: Int, _ ws: Workspace, pool: WorkerPool, after: @escaping (Int) -> Void) {
        let (w, x, h) = (spec.width, ws.x, ws.h)
        guard let gamma else {
            GEMM.linear(a, lda: lda, weight, ldw: k, x, ldc: w, m: rows, n: w, k: k, accumulate: true, pool: pool)
            Rows.forEach(rows, width: w, pool: pool) { r in
                Rows.add(x + r * w, bias, w)
                after(r)
            }
            return
        }
        GEMM.linear(a, lda: lda, weight, ldw: k, h, ldc: w, m: rows, n: w, k: k, pool: pool)
        Rows.forEach(rows, width: w, pool: pool) { r in
            let (xr, hr) = (x + r * w, h + r * w)
            for j in 0..<w { xr[j] += gamma[j] * (hr[j] + bias[j]) }
            after(r)
        }
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
        let body = n - n % 16
        for i in stride(from: 0, to: body, by: 16) { Kernels.store(Kernels.load(x + i) + Kernels.load(b + i), x + i) }
        for i in body..<n { x[i] += b[i] }
    }
}
