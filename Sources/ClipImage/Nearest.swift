// Pillow's NEAREST resize, used for modes "1" and "P" whatever filter is asked (Image.resize):
// _imaging.c _resize builds the affine a = [w/W, 0, 0, 0, h/H, 0] and Geometry.c
// ImagingScaleAffine walks xo = a0·0.5, xo += a0 per column (accumulating in double, so the
// rounding drift is Pillow's), taking source index COORD(xo) = (int)xo.

enum Nearest {
    /// Source indices for output positions `outputs` of an inSize → outSize nearest resize.
    static func sourceIndices(inSize: Int, outSize: Int, outputs: Range<Int>) -> [Int] {
        let a0 = Double(Float(inSize) - Float(0)) / Double(outSize)
        var xo = Double(Float(0)) + a0 * 0.5
        var out = [Int](repeating: 0, count: outputs.count)
        for x in 0..<outputs.upperBound {
            if x >= outputs.lowerBound {
                // Pillow leaves positions outside the source untouched; for a plain resize they never occur.
                let xin = xo < 0 ? -1 : Int(xo)
                out[x - outputs.lowerBound] = min(max(xin, 0), inSize - 1)
            }
            xo += a0
        }
        return out
    }

    /// Samples the crop window of a nearest resize: src [H, W, C] → out [rows.count, cols.count, C].
    static func resize(_ src: UnsafePointer<UInt8>, width: Int, height: Int, channels c: Int,
                       newWidth: Int, newHeight: Int, cols: Range<Int>, rows: Range<Int>,
                       into out: UnsafeMutablePointer<UInt8>) {
        let xs = sourceIndices(inSize: width, outSize: newWidth, outputs: cols)
        let ys = sourceIndices(inSize: height, outSize: newHeight, outputs: rows)
        var o = out
        for y in ys {
            let line = src + y * width * c
            for x in xs {
                for ch in 0..<c { o[ch] = line[x * c + ch] }
                o += c
            }
        }
    }
}
