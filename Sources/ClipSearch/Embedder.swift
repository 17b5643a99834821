// The seams ClipSearch stands on: something that turns texts and images into unit vectors,
// and the errors the search service reports. The CLIP encoders plug in through `CLIPEmbedder`.
import ClipCore

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
    /// Decodes (JPEG/PNG by magic bytes) and preprocesses one image; throws for unreadable bytes.
    func prepareImage(_ bytes: [UInt8]) throws -> PreparedImage
    /// Embeds prepared images: [images.count, dimension], rows L2-normalized.
    func embedImages(_ images: [PreparedImage]) throws -> Matrix
    /// Embeds texts: [texts.count, dimension], rows L2-normalized.
    func embedTexts(_ texts: [String]) throws -> Matrix
}

/// The image container a byte string is, judged by its magic bytes only (never by a file name).
public enum ImageFormat: String, Sendable {
    case jpeg, png

    public init?(magic b: some Collection<UInt8>) {
        let head = Array(b.prefix(8))
        if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF {
            self = .jpeg
        } else if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            self = .png
        } else {
            return nil
        }
    }

    public var contentType: String { self == .jpeg ? "image/jpeg" : "image/png" }
    public var fileExtension: String { self == .jpeg ? "jpg" : "png" }
}

/// The error type of ClipSearch: catalog, ingestion and search failures.
public struct SearchError: ClipwbError, Equatable {
    public let code: String
    public let message: String
    public let kind: ErrorKind

    public init(_ code: String, _ message: String, kind: ErrorKind = .badInput) {
        self.code = code
        self.message = message
        self.kind = kind
    }
}
