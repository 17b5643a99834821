// openai/CLIP's AttentionPool2d (model.py): the last stage's grid flattened to g² tokens, their mean prepended,
// the positional embedding added, then F.multi_head_attention_forward with separate q/k/v projections whose only
// query is the mean token, and c_proj as the output projection. Attention itself is the shared kernel
// (Attention.forward with the read-out row 0 as the query).
import ClipCore
import ClipWeights

struct AttentionPool2d {
    /// Tokens per image: g² positions plus the mean token.
    let tokens: Int
    let width: Int
    let heads: Int
    let outputDim: Int
    let positionalEmbedding: UnsafePointer<Float>
    let qProj, kProj, vProj, cProj: WeightMatrix
    /// q_proj.bias ‖ k_proj.bias ‖ v_proj.bias: the packed in-projection bias Attention expects (as torch concatenates).
    let qkvBias: FloatBuffer
    let cProjBias: UnsafePointer<Float>

    init(_ weights: CLIPWeights, grid: Int, width w: Int, heads: Int, outputDim: Int) throws {
        let a = "visual.attnpool."
        (tokens, width, self.heads, self.outputDim) = (grid * grid + 1, w, heads, outputDim)
        positionalEmbedding = try ModelTensors.pointer(weights, a + "positional_embedding", [tokens, w])
        qProj = try ModelTensors.matrix(weights, a + "q_proj.weight", [w, w])
        kProj = try ModelTensors.matrix(weights, a + "k_proj.weight", [w, w])
        vProj = try ModelTensors.matrix(weights, a + "v_proj.weight", [w, w])
        cProj = try ModelTensors.matrix(weights, a + "c_proj.weight", [outputDim, w])
        cProjBias = try ModelTensors.pointer(weights, a + "c_proj.bias", [outputDim])
        qkvBias = FloatBuffer(count: 3 * w)
        for (i, n) in ["q_proj", "k_proj", "v_proj"].enumerated() {
            (qkvBias.pointer.baseAddress! + i * w).update(from: try ModelTensors.pointer(weights, a + n + ".bias", [w]), count: w)
        }
    }

    var multiplyAdds: Double {
        let (n, w) = (Double(tokens), Double(width))
        return 2 * n * w * w + w * w + 2 * n * w + w * Double(outputDim)
    }

    /// Floats of the attention pool's buffers for `images` images (tokens, q/k/v) and the attention scratch.
    func workFloats(images: Int) -> Int { images * tokens * 4 * width + images * width }
    var headDim: Int { width / heads }

    /// x: [images, g², width] (NHWC, the last stage's output) → out: [images, outputDim] (encode_image's features).
    func forward(_ x: UnsafePointer<Float>, images b: Int, _ ws: ResNetWorkspace, out: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let (n, w) = (tokens, width)
        let t = ws.poolTokens, qkv = ws.poolQKV, ctx = ws.poolContext
        // t[image, 0] = mean over positions + pos[0]; t[image, 1 + p] = x[image, p] + pos[1 + p]: [images·n, w]
        Rows.forEach(b * n, width: w, pool: pool) { r in
            let (img, i) = (r / n, r % n)
            let dst = t + r * w, pos = positionalEmbedding + i * w
            if i == 0 {
                dst.update(repeating: 0, count: w)
                for p in 0..<(n - 1) { Rows.add(dst, x + (img * (n - 1) + p) * w, w) }
                for j in 0..<w { dst[j] = dst[j] / Float(n - 1) + pos[j] }
            } else {
                let src = x + (img * (n - 1) + i - 1) * w
                for j in 0..<w { dst[j] = src[j] + pos[j] }
            }
        }
        // qkv[:, w..<2w] = t: [images·n, w] · k_projᵀ: [w, w]; qkv[:, 2w..<3w] likewise with v_proj (biases in Attention)
        GEMM.linear(t, lda: w, kProj, ldw: w, qkv + w, ldc: 3 * w, m: b * n, n: w, k: w, pool: pool)
        GEMM.linear(t, lda: w, vProj, ldw: w, qkv + 2 * w, ldc: 3 * w, m: b * n, n: w, k: w, pool: pool)
        // Only the mean token queries: qkv[image·n, 0..<w] = t[image·n]: [images, w] (row stride n·w) · q_projᵀ
        GEMM.linear(t, lda: n * w, qProj, ldw: w, qkv, ldc: n * 3 * w, m: b, n: w, k: w, pool: pool)
        let layout = SequenceLayout(lengths: Array(repeating: n, count: b), causal: false, readouts: Array(repeating: 0, count: b))
        Attention.forward(qkv: qkv, bias: qkvBias.pointer.baseAddress!, width: w, heads: heads, layout: layout, queries: .readout,
                          out: ctx, scratch: ws.attention, pool: pool)
        // out: [images, outputDim] = ctx: [images, w] · c_projᵀ: [w, outputDim] + c_proj.bias
        GEMM.linear(ctx, lda: w, cProj, ldw: w, out, ldc: outputDim, m: b, n: outputDim, k: w, pool: pool)
        for r in 0..<b { Rows.add(out + r * outputDim, cProjBias, outputDim) }
    }
}
