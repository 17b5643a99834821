// BMP RLE8/RLE4 → palette indices, as Pillow's BmpRleDecoder (BmpImagePlugin.py, Pillow 13.0.0):
// the output is one flat run of width·height indices, first file row = bottom image row (unless
// top-down); an encoded run is clipped at the row's end; end-of-line pads the current row with 0;
// a delta adds right + up·width zeros; an absolute run is followed by a pad byte when the file
// position is odd. Running out before the image is full is an error (set_as_raw: not enough data).
enum BMPRLE {
    static func decode(_ b: UnsafeRawBufferPointer, from start: Int, width w: Int, height h: Int, rle4: Bool,
                       source s: String?) throws -> [UInt8] {
        let total = w * h
        var data: [UInt8] = []
        data.reserveCapacity(total)
        var pos = start, x = 0
        func read(_ n: Int) -> UnsafeRawBufferPointer.SubSequence {
            let end = min(b.count, pos + n)
            defer { pos = end }
            return b[min(pos, end)..<end]
        }
        loop: while data.count < total {
            let pair = read(2)
            guard pair.count == 2 else { break }
            let count = Int(pair[pair.startIndex]), byte = pair[pair.startIndex + 1]
            if count != 0 {  // encoded run
                let n = x + count > w ? max(0, w - x) : count
                for i in 0..<n { data.append(rle4 ? (i % 2 == 0 ? byte >> 4 : byte & 0x0F) : byte) }
                x += n
                continue
            }
            switch byte {
            case 0:  // end of line
                while data.count % w != 0 { data.append(0) }
                x = 0
            case 1:  // end of bitmap
                break loop
            case 2:  // delta
                let d = read(2)
                guard d.count == 2 else { break loop }
                let skip = Int(d[d.startIndex]) + Int(d[d.startIndex + 1]) * w
                data.append(contentsOf: repeatElement(0, count: min(total - data.count, skip)))
                x = data.count % w
            default:  // absolute run of `byte` pixels
                let n = min(total - data.count, Int(byte))
                let bytes = read(rle4 ? (n + 1) / 2 : n)
                if rle4 {
                    for (i, v) in bytes.enumerated() {
                        data.append(v >> 4)
                        if i * 2 + 1 < n { data.append(v & 0x0F) }
                    }
                } else {
                    data.append(contentsOf: bytes)
                }
                if bytes.count < (rle4 ? (n + 1) / 2 : n) || data.count == total { break loop }
                x += Int(byte)
                if pos % 2 != 0 { pos += 1 }
            }
        }
        guard data.count == total else {
            throw ImageError.truncated(s, BMPDecoder.format, "RLE data gives \(data.count) of \(total) pixels")
        }
        return data
    }
}
