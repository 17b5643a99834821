// Which container a byte string is, by its first bytes only (never a file name), following the
// _accept functions of Pillow's plugins: JpegImagePlugin (FF D8 FF), PngImagePlugin (signature),
// GifImagePlugin (GIF87a/GIF89a), BmpImagePlugin ("BM"), TiffImagePlugin (II*\0, MM\0*, and the
// BigTIFF forms), WebPImagePlugin (RIFF….WEBP), PpmImagePlugin ("P1"…"P6").

extension ImageDecoder {
    public enum Format: String, Sendable, CaseIterable {
        case jpeg, png, gif, bmp, tiff, webp, ppm

        /// The name used in messages.
        public var name: String {
            switch self {
            case .jpeg: "JPEG"
            case .png: "PNG"
            case .gif: "GIF"
            case .bmp: "BMP"
            case .tiff: "TIFF"
            case .webp: "WebP"
            case .ppm: "PPM"
            }
        }

        public var contentType: String {
            switch self {
            case .jpeg: "image/jpeg"
            case .png: "image/png"
            case .gif: "image/gif"
            case .bmp: "image/bmp"
            case .tiff: "image/tiff"
            case .webp: "image/webp"
            case .ppm: "image/x-portable-anymap"
            }
        }

        public var fileExtension: String {
            switch self {
            case .jpeg: "jpg"
            case .tiff: "tif"
            default: rawValue
            }
        }
    }

    /// Every format clipwb decodes, for messages: "JPEG, PNG, GIF, BMP, TIFF, WebP and PPM".
    public static let formatList = Format.allCases.dropLast().map(\.name).joined(separator: ", ") + " and " + Format.allCases.last!.name

    public static func format(of b: some Collection<UInt8>) -> Format? {
        let h = Array(b.prefix(16))
        func starts(_ p: [UInt8], at o: Int = 0) -> Bool { h.count >= o + p.count && Array(h[o..<(o + p.count)]) == p }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("BM".utf8)) { return .bmp }
        if starts([0x49, 0x49, 0x2A, 0]) || starts([0x4D, 0x4D, 0, 0x2A]) || starts([0x49, 0x49, 0x2B, 0]) || starts([0x4D, 0x4D, 0, 0x2B]) {
            return .tiff
        }
        if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) { return .webp }
        if h.count >= 2, h[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(h[1]),
           h.count == 2 || PPMDecoder.isSpace(h[2]) {
            return .ppm
        }
        return nil
    }

    /// "an AVIF", "a HEIC": the name with its article, for messages.
    public static func withArticle(_ name: String) -> String {
        (name.first.map { "AEIOS".contains($0) } == true ? "an " : "a ") + name
    }

    /// Image formats recognised by their first bytes that clipwb does not decode, by name.
    public static func unsupportedFormat(of b: some Collection<UInt8>) -> String? {
        let h = Array(b.prefix(16))
        func starts(_ p: [UInt8], at o: Int = 0) -> Bool { h.count >= o + p.count && Array(h[o..<(o + p.count)]) == p }
        if starts(Array("ftyp".utf8), at: 4), h.count >= 12 {
            let brand = String(decoding: h[8..<12], as: UTF8.self)
            if ["avif", "avis"].contains(brand) { return "AVIF" }
            if ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].contains(brand) { return "HEIC" }
        }
        if starts([0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || starts([0xFF, 0x4F, 0xFF, 0x51]) { return "JPEG 2000" }
        if starts([0, 0, 0, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) || starts([0xFF, 0x0A]) { return "JPEG XL" }
        if starts([0, 0, 1, 0]) { return "ICO" }
        if starts([0, 0, 2, 0]) { return "CUR" }
        if starts(Array("8BPS".utf8)) { return "PSD" }
        if starts(Array("qoif".utf8)) { return "QOI" }
        if starts(Array("DDS ".utf8)) { return "DDS" }
        if starts(Array("icns".utf8)) { return "ICNS" }
        if starts(Array("Pf".utf8)) || starts(Array("PF".utf8)) || starts(Array("PyP".utf8)) { return "PFM" }
        if starts(Array("%PDF".utf8)) { return "PDF" }
        if starts(Array("<svg".utf8)) || starts(Array("<?xml".utf8)) { return "SVG/XML" }
        return nil
    }
}
