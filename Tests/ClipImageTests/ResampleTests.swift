// The fast kernels against their naive twins, and the crop-window resize against a full resize.
import Testing
@testable import ClipImage

struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ r: Range<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

@Suite struct ResampleTests {
    @Test func bicubicFilterIsKeysWithAMinusHalf() {
        #expect(bicubicFilter(0) == 1)
        #expect(bicubicFilter(1) == 0)
        #expect(bicubicFilter(2) == 0)
        #expect(bicubicFilter(0.5) == 0.5625)
        #expect(bicubicFilter(-1.5) == -0.0625)
    }

    @Test func fixedPointCoefficientsSumToOne() {
        let co = ResampleCoefficients(inSize: 1000, outSize: 224, outputs: 0..<224)
        #expect(co.ksize == Int((2.0 * 1000.0 / 224.0).rounded(.up)) * 2 + 1)
        for i in 0..<224 {
            let s = (0..<co.count[i]).reduce(0) { $0 + Int(co.fixed[i * co.ksize + $1]) }
            #expect(abs(s - (1 << 22)) <= co.count[i], "output \(i): Σk = \(s)")
        }
    }

    @Test func horizontalEqualsNaiveTwin() {
        var rng = SplitMix(state: 42)
        for _ in 0..<40 {
            let c = rng.int(1..<5), w = rng.int(1..<300), h = rng.int(1..<20), nw = rng.int(1..<300)
            let lo = rng.int(0..<nw), hi = rng.int((lo + 1)..<(nw + 1))
            let co = ResampleCoefficients(inSize: w, outSize: nw, outputs: lo..<hi)
            let src = rng.bytes(w * h * c)
            var fast = [UInt8](repeating: 1, count: h * (hi - lo) * c)
            var naive = [UInt8](repeating: 2, count: fast.count)
            src.withUnsafeBufferPointer { s in
                fast.withUnsafeMutableBufferPointer {
                    Resample8.horizontal(s.baseAddress!, stride: w * c, colOffset: 0, channels: c, rows: 0..<h, co, into: $0.baseAddress!)
                }
                naive.withUnsafeMutableBufferPointer {
                    Resample8.horizontalNaive(s.baseAddress!, stride: w * c, colOffset: 0, channels: c, rows: 0..<h, co, into: $0.baseAddress!)
                }
            }
            #expect(fast == naive, "c=\(c) \(w)→\(nw) outputs \(lo)..<\(hi)")
        }
    }

    /// Full Pillow resize (every output row and column, literal loops), then crop.
    func fullThenCrop(_ px: [UInt8], w: Int, h: Int, c: Int, nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>) -> [UInt8] {
        let hco = ResampleCoefficients(inSize: w, outSize: nw, outputs: 0..<nw)
        let vco = ResampleCoefficients(inSize: h, outSize: nh, outputs: 0..<nh)
        var full: [UInt8]
        px.withUnsafeBufferPointer { s in _ = s }
        if CLIPPreprocess.horizontalFirst(width: w, height: h, nw: nw, nh: nh) {
            var t = [UInt8](repeating: 0, count: h * nw * c)
            px.withUnsafeBufferPointer { s in t.withUnsafeMutableBufferPointer {
                Resample8.horizontalNaive(s.baseAddress!, stride: w * c, colOffset: 0, channels: c, rows: 0..<h, hco, into: $0.baseAddress!) } }
            full = [UInt8](repeating: 0, count: nh * nw * c)
            t.withUnsafeBufferPointer { s in full.withUnsafeMutableBufferPointer {
                Resample8.vertical(s.baseAddress!, stride: nw * c, rowLength: nw * c, rowOffset: 0, vco, into: $0.baseAddress!) } }
        } else {
            var t = [UInt8](repeating: 0, count: nh * w * c)
            px.withUnsafeBufferPointer { s in t.withUnsafeMutableBufferPointer {
                Resample8.vertical(s.baseAddress!, stride: w * c, rowLength: w * c, rowOffset: 0, vco, into: $0.baseAddress!) } }
            full = [UInt8](repeating: 0, count: nh * nw * c)
            t.withUnsafeBufferPointer { s in full.withUnsafeMutableBufferPointer {
                Resample8.horizontalNaive(s.baseAddress!, stride: w * c, colOffset: 0, channels: c, rows: 0..<nh, hco, into: $0.baseAddress!) } }
        }
        return CLIPPreprocess.copyWindow(full, width: nw, channels: c, cols: cols, rows: rows)
    }

    @Test func cropWindowEqualsFullResizeThenCrop() {
        var rng = SplitMix(state: 7)
        for trial in 0..<30 {
            let c = rng.int(1..<5), w = rng.int(2..<160), h = rng.int(2..<160)
            let nw = trial % 3 == 0 ? w : rng.int(1..<200), nh = trial % 5 == 0 ? h : rng.int(1..<200)
            let cw = rng.int(1..<(nw + 1)), ch = rng.int(1..<(nh + 1))
            let left = rng.int(0..<(nw - cw + 1)), top = rng.int(0..<(nh - ch + 1))
            let px = rng.bytes(w * h * c)
            let window = CLIPPreprocess.resample8(px, width: w, height: h, channels: c, nw: nw, nh: nh,
                                                  cols: left..<(left + cw), rows: top..<(top + ch), filter: .bicubic)
            let expected = fullThenCrop(px, w: w, h: h, c: c, nw: nw, nh: nh, cols: left..<(left + cw), rows: top..<(top + ch))
            #expect(window == expected, "c=\(c) \(w)x\(h)→\(nw)x\(nh) window \(left),\(top) \(cw)x\(ch)")
        }
    }

    @Test func nearestMatchesPillowsAccumulatedCoordinates() {
        // 3 → 7: a0 = 3/7, xo = a0/2 + k·a0, index = (int)xo
        #expect(Nearest.sourceIndices(inSize: 3, outSize: 7, outputs: 0..<7) == [0, 0, 1, 1, 1, 2, 2])
        #expect(Nearest.sourceIndices(inSize: 10, outSize: 4, outputs: 1..<3) == [3, 6])
    }

    @Test func premultiplyRoundTripsLikePillow() {
        var px: [UInt8] = [200, 100, 50, 128, 10, 20, 30, 0, 255, 255, 255, 255, 90, 60, 30, 1]
        Convert.premultiply(&px, channels: 4)
        #expect(px == [100, 50, 25, 128, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 1])
        Convert.unpremultiply(&px, channels: 4)
        #expect(px == [199, 99, 49, 128, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 1])
    }

    @Test func cmykToRGBIsPillowsFormula() {
        let rgb = Convert.toRGB([0, 0, 0, 0, 255, 0, 0, 0, 10, 20, 30, 128], mode: .cmyk, count: 3)
        #expect(rgb == [255, 255, 255, 0, 255, 255, 122, 117, 112])
    }
}
