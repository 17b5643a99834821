// `clipwb embed`: CLIP embeddings of images or texts (encode_image / encode_text), as .npy or JSON.
import ArgumentParser
import ClipCore
import ClipImage
import ClipModel
import ClipTokenizer
import ClipWeights
import Foundation

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed images or texts with a CLIP model (encode_image / encode_text).",
        discussion: """
        Images are decoded and preprocessed exactly as OpenAI's CLIP does (PIL bicubic resize, center crop, \
        normalize), texts tokenized as clip.tokenize(truncate=True). Embeddings are the model's raw outputs \
        (not normalized unless --normalize), one row per input in input order. With --out the rows go to a \
        float32 .npy file; otherwise, or with --json, they are printed as JSON. A directory given to --images \
        stands for its image files by extension (.jpg/.jpeg/.png/.gif/.bmp/.tif/.tiff/.webp/.ppm/.pgm/.pbm/.pnm), sorted by name.
        """
    )

    @Option(help: "The weights file (clip-hdf5 .h5 or .safetensors).")
    var weights: String

    @Option(parsing: .upToNextOption, help: "Image files or directories to embed.")
    var images: [String] = []

    @Option(name: .customLong("text"), help: "A text to embed (repeat for more).")
    var text: [String] = []

    @Option(name: .customLong("texts"), help: "A UTF-8 file with one text per line.")
    var textsFile: String?

    @Option(help: "Write the embeddings to this float32 .npy file [count, embed_dim].")
    var out: String?

    @Flag(help: "L2-normalize each embedding (as CLIP does before its cosine logits).")
    var normalize = false

    @Flag(help: "Print {kind, count, dim, normalized, names, embeddings} as JSON.")
    var json = false

    @Option(help: "Half-precision weights: 'direct' (the encoders read float16 as stored; fast load, half the memory) or 'widen' (to float32 at load).")
    var halves: HalfWeights = .standard

    @Option(help: "Inputs per forward pass.")
    var batch: Int = 16

    func validate() throws {
        let sources = [!images.isEmpty, !text.isEmpty, textsFile != nil].filter { $0 }.count
        if sources != 1 {
            throw ValidationError("pass exactly one input: --images PATH..., --text \"...\" (repeatable) or --texts FILE")
        }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let o = out, !o.hasSuffix(".npy") { throw ValidationError("--out must name a .npy file, got '\(o)'") }
    }

    struct Output: Encodable {
        let kind: String
        let count: Int
        let dim: Int
        let normalized: Bool
        let names: [String]
        let embeddings: [[Float]]
    }

    func run() throws {
        try reportingErrors {
            let model = try ModelLoading.load(weights, halves: halves)
            var result: Matrix
            var names: [String]
            if !images.isEmpty {
                let paths = try ImagePaths.expand(images)
                names = paths
                result = try ImageEmbedder(model: model, batch: batch).embed(paths: paths)
            } else {
                names = try textsFile.map { try TextFile.readLines($0) } ?? text
                result = try TextEmbedder(model: model, batch: batch).embed(names)
            }
            if normalize { result.normalizeRows() }
            if let o = out {
                try NPY.write(result, to: o)
                stderrLine("wrote \(result.rows)×\(result.cols) float32 embeddings to \(o)")
            }
            if json || out == nil {
                let rows = (0..<result.rows).map { Array(result.row($0)) }
                try printJSON(Output(kind: images.isEmpty ? "text" : "image", count: result.rows, dim: result.cols,
                                     normalized: normalize, names: names, embeddings: rows))
            }
        }
    }
}

enum ModelLoading {
    /// Weights → model, with shape checks; errors name the file.
    static func load(_ path: String, halves: HalfWeights) throws -> CLIPModel {
        try CLIPModel(weights: CLIPWeights.load(path: path, halves: halves))
    }
}

enum ImagePaths {
    static let extensions: Set<String> = ["jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "ppm", "pgm", "pbm", "pnm"]

    /// Files as given; a directory becomes its image files (by extension), sorted by name.
    static func expand(_ inputs: [String]) throws -> [String] {
        var out: [String] = []
        for p in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                throw CoreError("embed.missing-image", "'\(p)' does not exist; pass image files or a directory of them")
            }
            if isDir.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: p).sorted()
                    .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
                if names.isEmpty { throw CoreError("embed.empty-dir", "directory '\(p)' holds no image files (.jpg, .png, .gif, .bmp, .tif, .webp, .ppm …)") }
                out += names.map { (p as NSString).appendingPathComponent($0) }
            } else {
                out.append(p)
            }
        }
        return out
    }
}

/// Decode + preprocess a batch in parallel, then one forward pass per batch; a progress bar past a handful.
struct ImageEmbedder {
    let model: CLIPModel
    let batch: Int
    static let progressAbove = 8

    func embed(paths: [String]) throws -> Matrix {
        let pre = CLIPPreprocess(resolution: model.config.imageResolution)
        let progress = paths.count > Self.progressAbove ? ProgressBar(total: paths.count, label: "embed", unit: "images") : nil
        var out = Matrix(rows: paths.count, cols: model.config.embedDim)
        let buffer = FloatBuffer(count: min(batch, paths.count) * pre.count)
        for start in stride(from: 0, to: paths.count, by: batch) {
            let chunk = Array(paths[start..<min(paths.count, start + batch)])
            try Self.preprocess(chunk, pre, into: buffer.pointer.baseAddress!, pool: WorkerPool.shared)
            let e = try model.encodeImages(UnsafeBufferPointer(rebasing: buffer.pointer[0..<(chunk.count * pre.count)]), count: chunk.count)
            out.data.replaceSubrange((start * out.cols)..<((start + chunk.count) * out.cols), with: e.data)
            progress?.advance(by: chunk.count)
        }
        progress?.finish()
        return out
    }

    /// Preprocesses `paths` into [paths.count, 3, n, n] at `dst`, across the pool; the first error (in order) is thrown.
    static func preprocess(_ paths: [String], _ pre: CLIPPreprocess, into dst: UnsafeMutablePointer<Float>, pool: WorkerPool) throws {
        let errors = ErrorSlots(paths.count)
        pool.parallelFor(paths.count) { i in
            do {
                let rgb = try pre.resizedCropped(ImageDecoder.decode(path: paths[i]))
                pre.normalize(rgb, into: dst + i * pre.count)
            } catch {
                errors.set(i, error)
            }
        }
        if let e = errors.first { throw e }
    }
}

/// Per-item error slots filled from pool threads.
final class ErrorSlots: @unchecked Sendable {
    private var slots: [Error?]
    private let lock = NSLock()
    init(_ n: Int) { slots = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ e: Error) { lock.lock(); slots[i] = e; lock.unlock() }
    var first: Error? { slots.compactMap { $0 }.first }
}

struct TextEmbedder {
    let model: CLIPModel
    let batch: Int

    func embed(_ texts: [String]) throws -> Matrix {
        let tokenizer = try CLIPTokenizer.shared()
        let rows = try tokenizer.tokenize(texts, contextLength: model.config.contextLength, truncate: true)
        return try embed(tokens: rows.flatMap { $0 }, count: rows.count)
    }

    func embed(tokens: [Int32], count: Int) throws -> Matrix {
        let n = model.config.contextLength
        var out = Matrix(rows: count, cols: model.config.embedDim)
        for start in stride(from: 0, to: count, by: batch) {
            let m = min(batch, count - start)
            let e = try model.encodeTexts(Array(tokens[(start * n)..<((start + m) * n)]), count: m)
            out.data.replaceSubrange((start * out.cols)..<((start + m) * out.cols), with: e.data)
        }
        return out
    }
}
