// openai/CLIP's encode_text: token_embedding + positional_embedding, causal residual blocks, ln_final,
// features at the argmax-id position (the end token), @ text_projection. Because attention is causal and
// only the end-token row is read, positions after it cannot change the result: each sequence is cut at
// its end token and the cut sequences are packed into one [Σ lengths, width] matrix (exact).
import ClipCore
import ClipWeights

struct TextTransformer {
    let spec: ModelSpec
    let tokenEmbedding: WeightMatrix
    let positionalEmbedding, lnFinalWeight, lnFinalBias, textProjection: UnsafePointer<Float>
    let blocks: [ResidualAttentionBlock]

    init(_ weights: CLIPWeights) throws {
        let c = weights.spec
        spec = c
        let w = c.text.transformer.width
        func t(_ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
            try ModelTensors.pointer(weights, name, shape)
        }
        tokenEmbedding = try ModelTensors.matrix(weights, "token_embedding.weight", [c.text.vocabSize, w])
        positionalEmbedding = try t("positional_embedding", [c.text.contextLength, w])
        lnFinalWeight = try t("ln_final.weight", [w]); lnFinalBias = try t("ln_final.bias", [w])
        textProjection = try t("text_projection", [w, c.embedDim])
        blocks = try (0..<c.text.transformer.layers).map {
            try ResidualAttentionBlock(weights, prefix: "transformer.resblocks.\($0).", spec: c.text.transformer)
        }
    }

    /// `text.argmax(dim=-1)`: the first position holding the largest id (the end token).
    static func endPosition(_ ids: ArraySlice<Int32>) -> Int {
        var best = ids.startIndex
        for i in ids.indices where ids[i] > ids[best] { best = i }
        return best - ids.startIndex
    }

    /// The sequence lengths the encoder runs: through the end token, or the whole context when `full`.
    func layout(_ tokens: [Int32], count: Int, full: Bool) -> SequenceLayout {
        let n = spec.text.contextLength
        let ends = (0..<count).map { s in Self.endPosition(tokens[(s * n)..<((s + 1) * n)]) }
        return SequenceLayout(lengths: full ? Array(repeating: n, count: count) : ends.map { $0 + 1 }, causal: true, readouts: ends)
    }

    /// tokens: [count, contextLength] ids (validated by the caller) → out: [count, embedDim].
    /// With a probe every block keeps all rows (the last one too) so each stage can be recorded whole.
    func forward(tokens: [Int32], layout: SequenceLayout, _ ws: Workspace, out: UnsafeMutablePointer<Float>, pool: WorkerPool,
                 probe: StageProbe? = nil) {
        let w = spec.text.transformer.width, n = spec.text.contextLength
        let x = ws.x, h = ws.h
        // x[start_s + t] = token_embedding[tokens[s, t]] + positional_embedding[t]
        tokens.withUnsafeBufferPointer { ids in
            for s in 0..<layout.count {
                for t in 0..<layout.lengths[s] {
                    let row = x + (layout.starts[s] + t) * w
                    tokenEmbedding.row(Int(ids[s * n + t]), width: w, into: row)
                    Rows.add(row, positionalEmbedding + t * w, w)
                }
            }
        }
        func record(_ stage: String, _ rows: UnsafePointer<Float>, owed: UnsafePointer<Float>? = nil) {
            for s in 0..<layout.count {
                probe?.record(stage, item: s, rows: rows + layout.starts[s] * w, count: layout.lengths[s], width: w, owed: owed)
            }
        }
        if probe != nil { record("text.embeddings", x) }
        var pending: UnsafePointer<Float>? = nil
        for (i, block) in blocks.enumerated() {
            let last = i == blocks.count - 1 && probe == nil
            pending = block.forward(ws, layout: layout, pending: pending, keep: last ? .readout : .all, pool: pool,
                                    tap: probe.map { _ in { point, owed in record("text.block\(i).\(point)", x, owed: owed) } })
        }
        if probe != nil {
            // every row went through the last block: settle its owed bias, record ln_final over all rows, then move
            // each sequence's end-token row up as .readout does
            for r in 0..<layout.tokens {
                if let p = pending { Rows.add(x + r * w, p, w) }
                Kernels.layerNorm(x + r * w, h + r * w, width: w, gamma: lnFinalWeight, beta: lnFinalBias, eps: spec.text.transformer.layerNormEps)
            }
            record("text.ln_final", h)
            for s in 0..<layout.count where layout.starts[s] + layout.readouts[s] != s {
                (x + s * w).update(from: x + (layout.starts[s] + layout.readouts[s]) * w, count: w)
            }
            pending = nil
        }
        // x now holds one end-token row per sequence: out = ln_final(x + pending) @ text_projection: [w, embedDim]
        for r in 0..<layout.count {
            if let p = pending { Rows.add(x + r * w, p, w) }
            Kernels.layerNorm(x + r * w, h + r * w, width: w, gamma: lnFinalWeight, beta: lnFinalBias, eps: spec.text.transformer.layerNormEps)
        }
        GEMM.matmul(h, lda: w, textProjection, ldb: spec.embedDim, transB: false, out, ldc: spec.embedDim,
                    m: layout.count, n: spec.embedDim, k: w)
        for s in 0..<layout.count {
            probe?.record("text.pooled", item: s, rows: h + s * w, count: 1, width: w)
            probe?.record("text.proj", item: s, rows: out + s * spec.embedDim, count: 1, width: spec.embedDim)
        }
    }
}
