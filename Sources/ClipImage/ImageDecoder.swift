// Bytes → DecodedImage, the container chosen by magic bytes (FormatSniffer.swift), never by a file name.
import ClipCore
import CJPEG
import CPNG

public enum ImageDecoder {
    /// Reads and decodes a file. `source` names it in errors.
    public static func decode(path: String) throws -> DecodedImage {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch let e as CoreError {
            throw ImageError("image.unreadable", "cannot read image: \(e.message)")
        }
        return try file.withBytes { try decode(bytes: $0, source: path) }
    }

    public static func decode(bytes: [UInt8], source: String? = nil) throws -> DecodedImage {
        try bytes.withUnsafeBytes { try decode(bytes: $0, source: source) }
    }

    public static func decode(bytes b: UnsafeRawBufferPointer, source: String? = nil) throws -> DecodedImage {
        guard b.count > 0 else { throw ImageError.empty(source) }
        switch format(of: b) {
        case .jpeg: return try decodeJPEG(b, source: source)
        case .png: return try decodePNG(b, source: source)
        case .gif: return try GIFDecoder.decode(b, source: source)
        case .bmp: return try BMPDecoder.decode(b, source: source)
        case .tiff: return try TIFFDecoder.decode(b, source: source)
        case .webp: return try WebPDecoder.decode(b, source: source)
        case .ppm: return try PPMDecoder.decode(b, source: source)
        case nil: throw unknown(b, source)
        }
    }

    /// Width and height from the header alone (also enforces the 50-megapixel limit).
    public static func size(bytes b: UnsafeRawBufferPointer, source: String? = nil) throws -> (width: Int, height: Int) {
        guard b.count > 0 else { throw ImageError.empty(source) }
        switch format(of: b) {
        case .jpeg: return jpeg.size(try jpeg.info(b, source: source))
        case .png: return png.size(try png.info(b, source: source))
        case .gif: return try GIFDecoder.size(b, source: source)
        case .bmp:
            let h = try BMPDecoder.header(b, source: source)
            return (h.width, h.height)
        case .tiff: return try TIFFDecoder.size(b, source: source)
        case .webp: return try WebPDecoder.size(b, source: source)
        case .ppm:
            let h = try PPMDecoder.header(b, source: source)
            return (h.width, h.height)
        case nil: throw unknown(b, source)
        }
    }

    static func unknown(_ b: UnsafeRawBufferPointer, _ source: String?) -> ImageError {
        if let name = unsupportedFormat(of: b) { return ImageError.unsupportedFormat(source, name) }
        return ImageError.notAnImage(source)
    }

    static func text(_ msg: [CChar]) -> String {
        String(decoding: msg.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The status every C shim returns (cjpeg.h, cpng.h, cgif.h, cwebp.h and ctiff.h number them alike):
    /// 0 ok, 1 corrupt, 2 truncated, 3 unsupported, 4 too large, 5 buffer too small (a caller bug).
    static func check(_ st: Int32, _ format: String, size: (Int, Int), _ msg: [CChar], _ source: String?) throws {
        switch st {
        case 0: return
        case 2: throw ImageError.truncated(source, format, text(msg))
        case 3: throw ImageError.unsupported(source, format, text(msg))
        case 4: throw ImageError.tooLarge(source, size.0, size.1)
        default: throw ImageError.corrupt(source, format, text(msg))
        }
    }

    static let jpeg = Shim<cjpeg_info>(format: "JPEG", empty: cjpeg_info(), header: cjpeg_read_header, decode: cjpeg_decode,
                                       size: { (Int($0.width), Int($0.height)) })
    static let png = Shim<cpng_info>(format: "PNG", empty: cpng_info(), header: cpng_read_header, decode: cpng_decode,
                                     size: { (Int($0.width), Int($0.height)) })

    /// JPEG: Pillow opens 1 component as "L", 3 as "RGB", 4 as "CMYK" (inverted, "CMYK;I").
    static func decodeJPEG(_ b: UnsafeRawBufferPointer, source: String?) throws -> DecodedImage {
        let (info, pixels) = try jpeg.run(b, source: source) { Int($0.width) * Int($0.height) * Int($0.components) }
        let c = Int(info.components)
        let mode: PixelMode = c == 1 ? .gray : (c == 3 ? .rgb : .cmyk)
        return DecodedImage(mode: mode, width: Int(info.width), height: Int(info.height), pixels: pixels)
    }

    static func decodePNG(_ b: UnsafeRawBufferPointer, source: String?) throws -> DecodedImage {
        let (info, raw) = try png.run(b, source: source) { cpng_row_bytes(&$0) * Int($0.height) }
        var image = try PNGSamples.image(raw: raw, info: info, source: source)
        // PngImagePlugin's chunk_tRNS fills info["transparency"] for gray, RGB and palette images only
        image.transparencyInInfo = info.has_trns != 0 && [0, 2, 3].contains(Int(info.color_type))
        return image
    }
}
