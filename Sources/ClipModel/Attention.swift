// Multi-head self-attention over packed sequences, as torch's nn.MultiheadAttention computes it for
// openai/CLIP (q, k, v = x·in_proj_weightᵀ + in_proj_bias; softmax(q·kᵀ/√d [+ causal mask])·v per head).
// The out_proj product is the caller's (it accumulates straight into the residual stream).
import ClipCore

/// Where each sequence sits in the packed [tokens, width] activations.
struct SequenceLayout {
    /// First packed row of each sequence.
    var starts: [Int]
    /// Token count of each sequence.
    var lengths: [Int]
    /// Text: position i sees keys 0...i. Vision: every token sees every token.
    var causal: Bool
    /// The position the encoder reads out of each sequence (class token 0, or the end token).
    var readouts: [Int]

    var count: Int { starts.count }
    var tokens: Int { lengths.reduce(0, +) }
    var longest: Int { lengths.max() ?? 0 }

    init(lengths: [Int], causal: Bool, readouts: [Int]) {
        self.lengths = lengths
        self.causal = causal
        self.readouts = readouts
        var s = 0
        starts = lengths.map { l in defer { s += l }; return s }
    }
}

/// Which query rows attention produces: all of them, or only the one row per sequence that the
/// encoder reads out (class token / end token) — the last block needs nothing else, exactly.
enum QueryRows {
    case all
    case readout
}

enum Attention {
    /// Scratch floats one worker needs for sequences up to `longest` tokens with head dim `d`.
    static func scratchCount(longest l: Int, headDim d: Int) -> Int { 3 * l * d + l * l }

    /// qkv: [tokens, 3·width] without bias. out: [tokens or sequences, width] (see `queries`).
    /// scratch: `pool.threads` blocks of `scratchCount` floats.
    static func forward(qkv: UnsafePointer<Float>, bias: UnsafePointer<Float>, width w: Int, heads: Int,
                        layout: SequenceLayout, queries: QueryRows, out: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let d = w / heads
        let stride = scratchCount(longest: layout.longest, headDim: d)
        let scale = 1 / Float(d).squareRoot()
        pool.parallelFor(layout.count * heads) { task, worker in
            let (s, h) = (task / heads, task % heads)
            let l = layout.lengths[s], row0 = layout.starts[s]
            // This sequence's query rows: all l, or the single first/last one.
            let (q0, nq) = queries == .all ? (0, l) : (layout.readouts[s], 1)
            let q = scratch + worker * stride       // [nq, d], bias added, scaled by 1/√d
            let k = q + l * d                       // [l, d]
            let v = k + l * d                       // [l, d]
            let p = v + l * d                       // [nq, l] scores, then probabilities
            for t in 0..<l {
                let src = qkv + (row0 + t) * 3 * w + h * d
                for j in 0..<d {
                    k[t * d + j] = src[w + j] + bias[w + h * d + j]
                    v[t * d + j] = src[2 * w + j] + bias[2 * w + h * d + j]
                }
            }
            for t in 0..<nq {
                let src = qkv + (row0 + q0 + t) * 3 * w + h * d
                for j in 0..<d { q[t * d + j] = (src[j] + bias[h * d + j]) * scale }
            }
            // p: [nq, l] = q: [nq, d] · kᵀ: [d, l]
            GEMM.matmul(q, lda: d, k, ldb: d, transB: true, p, ldc: l, m: nq, n: l, k: d)
            for t in 0..<nq {
                let visible = layout.causal ? q0 + t + 1 : l
                Kernels.softmax(p + t * l, count: visible)
                for j in visible..<l { p[t * l + j] = 0 }
            }
            // ctx: [nq, d] = p: [nq, l] · v: [l, d], written into the head's columns of out.
            let outRow = queries == .all ? row0 : s
            GEMM.matmul(p, lda: l, v, ldb: d, transB: false, out + outRow * w + h * d, ldc: w, m: nq, n: d, k: l)
        }
    }
}
