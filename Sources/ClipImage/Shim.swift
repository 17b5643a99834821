// The calling convention every C decoder shim shares (cjpeg.h, cpng.h, cgif.h, cwebp.h, ctiff.h):
// read_header(data, size, max_pixels, &info, msg, cap) checks the size before anything is
// allocated; decode(data, size, max_pixels, &info, out, cap, msg, cap) fills a caller-owned buffer.

/// One shim: its info struct, its two entry points and how big its output is.
struct Shim<Info> {
    typealias Header = (UnsafePointer<UInt8>?, Int, UInt64, UnsafeMutablePointer<Info>?, UnsafeMutablePointer<CChar>?, Int) -> Int32
    typealias Decode = (UnsafePointer<UInt8>?, Int, UInt64, UnsafeMutablePointer<Info>?, UnsafeMutablePointer<UInt8>?, Int,
                        UnsafeMutablePointer<CChar>?, Int) -> Int32
    let format: String
    let empty: Info
    let header: Header
    let decode: Decode
    let size: (Info) -> (Int, Int)

    /// The header alone.
    func info(_ b: UnsafeRawBufferPointer, source: String?) throws -> Info {
        var msg = [CChar](repeating: 0, count: 256)
        var info = empty
        let st = header(b.bindMemory(to: UInt8.self).baseAddress, b.count, UInt64(ImageError.maxPixels), &info, &msg, msg.count)
        try ImageDecoder.check(st, format, size: size(info), msg, source)
        return info
    }

    /// Header, then `bytes(info)` bytes of decoded output.
    func run(_ b: UnsafeRawBufferPointer, source: String?, bytes: (inout Info) -> Int) throws -> (Info, [UInt8]) {
        var info = try self.info(b, source: source)
        let total = bytes(&info)
        var msg = [CChar](repeating: 0, count: 256)
        var status: Int32 = 0
        let out = [UInt8](unsafeUninitializedCapacity: total) { buf, n in
            status = decode(b.bindMemory(to: UInt8.self).baseAddress, b.count, UInt64(ImageError.maxPixels), &info,
                            buf.baseAddress, buf.count, &msg, msg.count)
            n = status == 0 ? total : 0
        }
        try ImageDecoder.check(status, format, size: size(info), msg, source)
        return (info, out)
    }
}
