// A clip-reference file (spec: /work/shared/specs/clip-hdf5.md §2): the PyTorch outputs verify compares with.
import ClipCore
import ClipWeights

/// A clip-reference file's contents (spec: /work/shared/specs/clip-hdf5.md §2).
public struct ReferenceFile: Sendable {
    public let path: String
    /// Whether the reference holds each group (the spec allows images only or texts only).
    public let hasImages: Bool
    public let hasTexts: Bool
    public let names: [String]
    public let pixels: [Float]
    public let imageEmbeddings: Matrix
    public let strings: [String]
    public let tokens: [Int32]
    public let textEmbeddings: Matrix
    public let pixelShape: [Int]
    public let weightsDType: String?
    /// Provenance: the `source` and sha256 of the weights the reference was computed with (sha may be empty).
    public let weightsSource: String?
    public let weightsSha256: String?
    /// /intermediates/images and /intermediates/texts: every named stage for the first K items (optional).
    public let imageStages: ReferenceStages?
    public let textStages: ReferenceStages?

    public init(path: String) throws {
        self.path = path
        let f = try HDF5File(path: path)
        let format: String? = if case .string(let s)? = try? f.attribute("format") { s } else { nil }
        guard format == "clip-reference" else {
            let hint = format == "clip-hdf5" ? "this is a clip-hdf5 weights file; pass it as --weights and the reference as --reference"
                : "it has no format=\"clip-reference\" attribute; pass the reference .h5 the exporter wrote"
            throw ParityError("verify.not-reference", "'\(path)' is not a clip-reference file: \(hint)")
        }
        func group(_ g: String, _ members: [String]) throws -> Bool {
            let present = members.filter { f.exists("/\(g)/\($0)") }
            if present.isEmpty { return false }
            if let missing = members.first(where: { !present.contains($0) }) {
                throw ParityError("verify.reference-incomplete", "reference '\(path)' has /\(g) but lacks the dataset /\(g)/\(missing); re-export it")
            }
            return true
        }
        hasImages = try group("images", ["names", "pixels", "embeddings"])
        hasTexts = try group("texts", ["strings", "tokens", "embeddings"])
        guard hasImages || hasTexts else {
            throw ParityError("verify.reference-incomplete", "reference '\(path)' holds neither /images nor /texts: there is nothing to verify against; re-export it with --images and/or --texts")
        }
        if hasImages {
            names = try f.readStrings("/images/names")
            pixelShape = try f.info("/images/pixels").shape
            let ie = try f.info("/images/embeddings").shape
            guard ie.count == 2, ie[0] == names.count, pixelShape.count == 4, pixelShape[0] == names.count else {
                throw ParityError("verify.reference-shape", "reference '\(path)' has inconsistent shapes: names \(names.count), pixels \(pixelShape), image embeddings \(ie)")
            }
            pixels = try f.readFloats("/images/pixels")
            imageEmbeddings = Matrix(rows: ie[0], cols: ie[1], data: try f.readFloats("/images/embeddings"))
        } else {
            (names, pixelShape, pixels, imageEmbeddings) = ([], [0, 3, 0, 0], [], Matrix(rows: 0, cols: 0))
        }
        if hasTexts {
            strings = try f.readStrings("/texts/strings")
            tokens = try f.readInt32s("/texts/tokens")
            let te = try f.info("/texts/embeddings").shape
            guard te.count == 2, te[0] == strings.count, strings.isEmpty || tokens.count % strings.count == 0 else {
                throw ParityError("verify.reference-shape", "reference '\(path)' has \(strings.count) strings, \(tokens.count) token ids and text embeddings \(te)")
            }
            textEmbeddings = Matrix(rows: te[0], cols: te[1], data: try f.readFloats("/texts/embeddings"))
        } else {
            (strings, tokens, textEmbeddings) = ([], [], Matrix(rows: 0, cols: 0))
        }
        func text(_ name: String) -> String? {
            if case .string(let s)? = try? f.attribute(name), !s.isEmpty { s } else { nil }
        }
        weightsDType = text("weights_dtype")
        weightsSource = text("weights_source")
        weightsSha256 = text("weights_sha256")
        imageStages = hasImages ? try ReferenceStages.read(f, group: "images", path: path, count: names.count) : nil
        textStages = hasTexts ? try ReferenceStages.read(f, group: "texts", path: path, count: strings.count) : nil
    }

    /// The reference must have been made for a model of this configuration.
    public func check(against c: ModelSpec) throws {
        for (has, m) in [(hasImages, imageEmbeddings), (hasTexts, textEmbeddings)] where has && m.cols != c.embedDim {
            throw ParityError("verify.mismatch", "the reference's embeddings have \(m.cols) dimensions but the weights' embed_dim is \(c.embedDim); pass the weights this reference was made with")
        }
        guard !hasImages || (pixelShape[1] == 3 && pixelShape[2] == c.imageResolution && pixelShape[3] == c.imageResolution) else {
            throw ParityError("verify.mismatch", "the reference's pixels are \(pixelShape.dropFirst()) but the model takes 3×\(c.imageResolution)×\(c.imageResolution)")
        }
        guard !hasTexts || tokens.count == strings.count * c.contextLength else {
            throw ParityError("verify.mismatch", "the reference's tokens are not rows of the model's context length \(c.contextLength)")
        }
    }
}

extension ReferenceFile {
    public var imageCount: Int { names.count }
    public var textCount: Int { strings.count }
    /// Floats per reference image (3·h·w).
    public var pixelsPerImage: Int { pixelShape.dropFirst().reduce(1, *) }
}
