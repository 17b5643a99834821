// The error type of ClipImage: every bad input (missing file, empty or non-image bytes,
// truncated or corrupt files, formats clipwb does not decode, oversized headers) is one of these, never a crash.
import ClipCore

public enum ImageErrors: ErrorDomain { public static let library = "ClipImage" }
public typealias ImageError = LibraryError<ImageErrors>

extension LibraryError where Domain == ImageErrors {
    /// The largest image accepted, checked against the header before any pixel is decoded.
    public static let maxPixels = 50_000_000

    static func named(_ source: String?) -> String { source.map { "'\($0)'" } ?? "the image" }

    static func empty(_ s: String?) -> ImageError {
        ImageError("image.empty", "\(named(s)) is empty (0 bytes); pass an image file (\(ImageDecoder.formatList))")
    }
    static func notAnImage(_ s: String?) -> ImageError {
        ImageError("image.unknown-format",
                   "\(named(s)) is not an image format clipwb reads (judged by its first bytes, not its name); clipwb decodes \(ImageDecoder.formatList)")
    }
    static func unsupportedFormat(_ s: String?, _ format: String) -> ImageError {
        ImageError("image.unknown-format",
                   "\(named(s)) is \(ImageDecoder.withArticle(format)) file; clipwb decodes \(ImageDecoder.formatList); convert it to one of those")
    }
    static func truncated(_ s: String?, _ format: String, _ detail: String) -> ImageError {
        ImageError("image.truncated",
                   "\(named(s)) is a truncated \(format) (\(detail)); the file was cut short, re-download or re-export it")
    }
    static func corrupt(_ s: String?, _ format: String, _ detail: String) -> ImageError {
        ImageError("image.corrupt", "\(named(s)) is a corrupt \(format) (\(detail)); re-export it or remove it")
    }
    static func unsupported(_ s: String?, _ format: String, _ detail: String) -> ImageError {
        ImageError("image.unsupported", "\(named(s)) is a \(format) clipwb cannot read (\(detail)); convert it to 8-bit RGB PNG or JPEG")
    }
    static func tooLarge(_ s: String?, _ width: Int, _ height: Int) -> ImageError {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        return ImageError("image.too-large",
                          "\(named(s)) declares \(width)x\(height) = \(overflow ? "over 2^63" : "\(pixels)") pixels, more than the limit of \(maxPixels) (50 megapixels); downscale it first")
    }
}
