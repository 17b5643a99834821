// The embedding stage: weights → model + the model's own tokenizer and preprocessing → embeddings. The CLI
// (`embed`, `verify`, benchmarks) and the search service (ClipSearch) both go through here, so an image or a
// text is embedded one way everywhere. Everything the stage needs to know about the model is in its spec.
import ClipCore
import ClipImage
import ClipModel
import ClipTokenizer
import ClipWeights
import Foundation

public enum ModelLoading {
    /// Weights → model, with shape checks; errors name the file.
    public static func load(_ path: String, halves: HalfWeights = .standard, backing: MappedFile.Backing = .mapping) throws -> CLIPModel {
        try CLIPModel(weights: CLIPWeights.load(path: path, halves: halves, backing: backing))
    }
}

/// Decode + preprocess a batch in parallel, then one forward pass per batch; a progress bar past a handful.
public struct ImageEmbedder {
    public let model: CLIPModel
    public let batch: Int
    static let progressAbove = 8

    public init(model: CLIPModel, batch: Int) {
        self.model = model
        self.batch = batch
    }

    public struct Result {
        /// [kept.count, embed_dim], row i for kept[i].
        public var embeddings: Matrix
        public var kept: [String]
        public var failed: [(path: String, message: String)]
    }

    /// Embeds every readable image; one that cannot be read or decoded is skipped and reported
    /// (or, with `strict`, thrown: the first such in input order).
    public func embed(paths: [String], strict: Bool = false) throws -> Result {
        let pre = Preprocessing.of(model.spec)
        let progress = paths.count > Self.progressAbove ? ProgressBar(total: paths.count, label: "embed", unit: "images") : nil
        var data: [Float] = []
        data.reserveCapacity(paths.count * model.spec.embedDim)
        var kept: [String] = [], failed: [(path: String, message: String)] = []
        let buffer = FloatBuffer(count: min(batch, paths.count) * pre.count)
        for start in stride(from: 0, to: paths.count, by: batch) {
            let chunk = Array(paths[start..<min(paths.count, start + batch)])
            let errors = Self.preprocess(chunk, pre, into: buffer.pointer.baseAddress!, pool: WorkerPool.shared)
            if strict, let first = errors.compactMap({ $0 }).first { throw first }
            // Close the gaps the failures left: rows of good images move up, in order.
            var n = 0
            for (i, e) in errors.enumerated() {
                if let e {
                    failed.append((chunk[i], (e as? any ClipwbError)?.message ?? "\(e)"))
                    continue
                }
                if n != i {
                    (buffer.pointer.baseAddress! + n * pre.count).update(from: buffer.pointer.baseAddress! + i * pre.count, count: pre.count)
                }
                kept.append(chunk[i])
                n += 1
            }
            if n > 0 {
                let e = try model.encodeImages(UnsafeBufferPointer(rebasing: buffer.pointer[0..<(n * pre.count)]), count: n)
                data += e.data
            }
            progress?.advance(by: chunk.count)
        }
        progress?.finish()
        return Result(embeddings: Matrix(rows: kept.count, cols: model.spec.embedDim, data: data), kept: kept, failed: failed)
    }

    /// Preprocesses `paths` into [paths.count, 3, n, n] at `dst`, across the pool; returns each
    /// path's error (nil where it succeeded).
    public static func preprocess(_ paths: [String], _ pre: CLIPPreprocess, into dst: UnsafeMutablePointer<Float>, pool: WorkerPool) -> [Error?] {
        let errors = ErrorSlots(paths.count)
        pool.parallelFor(paths.count) { i in
            do {
                let rgb = try pre.resizedCropped(ImageDecoder.decode(path: paths[i]))
                pre.normalize(rgb, into: dst + i * pre.count)
            } catch {
                errors.set(i, error)
            }
        }
        return errors.all
    }

    /// As `preprocess`, throwing the first error in input order.
    public static func preprocessAll(_ paths: [String], _ pre: CLIPPreprocess, into dst: UnsafeMutablePointer<Float>, pool: WorkerPool) throws {
        if let first = preprocess(paths, pre, into: dst, pool: pool).compactMap({ $0 }).first { throw first }
    }
}

/// Per-item error slots filled from pool threads.
public final class ErrorSlots: @unchecked Sendable {
    private var slots: [Error?]
    private let lock = NSLock()
    public init(_ n: Int) { slots = Array(repeating: nil, count: n) }
    public func set(_ i: Int, _ e: Error) { lock.lock(); slots[i] = e; lock.unlock() }
    public var all: [Error?] { lock.lock(); defer { lock.unlock() }; return slots }
}

public struct TextEmbedder {
    public let model: CLIPModel
    public let batch: Int

    public init(model: CLIPModel, batch: Int) {
        self.model = model
        self.batch = batch
    }

    /// The model's own tokenizer (OpenAI's or open_clip's), truncating to its context as both libraries do.
    public func tokenize(_ texts: [String]) throws -> [[Int32]] {
        try CLIPTokenizer.shared().tokenize(texts, kind: model.spec.tokenizer, contextLength: model.spec.contextLength, truncate: true)
    }

    public func embed(_ texts: [String]) throws -> Matrix {
        let rows = try tokenize(texts)
        return try embed(tokens: rows.flatMap { $0 }, count: rows.count)
    }

    public func embed(tokens: [Int32], count: Int) throws -> Matrix {
        let n = model.spec.contextLength
        var out = Matrix(rows: count, cols: model.spec.embedDim)
        for start in stride(from: 0, to: count, by: batch) {
            let m = min(batch, count - start)
            let e = try model.encodeTexts(Array(tokens[(start * n)..<((start + m) * n)]), count: m)
            out.data.replaceSubrange((start * out.cols)..<((start + m) * out.cols), with: e.data)
        }
        return out
    }
}

/// The model's preprocessing (its spec's pipeline, size, filter, resize mode and normalisation).
public enum Preprocessing {
    public static func of(_ spec: ModelSpec) -> CLIPPreprocess { CLIPPreprocess(spec: spec.preprocess) }
}

public enum ModelNames {
    /// "ViT-B/32" for OpenAI's, else the family's shape: "ViT-16 (12×768 vision, 12×512 text)",
    /// "ModifiedResNet [3, 4, 6, 3] width 64 (12×512 text)".
    public static func describe(_ s: ModelSpec) -> String {
        var openai = s
        openai.assumed = ModelSpec.vitB32.assumed
        if openai == .vitB32 { return "ViT-B/32" }
        let (v, t) = (s.vision.transformer, s.text.transformer)
        if let r = s.vision.resnet {
            return "ModifiedResNet \(r.layers) width \(r.width) (\(t.layers)×\(t.width) text)"
        }
        return "ViT-\(s.vision.patchSize) (\(v.layers)×\(v.width) vision, \(t.layers)×\(t.width) text)"
    }
}
