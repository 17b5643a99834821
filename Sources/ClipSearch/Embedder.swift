// The seams ClipSearch stands on: something that turns texts and images into unit vectors,
// and the errors the search service reports. The CLIP encoders plug in through `CLIPEmbedder`.
import ClipCore
import ClipImage

/// An image decoded and preprocessed for the encoder, with the size it had on disk.
public struct PreparedImage: Sendable {
    public var width: Int
    public var height: Int
    /// The encoder's input (CLIP: 3×224×224 float32, normalized), opaque to ClipSearch.
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Texts and images in, L2-normalized rows out. Calls may come from any thread, one at a time
/// per instance is not assumed: implementations must be safe to call concurrently.
public protocol Embedder: Sendable {
    /// Length of each embedding row.
    var dimension: Int { get }
    /// A short human name for the model (shown by /api/stats and the page footer).
    var modelName: String { get }
    /// Decodes (the format by magic bytes) and preprocesses one image; throws for unreadable bytes.
    func prepareImage(_ bytes: [UInt8]) throws -> PreparedImage
    /// Embeds prepared images: [images.count, dimension], rows L2-normalized.
    func embedImages(_ images: [PreparedImage]) throws -> Matrix
    /// Embeds texts: [texts.count, dimension], rows L2-normalized.
    func embedTexts(_ texts: [String]) throws -> Matrix
}

/// The image container a byte string is, judged by its magic bytes only (never by a file name).
public typealias ImageFormat = ImageDecoder.Format

extension ImageDecoder.Format {
    public init?(magic b: some Collection<UInt8>) {
        guard let f = ImageDecoder.format(of: b) else { return nil }
        self = f
    }
}

extension SearchError {
    /// An upload whose first bytes are no format clipwb decodes (naming it when it is a known one).
    static func unsupportedUpload(_ bytes: [UInt8]) -> SearchError {
        let what = ImageDecoder.unsupportedFormat(of: bytes).map { "is \(ImageDecoder.withArticle($0)) file" }
            ?? "is not an image clipwb reads"
        return SearchError("image.unsupported-type",
                           "the upload \(what) (judged by its first bytes); send one of \(ImageDecoder.formatList)")
    }
}

public enum SearchErrors: ErrorDomain { public static let library = "ClipSearch" }
/// The error type of ClipSearch: catalog, ingestion and search failures.
public typealias SearchError = LibraryError<SearchErrors>
