// Bytes → DecodedImage, the container chosen by magic bytes (Pillow's JpegImagePlugin._accept:
// FF D8 FF; PngImagePlugin: the 8-byte signature), never by a file name.
import ClipCore
import CJPEG
import CPNG

public enum ImageDecoder {
    public enum Format: String, Sendable { case jpeg, png }

    public static func format(of b: UnsafeRawBufferPointer) -> Format? {
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if b.count >= 8, (0..<8).allSatisfy({ b[$0] == png[$0] }) { return .png }
        return nil
    }

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
        case nil: throw ImageError.notAnImage(source)
        }
    }

    /// Width and height from the header alone (also enforces the 50-megapixel limit).
    public static func size(bytes b: UnsafeRawBufferPointer, source: String? = nil) throws -> (width: Int, height: Int) {
        guard b.count > 0 else { throw ImageError.empty(source) }
        var msg = [CChar](repeating: 0, count: 256)
        switch format(of: b) {
        case .jpeg:
            var info = cjpeg_info()
            let st = cjpeg_read_header(b.bindMemory(to: UInt8.self).baseAddress, b.count, UInt64(ImageError.maxPixels), &info, &msg, msg.count)
            try check(jpeg: st, info: (Int(info.width), Int(info.height)), msg, source)
            return (Int(info.width), Int(info.height))
        case .png:
            var info = cpng_info()
            let st = cpng_read_header(b.bindMemory(to: UInt8.self).baseAddress, b.count, UInt64(ImageError.maxPixels), &info, &msg, msg.count)
            try check(png: st, info: (Int(info.width), Int(info.height)), msg, source)
            return (Int(info.width), Int(info.height))
        case nil: throw ImageError.notAnImage(source)
        }
    }

    static func text(_ msg: [CChar]) -> String {
        String(decoding: msg.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func check(jpeg st: Int32, info: (Int, Int), _ msg: [CChar], _ source: String?) throws {
        switch Int(st) {
        case Int(CJPEG_OK): return
        case Int(CJPEG_TRUNCATED): throw ImageError.truncated(source, "JPEG", text(msg))
        case Int(CJPEG_UNSUPPORTED): throw ImageError.unsupported(source, "JPEG", text(msg))
        case Int(CJPEG_TOO_LARGE): throw ImageError.tooLarge(source, info.0, info.1)
        default: throw ImageError.corrupt(source, "JPEG", text(msg))
        }
    }

    static func check(png st: Int32, info: (Int, Int), _ msg: [CChar], _ source: String?) throws {
        switch Int(st) {
        case Int(CPNG_OK): return
        case Int(CPNG_TRUNCATED): throw ImageError.truncated(source, "PNG", text(msg))
        case Int(CPNG_UNSUPPORTED): throw ImageError.unsupported(source, "PNG", text(msg))
        case Int(CPNG_TOO_LARGE): throw ImageError.tooLarge(source, info.0, info.1)
        default: throw ImageError.corrupt(source, "PNG", text(msg))
        }
    }

    /// JPEG: Pillow opens 1 component as "L", 3 as "RGB", 4 as "CMYK" (inverted, "CMYK;I").
    static func decodeJPEG(_ b: UnsafeRawBufferPointer, source: String?) throws -> DecodedImage {
        let data = b.bindMemory(to: UInt8.self).baseAddress
        var msg = [CChar](repeating: 0, count: 256)
        var info = cjpeg_info()
        let st = cjpeg_read_header(data, b.count, UInt64(ImageError.maxPixels), &info, &msg, msg.count)
        try check(jpeg: st, info: (Int(info.width), Int(info.height)), msg, source)
        let (w, h, c) = (Int(info.width), Int(info.height), Int(info.components))
        var status: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: w * h * c) { buf, n in
            status = cjpeg_decode(data, b.count, UInt64(ImageError.maxPixels), &info, buf.baseAddress, buf.count, &msg, msg.count)
            n = status == CJPEG_OK ? w * h * c : 0
        }
        try check(jpeg: status, info: (w, h), msg, source)
        let mode: PixelMode = c == 1 ? .gray : (c == 3 ? .rgb : .cmyk)
        return DecodedImage(mode: mode, width: w, height: h, pixels: pixels)
    }

    static func decodePNG(_ b: UnsafeRawBufferPointer, source: String?) throws -> DecodedImage {
        let data = b.bindMemory(to: UInt8.self).baseAddress
        var msg = [CChar](repeating: 0, count: 256)
        var info = cpng_info()
        let st = cpng_read_header(data, b.count, UInt64(ImageError.maxPixels), &info, &msg, msg.count)
        try check(png: st, info: (Int(info.width), Int(info.height)), msg, source)
        let rowBytes = cpng_row_bytes(&info)
        let total = rowBytes * Int(info.height)
        var status: Int32 = 0
        let raw = [UInt8](unsafeUninitializedCapacity: total) { buf, n in
            status = cpng_decode(data, b.count, UInt64(ImageError.maxPixels), &info, buf.baseAddress, buf.count, &msg, msg.count)
            n = status == CPNG_OK ? total : 0
        }
        try check(png: status, info: (Int(info.width), Int(info.height)), msg, source)
        return try PNGSamples.image(raw: raw, info: info, source: source)
    }
}
