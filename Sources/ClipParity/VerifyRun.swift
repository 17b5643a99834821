// The stages of a verification and its report (text, or JSON): tokens exactly, pixels, image and text
// embeddings end to end and model only. The CLI's `verify` is a shell over this.
import ClipCore
import ClipEmbed
import ClipImage
import ClipModel
import ClipTokenizer
import ClipWeights
import Foundation

public struct VerifyReport: Encodable {
    public struct Tokens: Encodable {
        public let exact: Int
        public let total: Int
        public let first_mismatch: String?
        public let pass: Bool
    }
    public struct Pixels: Encodable {
        public let max_abs_diff: Double
        public let mean_abs_diff: Double
        public let over_one_level: Int
        public let worst: String
        public let tolerance: Double
        public let pass: Bool
    }
    public struct Embeddings: Encodable {
        public let count: Int
        public let min_cosine: Double
        public let mean_cosine: Double
        public let max_abs_error: Double
        public let worst: String
        public let tolerance: Double
        public let pass: Bool
        /// The worst row's first values, ours and the reference's.
        public let worst_first_values: [[Float]]
    }
    public let weights_dtype: String
    public let reference_weights_dtype: String?
    public let tokens: Tokens
    public let pixels: Pixels
    public let image: Embeddings
    public let image_model_only: Embeddings
    public let text: Embeddings
    public let text_model_only: Embeddings
    public let pass: Bool

    public func text(weights: String, reference: String) -> String {
        func mark(_ p: Bool) -> String { p ? "PASS" : "FAIL" }
        func fmt(_ x: Double, _ digits: Int = 9) -> String { String(format: "%.\(digits)f", x) }
        func sci(_ x: Double) -> String { String(format: "%.2e", x) }
        var s = "verify \(weights) (stored \(weights_dtype)) against \(reference) (weights_dtype \(reference_weights_dtype ?? "unknown"))\n"
        s += "tokens            \(tokens.exact)/\(tokens.total) texts exact  \(mark(tokens.pass))\n"
        if let m = tokens.first_mismatch { s += "  first mismatch: \(m)\n" }
        s += "pixels            max |diff| \(sci(pixels.max_abs_diff))  mean \(sci(pixels.mean_abs_diff))  "
            + ">1 level: \(pixels.over_one_level)  worst \(pixels.worst)  (≤ \(sci(pixels.tolerance)))  \(mark(pixels.pass))\n"
        for (label, e) in [("image end-to-end", image), ("image model-only", image_model_only),
                           ("text end-to-end", text), ("text model-only", text_model_only)] {
            s += label.padding(toLength: 18, withPad: " ", startingAt: 0)
                + "min cos \(fmt(e.min_cosine))  mean \(fmt(e.mean_cosine))  max |err| \(sci(e.max_abs_error))  "
                + "worst \(e.worst)  (≥ \(e.tolerance))  \(mark(e.pass))\n"
            if !e.pass, e.worst_first_values.count == 2 {
                s += "  ours:      \(e.worst_first_values[0].map { String(format: "%+.5f", $0) }.joined(separator: " "))\n"
                s += "  reference: \(e.worst_first_values[1].map { String(format: "%+.5f", $0) }.joined(separator: " "))\n"
            }
        }
        s += "result: \(mark(pass))\n"
        return s
    }
}

public struct VerifyRun {
    let model: CLIPModel
    let ref: ReferenceFile
    let imagesDir: String
    let batch: Int

    public init(model: CLIPModel, ref: ReferenceFile, imagesDir: String, batch: Int) {
        self.model = model
        self.ref = ref
        self.imagesDir = imagesDir
        self.batch = batch
    }

    public func run(weightsDType: String, minCosine: Double, pixelTolerance: Double) throws -> VerifyReport {
        // Stage 1: tokens, exactly.
        let n = model.spec.contextLength
        let embedder = TextEmbedder(model: model, batch: batch)
        let ours = try embedder.tokenize(ref.strings)
        var exact = 0
        var firstMismatch: String?
        for (i, row) in ours.enumerated() {
            let theirs = Array(ref.tokens[(i * n)..<((i + 1) * n)])
            if row == theirs { exact += 1; continue }
            if firstMismatch == nil {
                let at = row.indices.first { row[$0] != theirs[$0] } ?? 0
                firstMismatch = "text \(i) \(String(reflecting: ref.strings[i])): position \(at), ours \(row[at]) vs reference \(theirs[at])"
            }
        }
        let tokens = VerifyReport.Tokens(exact: exact, total: ours.count, first_mismatch: firstMismatch, pass: exact == ours.count)

        // Stage 2: pixels, our decode + preprocessing of the named files.
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: imagesDir, isDirectory: &isDir), isDir.boolValue else {
            throw ParityError("verify.no-images-folder", "--images '\(imagesDir)' is not a folder; pass the folder the reference was made from")
        }
        let paths = try ref.names.map { name -> String in
            let p = (imagesDir as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: p) else {
                throw ParityError("verify.missing-image", "the reference's image '\(name)' is not in \(imagesDir); pass the folder the reference was made from")
            }
            return p
        }
        let pre = Preprocessing.of(model.spec)
        let pixels = FloatBuffer(count: paths.count * pre.count)
        for start in stride(from: 0, to: paths.count, by: batch) {
            let chunk = Array(paths[start..<min(paths.count, start + batch)])
            try ImageEmbedder.preprocessAll(chunk, pre, into: pixels.pointer.baseAddress! + start * pre.count, pool: WorkerPool.shared)
        }
        let ourPixels = UnsafeBufferPointer(pixels.pointer)
        let px = ref.pixels.withUnsafeBufferPointer {
            PixelComparison(ours: ourPixels, reference: $0, count: max(1, paths.count), std: model.spec.preprocess.std)
        }
        let pixelStage = VerifyReport.Pixels(
            max_abs_diff: px.maxAbsDiff.isFinite ? px.maxAbsDiff : .greatestFiniteMagnitude,
            mean_abs_diff: px.meanAbsDiff.isFinite ? px.meanAbsDiff : .greatestFiniteMagnitude, over_one_level: px.overOneLevel,
            worst: ref.names.isEmpty ? "-" : ref.names[px.worst], tolerance: pixelTolerance, pass: px.maxAbsDiff <= pixelTolerance)

        // Stage 3: image embeddings end to end, and from the reference's own pixels.
        let endToEnd = try encodeImages(ourPixels)
        let modelOnly = try ref.pixels.withUnsafeBufferPointer { try encodeImages($0) }
        // Stage 4: text embeddings from our tokens, and from the reference's.
        let textOurs = try embedder.embed(tokens: ours.flatMap { $0 }, count: ours.count)
        let textModelOnly = try embedder.embed(tokens: ref.tokens, count: ref.textCount)

        func stage(_ m: Matrix, _ reference: Matrix, _ names: [String]) -> VerifyReport.Embeddings {
            let c = EmbeddingComparison(ours: m, reference: reference)
            let first = m.rows == 0 ? [] : [Array(m.row(c.worst).prefix(6)), Array(reference.row(c.worst).prefix(6))]
            // NaN (a broken model) is reported as the worst possible figure, which JSON can carry.
            func finite(_ x: Double, _ bad: Double) -> Double { x.isFinite ? x : bad }
            return .init(count: c.count, min_cosine: finite(c.minCosine, -1), mean_cosine: finite(c.meanCosine, -1),
                         max_abs_error: finite(c.maxAbsError, .greatestFiniteMagnitude),
                         worst: names.isEmpty ? "-" : names[c.worst], tolerance: minCosine, pass: c.minCosine >= minCosine,
                         worst_first_values: first)
        }
        let textNames = ref.strings.enumerated().map { "#\($0.offset) \(String(reflecting: $0.element))" }
        let image = stage(endToEnd, ref.imageEmbeddings, ref.names)
        let imageModel = stage(modelOnly, ref.imageEmbeddings, ref.names)
        let text = stage(textOurs, ref.textEmbeddings, textNames)
        let textModel = stage(textModelOnly, ref.textEmbeddings, textNames)
        let pass = tokens.pass && pixelStage.pass && image.pass && imageModel.pass && text.pass && textModel.pass
        return VerifyReport(weights_dtype: weightsDType, reference_weights_dtype: ref.weightsDType, tokens: tokens,
                            pixels: pixelStage, image: image, image_model_only: imageModel, text: text,
                            text_model_only: textModel, pass: pass)
    }

    private func encodeImages(_ pixels: UnsafeBufferPointer<Float>) throws -> Matrix {
        let per = ref.pixelsPerImage
        var out = Matrix(rows: ref.imageCount, cols: model.spec.embedDim)
        for start in stride(from: 0, to: ref.imageCount, by: batch) {
            let m = min(batch, ref.imageCount - start)
            let e = try model.encodeImages(UnsafeBufferPointer(rebasing: pixels[(start * per)..<((start + m) * per)]), count: m)
            out.data.replaceSubrange((start * out.cols)..<((start + m) * out.cols), with: e.data)
        }
        return out
    }
}
