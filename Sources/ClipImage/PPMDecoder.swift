// Netpbm P1–P6 → the mode and bytes Pillow's PpmImagePlugin produces (Pillow 13.0.0):
// P1/P4 → "1"; P2/P5 → "L", or "I" when maxval > 255; P3/P6 → "RGB". Raw P5/P6 with maxval 255
// (and P5 with 65535, read as "I;16B") are copied; any other maxval is rescaled per sample with
// Python's round(v / maxval · out_max) (out_max 65535 for "I", else 255), as PpmDecoder does.
enum PPMDecoder {
    static let format = "PPM"
    /// Pillow's b_whitespace (also what bytes.split() splits on).
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }

    struct Header {
        var magic: UInt8       // '1'…'6'
        var width = 0, height = 0, maxval = 1
        var dataOffset = 0
        var mode: PixelMode {
            switch magic {
            case UInt8(ascii: "1"), UInt8(ascii: "4"): .bilevel
            case UInt8(ascii: "2"), UInt8(ascii: "5"): maxval > 255 ? .int32 : .gray
            default: .rgb
            }
        }
        var plain: Bool { magic <= UInt8(ascii: "3") }
    }

    /// PpmImageFile._open: the magic, then whitespace-separated tokens of at most 10 bytes, `#`
    /// comments running to CR/LF; pixel data starts right after the byte that ended the last token.
    static func header(_ b: UnsafeRawBufferPointer, source: String?) throws -> Header {
        var pos = 0
        var magic: [UInt8] = []
        while pos < b.count, magic.count < 6 {
            let c = b[pos]; pos += 1
            if isSpace(c) { break }
            magic.append(c)
        }
        guard magic.count == 2, magic[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(magic[1]) else {
            let name = String(decoding: magic, as: UTF8.self)
            throw ImageError.corrupt(source, format, "not a PPM file (magic '\(name)')")
        }
        func token() throws -> Int {
            var t: [UInt8] = []
            while t.count <= 10 {
                guard pos < b.count else { break }
                let c = b[pos]; pos += 1
                if isSpace(c) { if t.isEmpty { continue } else { break } }
                if c == UInt8(ascii: "#") {
                    while pos < b.count, b[pos] != 0x0D, b[pos] != 0x0A { pos += 1 }
                    if pos < b.count { pos += 1 }
                    continue
                }
                t.append(c)
            }
            guard !t.isEmpty else { throw ImageError.truncated(source, format, "reached EOF while reading header") }
            guard t.count <= 10 else { throw ImageError.corrupt(source, format, "token too long in file header") }
            var digits = t[...]
            if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw ImageError.corrupt(source, format, "header token '\(String(decoding: t, as: UTF8.self))' is not a number")
            }
            return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        var h = Header(magic: magic[1])
        h.width = try token()
        h.height = try token()
        guard h.width > 0, h.height > 0 else {
            throw ImageError.corrupt(source, format, "size \(h.width)x\(h.height)")
        }
        guard h.width <= ImageError.maxPixels, h.height <= ImageError.maxPixels,
              h.width * h.height <= ImageError.maxPixels else {
            throw ImageError.tooLarge(source, h.width, h.height)
        }
        if h.mode != .bilevel {
            h.maxval = try token()
            guard h.maxval > 0, h.maxval < 65536 else {
                throw ImageError.corrupt(source, format, "maxval must be greater than 0 and less than 65536")
            }
        }
        h.dataOffset = pos
        return h
    }

    static func decode(_ b: UnsafeRawBufferPointer, source: String?) throws -> DecodedImage {
        let h = try header(b, source: source)
        let data = UnsafeRawBufferPointer(rebasing: b[h.dataOffset...])
        let pixels = h.plain ? try plain(data, h, source) : try raw(data, h, source)
        return DecodedImage(mode: h.mode, width: h.width, height: h.height, pixels: pixels)
    }

    static func truncated(_ s: String?) -> ImageError { ImageError.truncated(s, format, "not enough image data") }

    /// Appends a sample in the output layout: one byte, or Int32 little-endian for "I".
    @inline(__always)
    static func put(_ v: Int, wide: Bool, _ out: inout [UInt8]) {
        if wide {
            out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8 & 0xFF)); out.append(0); out.append(0)
        } else {
            out.append(UInt8(v))
        }
    }

    static func scaled(_ v: Int, maxval: Int, outMax: Int) -> Int {
        min(outMax, Int((Double(v) / Double(maxval) * Double(outMax)).rounded(.toNearestOrEven)))
    }

    /// P4/P5/P6: the "raw" decoder ("1;I", "L", "RGB", "I;16B") or PpmDecoder for other maxvals.
    static func raw(_ d: UnsafeRawBufferPointer, _ h: Header, _ s: String?) throws -> [UInt8] {
        let n = h.width * h.height
        if h.mode == .bilevel {  // "1;I": rows padded to a byte, 1 bits black
            let stride = (h.width + 7) / 8
            guard d.count >= stride * h.height else { throw truncated(s) }
            var out = [UInt8](repeating: 0, count: n)
            for y in 0..<h.height {
                for x in 0..<h.width where d[y * stride + x / 8] & (0x80 >> UInt8(x % 8)) == 0 { out[y * h.width + x] = 255 }
            }
            return out
        }
        let bands = h.mode == .rgb ? 3 : 1
        let wide = h.mode == .int32
        let inBytes = h.maxval < 256 ? 1 : 2
        guard d.count >= n * bands * inBytes else { throw truncated(s) }
        if h.maxval == 255 { return Array(d.prefix(n * bands)) }
        var out: [UInt8] = []
        out.reserveCapacity(n * bands * (wide ? 4 : 1))
        let outMax = wide ? 65535 : 255
        for i in 0..<(n * bands) {
            let v = inBytes == 1 ? Int(d[i]) : Int(d[2 * i]) << 8 | Int(d[2 * i + 1])
            put(h.maxval == 65535 && wide ? v : scaled(v, maxval: h.maxval, outMax: outMax), wide: wide, &out)
        }
        return out
    }

    /// P1/P2/P3: PpmPlainDecoder, block by block as Pillow reads them (PlainReader).
    static func plain(_ d: UnsafeRawBufferPointer, _ h: Header, _ s: String?) throws -> [UInt8] {
        var reader = PlainReader(data: d)
        let n = h.width * h.height
        if h.mode == .bilevel {  // _decode_bitonal: every byte of a block must be 0/1 or whitespace
            var out: [UInt8] = []
            out.reserveCapacity(n)
            while out.count != n {
                var block = reader.next()
                if block.isEmpty { break }
                block = reader.ignoreComments(block)
                for c in block where !isSpace(c) {
                    guard c == UInt8(ascii: "0") || c == UInt8(ascii: "1") else {
                        throw ImageError.corrupt(s, format, "invalid token for this mode: '\(Character(Unicode.Scalar(c)))'")
                    }
                    if out.count < n { out.append(c == UInt8(ascii: "0") ? 255 : 0) }
                }
            }
            guard out.count == n else { throw truncated(s) }
            return out
        }
        let bands = h.mode == .rgb ? 3 : 1
        let wide = h.mode == .int32
        let total = n * bands
        var out: [UInt8] = []
        out.reserveCapacity(total * (wide ? 4 : 1))
        var count = 0
        var half: [UInt8] = []
        func tooLong() -> ImageError { ImageError.corrupt(s, format, "token too long found in data") }
        while count != total {  // _decode_blocks
            var block = reader.next()
            if block.isEmpty {
                if half.isEmpty { break }
                block = [0x20]  // flush the half token
            }
            block = reader.ignoreComments(block)
            if !half.isEmpty { block = half + block; half = [] }
            var tokens = block.split(whereSeparator: isSpace)
            if let last = block.last, !isSpace(last), let t = tokens.popLast() {  // a token the block may split
                half = Array(t)
                guard half.count <= 10 else { throw tooLong() }
            }
            for t in tokens {
                guard t.count <= 10 else { throw tooLong() }
                var digits = t
                if digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
                guard !digits.isEmpty, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
                    throw ImageError.corrupt(s, format, "data token '\(String(decoding: t, as: UTF8.self))' is not a number")
                }
                let v = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                guard v <= h.maxval else { throw ImageError.corrupt(s, format, "channel value too large for this mode: \(v)") }
                put(scaled(v, maxval: h.maxval, outMax: wide ? 65535 : 255), wide: wide, &out)
                count += 1
                if count == total { break }
            }
        }
        guard count == total else { throw truncated(s) }
        return out
    }

    /// PpmPlainDecoder's reading: blocks of ImageFile.SAFEBLOCK bytes, `#` comments cut from each
    /// up to and including the next CR or LF (a comment may run on into the following blocks).
    struct PlainReader {
        static let safeBlock = 65536
        let data: UnsafeRawBufferPointer
        var pos = 0
        var commentSpans = false

        init(data: UnsafeRawBufferPointer) { self.data = data }

        mutating func next() -> [UInt8] {
            let end = min(data.count, pos + Self.safeBlock)
            defer { pos = end }
            return Array(data[pos..<end])
        }

        /// _find_comment_end: the lower of the first LF and first CR at or after `from`, unless
        /// one of them sits at index 0 (then the other, as Pillow's `a * b > 0` test has it).
        static func commentEnd(_ b: [UInt8], from: Int) -> Int {
            let a = b[from...].firstIndex(of: 0x0A) ?? -1, c = b[from...].firstIndex(of: 0x0D) ?? -1
            return a * c > 0 ? min(a, c) : max(a, c)
        }

        mutating func ignoreComments(_ block: [UInt8]) -> [UInt8] {
            var block = block
            if commentSpans {
                while !block.isEmpty {
                    let end = Self.commentEnd(block, from: 0)
                    if end != -1 { block = Array(block[(end + 1)...]); break }
                    block = next()
                }
            }
            commentSpans = false
            while let start = block.firstIndex(of: UInt8(ascii: "#")) {
                let end = Self.commentEnd(block, from: start)
                if end != -1 {
                    block = Array(block[..<start] + block[(end + 1)...])
                } else {
                    block = Array(block[..<start])
                    commentSpans = true
                    break
                }
            }
            return block
        }
    }
}
