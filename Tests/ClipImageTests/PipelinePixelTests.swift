// Pixels of the spec-driven pipelines on tiny images whose results were read off Pillow 13.0.0:
// bilinear resampling, open_clip's CenterCropOrPad fill in each mode, HF's zero padding and its
// alpha composite onto white. Each has a negative control (the other pipeline / filter differs).
import ClipCore
import Testing
@testable import ClipImage

@Suite struct PipelinePixelTests {
    let row: [UInt8] = [0, 100, 200, 255, 30]

    func resized(_ px: [UInt8], to n: Int, _ filter: ResampleFilter) -> [UInt8] {
        CLIPPreprocess.resample8(px, width: px.count, height: 1, channels: 1, nw: n, nh: 1,
                                 cols: 0..<n, rows: 0..<1, filter: filter)
    }

    @Test func bilinearIsPillows() {
        // Image.fromarray([[0, 100, 200, 255, 30]], "L").resize((n, 1), BILINEAR)
        #expect(resized(row, to: 2, .bilinear) == [98, 164])
        #expect(resized(row, to: 3, .bilinear) == [43, 190, 126])
        #expect(resized(row, to: 7, .bilinear) == [0, 57, 129, 200, 239, 159, 30])
        // negative control: bicubic on the same row (also Pillow's numbers)
        #expect(resized(row, to: 3, .bicubic) == [37, 203, 128])
        #expect(resized(row, to: 3, .bicubic) != resized(row, to: 3, .bilinear))
        // the vertical pass uses the same coefficients: the column [0, 100, 200, 255, 30] → 3 rows
        let column = CLIPPreprocess.resample8(row, width: 1, height: 5, channels: 1, nw: 1, nh: 3,
                                              cols: 0..<1, rows: 0..<3, filter: .bilinear)
        #expect(column == [43, 190, 126])
    }

    func rgbRows(_ image: DecodedImage, _ spec: PreprocessSpec) throws -> [[UInt8]] {
        let rgb = try CLIPPreprocess(spec: spec).resizedCropped(image)
        return (0..<rgb.height).map { y in (0..<rgb.width).map { x in rgb.pixels[(y * rgb.width + x) * 3] } }
    }

    @Test func longestPadsWithFillColorTheOddRowAfter() throws {
        // 4 × 1 grey into 4 × 4: no resize, 3 rows of padding: 1 before, 2 after ((4 − 1) // 2 = 1)
        let image = DecodedImage(mode: .gray, width: 4, height: 1, pixels: [10, 20, 30, 40])
        let spec = PreprocessSpec(size: 4, resizeMode: .longest, fillColor: 128)
        #expect(try rgbRows(image, spec) == [[128, 128, 128, 128], [10, 20, 30, 40], [128, 128, 128, 128], [128, 128, 128, 128]])
        // negative control: HF (shortest_edge 1, crop 4) pads with 0 and puts the odd row before
        let hf = PreprocessSpec(pipeline: .hf, size: 4, resizeSize: 1)
        #expect(try rgbRows(image, hf) == [[0, 0, 0, 0], [0, 0, 0, 0], [10, 20, 30, 40], [0, 0, 0, 0]])
    }

    @Test func fillColorGoesThroughTheModesConversion() throws {
        let spec = PreprocessSpec(size: 2, resizeMode: .longest, fillColor: 128)
        // Pillow: ImageOps.expand(fill=128) then convert("RGB"): "1" → 255, CMYK (128, 128, 128, 128) → 63
        let bilevel = DecodedImage(mode: .bilevel, width: 2, height: 1, pixels: [0, 255])
        #expect(try rgbRows(bilevel, spec) == [[0, 255], [255, 255]])
        let cmyk = DecodedImage(mode: .cmyk, width: 2, height: 1, pixels: [0, 0, 0, 0, 0, 0, 0, 255])
        #expect(try rgbRows(cmyk, spec) == [[255, 0], [63, 63]])
        let gray16 = DecodedImage(mode: .gray16, width: 2, height: 1, pixels: [7, 0, 0, 1])
        #expect(try rgbRows(gray16, spec) == [[7, 255], [128, 128]])
        // a palette image would be padded with its palette entry 128, which clipwb does not keep
        let palette = DecodedImage(mode: .palette, width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        #expect(throws: ImageError.self) { try rgbRows(palette, spec) }
        // negative control: no padding needed, so the palette image is fine
        #expect(try rgbRows(DecodedImage(mode: .palette, width: 2, height: 2, pixels: [UInt8](repeating: 9, count: 12)), spec)
                == [[9, 9], [9, 9]])
    }

    @Test func hfCompositesAlphaOntoWhite() throws {
        // Image.alpha_composite(white, im).convert("RGB") in Pillow 13.0.0
        let rgba = DecodedImage(mode: .rgba, width: 4, height: 1,
                                pixels: [100, 50, 200, 128, 10, 20, 30, 0, 255, 255, 255, 1, 0, 0, 0, 254])
        #expect(HFConvert.toRGB(rgba).pixels == [177, 152, 227, 255, 255, 255, 255, 255, 255, 1, 1, 1])
        let la = DecodedImage(mode: .grayAlpha, width: 2, height: 1, pixels: [100, 128, 7, 0])
        #expect(HFConvert.toRGB(la).pixels == [177, 177, 177, 255, 255, 255])
        // negative control: convert("RGB") (OpenAI / open_clip) drops alpha instead
        #expect(Convert.toRGB(rgba.pixels, mode: .rgba, count: 4) == [100, 50, 200, 10, 20, 30, 255, 255, 255, 0, 0, 0])
    }

    @Test func hfRefusesTransparencyKeptOutsideTheBands() throws {
        let (dir, _) = try FixtureManifest.load()
        let trns = try ImageDecoder.decode(path: dir.appendingPathComponent("20-png-p8-trns-48x64.png").path)
        #expect(trns.mode == .palette && trns.transparencyInInfo)
        let hf = PreprocessSpec(pipeline: .hf, size: 224)
        #expect(throws: ImageError.self) { try CLIPPreprocess(spec: hf).resizedCropped(trns) }
        // negative controls: the openai pipeline ignores it (convert("RGB")), and a palette PNG without tRNS is fine
        #expect(try CLIPPreprocess(spec: .openai(size: 224)).resizedCropped(trns).width == 224)
        let plain = try ImageDecoder.decode(path: dir.appendingPathComponent("19-png-p8-64x64.png").path)
        #expect(!plain.transparencyInInfo)
        #expect(try CLIPPreprocess(spec: hf).resizedCropped(plain).width == 224)
    }

    @Test func tooThinForLongestIsAnError() throws {
        let image = DecodedImage(mode: .gray, width: 1, height: 1000, pixels: [UInt8](repeating: 5, count: 1000))
        let spec = PreprocessSpec(size: 224, resizeMode: .longest)
        #expect(throws: ImageError.self) { try CLIPPreprocess(spec: spec).resizedCropped(image) }
        // negative control: the shortest-edge mode resizes the same image (224 × 224000, cropped)
        #expect(try CLIPPreprocess(spec: .openai(size: 224)).resizedCropped(image).pixels.count == 224 * 224 * 3)
    }
}
