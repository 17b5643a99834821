// The Embedder over the real CLIP encoders: ClipImage's decoding + CLIP preprocessing,
// ClipTokenizer's clip.tokenize (truncating), ClipModel's encode_image / encode_text, then
// L2-normalization (as the reference demo does before indexing).
import ClipCore
import ClipEmbed
import ClipImage
import ClipModel
import ClipTokenizer
import ClipWeights

public final class CLIPEmbedder: Embedder, @unchecked Sendable {
    public let model: CLIPModel
    public let modelName: String
    public var dimension: Int { model.spec.embedDim }
    let text: TextEmbedder
    let preprocess: CLIPPreprocess

    /// Loads the weights (HDF5 export or converted safetensors) and the tokenizer. A server passes
    /// `backing: .privateCopy`, so replacing the weights file under it cannot kill it (SIGBUS).
    public init(weightsPath: String, backing: MappedFile.Backing = .mapping) throws {
        model = try ModelLoading.load(weightsPath, backing: backing)
        text = TextEmbedder(model: model, batch: 64)
        preprocess = Preprocessing.of(model.spec)
        modelName = ModelNames.describe(model.spec)
    }

    public func prepareImage(_ bytes: [UInt8]) throws -> PreparedImage {
        let decoded = try ImageDecoder.decode(bytes: bytes)
        let pixels = preprocess.normalized(try preprocess.resizedCropped(decoded))
        return PreparedImage(width: decoded.width, height: decoded.height, pixels: pixels)
    }

    public func embedImages(_ images: [PreparedImage]) throws -> Matrix {
        var all: [Float] = []
        all.reserveCapacity(images.count * model.pixelsPerImage)
        for im in images { all += im.pixels }
        var m = try model.encodeImages(all, count: images.count)  // [n, embedDim]
        m.normalizeRows()
        return m
    }

    public func embedTexts(_ texts: [String]) throws -> Matrix {
        let rows = try text.tokenize(texts)  // [n, 77], truncated like clip.tokenize(truncate=True)
        var m = try model.encodeTexts(rows)  // [n, embedDim]
        m.normalizeRows()
        return m
    }
}
