// Activation buffers of one forward pass, owned here and reused across calls (no page faults per batch).
import ClipCore
import CKernels
import ClipWeights

final class Workspace {
    let tokens: Int
    let width: Int
    private let storage: FloatBuffer
    /// Residual stream [tokens, width].
    let x: UnsafeMutablePointer<Float>
    /// LayerNorm output [tokens, width].
    let h: UnsafeMutablePointer<Float>
    /// Attention context [tokens, width].
    let ctx: UnsafeMutablePointer<Float>
    /// in_proj output [tokens, 3·width].
    let qkv: UnsafeMutablePointer<Float>
    /// MLP hidden [tokens, mlpWidth]; also holds the ViT's im2col patches and patch embeddings.
    let f: UnsafeMutablePointer<Float>
    /// Per-worker attention scratch.
    let attention: UnsafeMutablePointer<Float>

    let longest: Int
    let headDim: Int
    let fCount: Int

    /// `minF`: floats `f` must hold at least (the ViT's patches may need more than tokens·mlpWidth).
    init(tokens: Int, width: Int, mlpWidth: Int, longest: Int, headDim: Int, threads: Int, minF: Int = 0) {
        self.tokens = tokens
        self.width = width
        self.longest = longest
        self.headDim = headDim
        fCount = max(tokens * mlpWidth, minF)
        let att = threads * Attention.scratchCount(longest: longest, headDim: headDim)
        let sizes = [tokens * width, tokens * width, tokens * width, tokens * 3 * width, fCount, att]
        storage = FloatBuffer(count: sizes.reduce(0, +))
        var p = storage.pointer.baseAddress!
        var parts: [UnsafeMutablePointer<Float>] = []
        for s in sizes {
            parts.append(p)
            p += s
        }
        (x, h, ctx, qkv, f, attention) = (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5])
    }
}

/// Keeps the last workspace when the next forward fits in it.
final class WorkspaceCache: @unchecked Sendable {
    private var cached: Workspace?
    private let lock = NSLockLike()

    func take(tokens: Int, width: Int, mlpWidth: Int, longest: Int, headDim: Int, threads: Int, minF: Int = 0) -> Workspace {
        lock.locked {
            if let w = cached, w.tokens >= tokens, w.width == width, w.longest >= longest, w.headDim == headDim,
               w.fCount >= max(minF, tokens * mlpWidth) {
                cached = nil
                return w
            }
            cached = nil
            return Workspace(tokens: tokens, width: width, mlpWidth: mlpWidth, longest: longest, headDim: headDim, threads: threads, minF: minF)
        }
    }

    func giveBack(_ w: Workspace) {
        lock.locked {
            if cached == nil || cached!.tokens < w.tokens { cached = w }
        }
    }
}

/// A weight matrix as the encoders read it: float32, or IEEE halves straight from the weight file's mapping.
enum WeightMatrix {
    case f32(UnsafePointer<Float>)
    case f16(UnsafePointer<UInt16>)

    /// Row `r` of a matrix with `width` columns, widened into `out` (`width` floats).
    @inline(__always) func row(_ r: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32(let p): out.update(from: p + r * width, count: width)
        case .f16(let p): ck_f16_to_f32(p + r * width, out, width)
        }
    }
}

/// Shape-checked tensor access: every tensor the model reads must exist with the shape the config predicts.
enum ModelTensors {
    /// A matrix the encoders multiply by: read as float16 when the weights keep it so (`HalfWeights.direct`).
    static func matrix(_ weights: CLIPWeights, _ name: String, _ shape: [Int]) throws -> WeightMatrix {
        if let h = weights.float16(name) {
            try check(name, h.shape, shape)
            return .f16(h.data.baseAddress!)
        }
        return .f32(try pointer(weights, name, shape))
    }

    static func pointer(_ weights: CLIPWeights, _ name: String, _ shape: [Int]) throws -> UnsafePointer<Float> {
        let t = try weights.tensor(name)
        try check(name, t.shape, shape)
        return t.data.baseAddress!
    }

    private static func check(_ name: String, _ actual: [Int], _ shape: [Int]) throws {
        guard actual == shape else {
            throw ModelError("model.shape", "tensor '\(name)' has shape \(actual), but the configuration needs \(shape); the weights file does not match its config")
        }
    }
}

public enum ModelErrors: ErrorDomain { public static let library = "ClipModel" }
/// The error type of ClipModel.
public typealias ModelError = LibraryError<ModelErrors>
