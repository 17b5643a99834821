// The stages of a verification: tokens exactly, pixels, image and text embeddings end to end (our tokenizer and
// preprocessing) and model only (the reference's own tokens and pixels). A stage the reference does not hold is
// "absent", one it holds but this run cannot do (no --images) is "not run"; neither is ever a pass, and a run
// passes only when at least one stage ran and every stage that ran passed. The CLI's `verify` is a shell.
import ClipCore
import ClipEmbed
import ClipImage
import ClipModel
import ClipTokenizer
import ClipWeights
import Foundation

public struct VerifyOptions: Sendable {
    public var minCosine: Double
    /// Why `minCosine` is what it is (stored dtype against the reference's weights dtype).
    public var toleranceReason: String
    public var pixelTolerance: Double
    /// The relative error each intermediate stage may show (Tolerances.stage), and why.
    public var stageTolerance: (relative: Double, reason: String) = (Tolerances.stageRelativeSameValues, "float32 summation order")
    /// The folder the reference's images came from; nil runs the model-only image stage alone.
    public var imagesDir: String?
    public var batch: Int

    public init(minCosine: Double, toleranceReason: String, pixelTolerance: Double, imagesDir: String?, batch: Int) {
        self.minCosine = minCosine
        self.toleranceReason = toleranceReason
        self.pixelTolerance = pixelTolerance
        self.imagesDir = imagesDir
        self.batch = batch
    }
}

public struct VerifyRun {
    let model: CLIPModel
    let ref: ReferenceFile
    let options: VerifyOptions

    public init(model: CLIPModel, ref: ReferenceFile, options: VerifyOptions) {
        self.model = model
        self.ref = ref
        self.options = options
    }

    public func run(weightsDType: String, provenance: Provenance) throws -> VerifyReport {
        let (tokens, ourTokens) = try tokenStage()
        let (pixels, ourPixels) = try pixelStage()
        let image = try ourPixels.map { buffer in
            stage(try encodeImages(UnsafeBufferPointer(buffer.pointer)), ref.imageEmbeddings, imageNames)
        } ?? absentStage(ref.hasImages ? "not run" : "absent")
        let imageModel = ref.hasImages
            ? stage(try ref.pixels.withUnsafeBufferPointer { try encodeImages($0) }, ref.imageEmbeddings, imageNames)
            : absentStage("absent")
        let embedder = TextEmbedder(model: model, batch: options.batch)
        let text = try ourTokens.map { stage(try embedder.embed(tokens: $0.flatMap { $0 }, count: $0.count), ref.textEmbeddings, textNames) }
            ?? absentStage("absent")
        let textModel = ref.hasTexts ? stage(try embedder.embed(tokens: ref.tokens, count: ref.textCount), ref.textEmbeddings, textNames)
            : absentStage("absent")
        let intermediates = try StageDivergence.compare(model: model, ref: ref, tolerance: options.stageTolerance)
            ?? VerifyReport.Intermediates(status: "absent", tolerance: options.stageTolerance.relative,
                                          tolerance_reason: options.stageTolerance.reason, towers: [], pass: false)
        let ran = [tokens.status, pixels.status, image.status, imageModel.status, text.status, textModel.status, intermediates.status]
            .filter { $0 == "pass" || $0 == "fail" }
        var report = VerifyReport(
            weights_dtype: weightsDType, reference_weights_dtype: ref.weightsDType, tolerance_reason: options.toleranceReason,
            assumed: model.spec.assumed.filter { $0 != "tokenizer" }, provenance: provenance, tokens: tokens, pixels: pixels, image: image, image_model_only: imageModel, text: text,
            text_model_only: textModel, intermediates: intermediates, diagnosis: [], pass: !ran.isEmpty && ran.allSatisfy { $0 == "pass" })
        report.diagnosis = Diagnosis.lines(report)
        return report
    }

    var imageNames: [String] { ref.names }
    var textNames: [String] { ref.strings.enumerated().map { "#\($0.offset) \(VerifyReport.quote($0.element))" } }

    // Stage 1: tokens, exactly (our tokenizer of the model's kind on the reference's strings).
    func tokenStage() throws -> (VerifyReport.Tokens, [[Int32]]?) {
        guard ref.hasTexts else {
            return (VerifyReport.Tokens(status: "absent", exact: 0, total: 0, failing: 0, first_mismatch: nil, pass: false), nil)
        }
        let n = model.spec.contextLength
        let ours = try TextEmbedder(model: model, batch: options.batch).tokenize(ref.strings)
        var exact = 0
        var firstMismatch: String?
        for (i, row) in ours.enumerated() {
            let theirs = Array(ref.tokens[(i * n)..<((i + 1) * n)])
            if row == theirs { exact += 1; continue }
            if firstMismatch == nil {
                let at = row.indices.first { row[$0] != theirs[$0] } ?? 0
                firstMismatch = "text \(i) \(VerifyReport.quote(ref.strings[i])): position \(at), ours \(row[at]) vs reference \(theirs[at])"
            }
        }
        let ok = exact == ours.count && !ours.isEmpty
        return (VerifyReport.Tokens(status: ok ? "pass" : "fail", exact: exact, total: ours.count, failing: ours.count - exact,
                                    first_mismatch: firstMismatch, pass: ok), ours)
    }

    // Stage 2: pixels, our decode + preprocessing of the named files.
    func pixelStage() throws -> (VerifyReport.Pixels, FloatBuffer?) {
        func notDone(_ status: String) -> VerifyReport.Pixels {
            VerifyReport.Pixels(status: status, max_abs_diff: 0, mean_abs_diff: 0, over_one_level: 0, failing: 0, total: 0, worst: "-",
                                tolerance: options.pixelTolerance, pass: false)
        }
        guard ref.hasImages else { return (notDone("absent"), nil) }
        guard let imagesDir = options.imagesDir else { return (notDone("not run"), nil) }
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
        for start in stride(from: 0, to: paths.count, by: options.batch) {
            let chunk = Array(paths[start..<min(paths.count, start + options.batch)])
            try ImageEmbedder.preprocessAll(chunk, pre, into: pixels.pointer.baseAddress! + start * pre.count, pool: WorkerPool.shared)
        }
        guard !paths.isEmpty else { return (notDone("absent"), nil) }
        let ours = UnsafeBufferPointer(pixels.pointer)
        let px = ref.pixels.withUnsafeBufferPointer {
            PixelComparison(ours: ours, reference: $0, count: paths.count, std: model.spec.preprocess.std)
        }
        var failing = 0
        for i in 0..<paths.count {
            let range = (i * pre.count)..<((i + 1) * pre.count)
            if zip(ours[range], ref.pixels[range]).contains(where: { !(abs($0 - $1) <= Float(options.pixelTolerance)) }) { failing += 1 }
        }
        let ok = px.maxAbsDiff <= options.pixelTolerance
        return (VerifyReport.Pixels(
            status: ok ? "pass" : "fail",
            max_abs_diff: px.maxAbsDiff.isFinite ? px.maxAbsDiff : .greatestFiniteMagnitude,
            mean_abs_diff: px.meanAbsDiff.isFinite ? px.meanAbsDiff : .greatestFiniteMagnitude, over_one_level: px.overOneLevel,
            failing: failing, total: paths.count, worst: ref.names[px.worst], tolerance: options.pixelTolerance, pass: ok), pixels)
    }

    func absentStage(_ status: String) -> VerifyReport.Embeddings {
        VerifyReport.Embeddings(status: status, count: 0, failing: 0, min_cosine: 0, mean_cosine: 0, max_abs_error: 0, worst: "-",
                                tolerance: options.minCosine, pass: false, worst_first_values: [], rows: [])
    }

    func stage(_ m: Matrix, _ reference: Matrix, _ names: [String]) -> VerifyReport.Embeddings {
        let c = EmbeddingComparison(ours: m, reference: reference)
        guard c.count > 0 else { return absentStage("absent") }
        let first = [Array(m.row(c.worst).prefix(6)), Array(reference.row(c.worst).prefix(6))]
        // NaN (a broken model) is reported as the worst possible figure, which JSON can carry.
        func finite(_ x: Double, _ bad: Double) -> Double { x.isFinite ? x : bad }
        let rows = (0..<c.count).map {
            VerifyReport.Row(item: names[$0], cosine: finite(c.rowCosines[$0], -1), max_abs_error: finite(c.rowMaxAbsErrors[$0], .greatestFiniteMagnitude))
        }
        let failing = c.rowCosines.filter { !($0 >= options.minCosine) }.count
        return .init(status: failing == 0 ? "pass" : "fail", count: c.count, failing: failing,
                     min_cosine: finite(c.minCosine, -1), mean_cosine: finite(c.meanCosine, -1),
                     max_abs_error: finite(c.maxAbsError, .greatestFiniteMagnitude), worst: names[c.worst],
                     tolerance: options.minCosine, pass: failing == 0, worst_first_values: first, rows: rows)
    }

    private func encodeImages(_ pixels: UnsafeBufferPointer<Float>) throws -> Matrix {
        let per = ref.pixelsPerImage
        var out = Matrix(rows: ref.imageCount, cols: model.spec.embedDim)
        for start in stride(from: 0, to: ref.imageCount, by: options.batch) {
            let m = min(options.batch, ref.imageCount - start)
            let e = try model.encodeImages(UnsafeBufferPointer(rebasing: pixels[(start * per)..<((start + m) * per)]), count: m)
            out.data.replaceSubrange((start * out.cols)..<((start + m) * out.cols), with: e.data)
        }
        return out
    }
}
