// The image pipeline a PreprocessSpec names, reproduced exactly on Pillow images:
//   openai  torchvision on PIL (OpenAI CLIP `_transform`, open_clip 3.3.0 `image_transform`):
//           resize by resizeMode (shortest: short side → size, long side int(size·long/short);
//           squash: (size, size); longest: ResizeKeepRatio, round(x / ratio) half to even) with the
//           PIL filter, in the image's own mode (NEAREST for "1"/"P", premultiplied RGBA/LA);
//           CenterCrop offsets int(round((n − size) / 2.0)) half to even, or CenterCropOrPad padding
//           (crop − n) // 2 before with fillColor; convert("RGB") after; ToTensor + Normalize in float32:
//           (float32(x) / 255 − mean) / std.
//   hf      transformers 5.25.0 `CLIPImageProcessorPil`: convert_to_rgb first (alpha onto white), PIL
//           resize of the RGB image, center_crop offsets (n − crop) // 2 (zero padding ceil((crop − n)/2)
//           before), rescale float32(float64(x) · (1/255)), normalize (x − float32(mean)) / float32(std).
// Geometry in PreprocessGeometry.swift, the uint8 stage in ResizeCrop.swift.
import ClipCore

public struct CLIPPreprocess: Sendable {
    public static let mean: [Float] = PreprocessSpec.openaiMean
    public static let std: [Float] = PreprocessSpec.openaiStd

    public let spec: PreprocessSpec
    /// The output side (224 for ViT-B/32): spec.size.
    public var resolution: Int { spec.size }
    /// lut[c·256 + v]: the normalised float of byte v in channel c, computed with the reference's
    /// float32 operations (see `normalizedByte`).
    let lut: [Float]

    /// OpenAI CLIP's `_transform(resolution)`.
    public init(resolution: Int = 224) {
        self.init(spec: .openai(size: resolution))
    }

    /// The pipeline `spec` names; `spec.problems` must be empty (programmer error otherwise: validate first).
    public init(spec: PreprocessSpec) {
        precondition(spec.problems.isEmpty, "invalid preprocess spec: \(spec.problems.joined(separator: "; "))")
        self.spec = spec
        var t = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 { t[c * 256 + v] = Self.normalizedByte(v, mean: spec.mean[c], std: spec.std[c], pipeline: spec.pipeline) }
        }
        lut = t
    }

    /// One byte through ToTensor + Normalize (torchvision: float32 v / 255, then (x − mean) / std in
    /// float32) or HF rescale + normalize (float64 v · (1/255) cast to float32, then float32 (x − mean) / std).
    public static func normalizedByte(_ v: Int, mean: Float, std: Float, pipeline: PreprocessSpec.Pipeline) -> Float {
        let x: Float = pipeline == .hf ? Float(Double(v) * (1.0 / 255.0)) : Float(v) / Float(255)
        return (x - mean) / std
    }

    /// The PIL filter of the resize ("1" and "P" images are still resized NEAREST, as Pillow does).
    var filter: ResampleFilter { spec.interpolation == .bilinear ? .bilinear : .bicubic }

    /// Floats per preprocessed image: 3·n_px·n_px.
    public var count: Int { 3 * resolution * resolution }

    /// torchvision's _compute_resized_output_size for an int size: (width, height).
    public static func resizedSize(width w: Int, height h: Int, resolution s: Int) -> (width: Int, height: Int) {
        PreprocessGeometry.shortestEdge(width: w, height: h, target: s)
    }

    /// torchvision's center_crop offset: int(round((size − crop) / 2.0)), half to even.
    public static func cropOffset(size: Int, crop: Int) -> Int {
        PreprocessGeometry.torchvisionOffset(size: size, crop: crop)
    }

    // MARK: - Whole pipeline

    public func preprocess(path: String) throws -> [Float] {
        try normalized(resizedCropped(ImageDecoder.decode(path: path)))
    }

    public func preprocess(bytes: [UInt8], source: String? = nil) throws -> [Float] {
        try normalized(resizedCropped(ImageDecoder.decode(bytes: bytes, source: source)))
    }

    /// Decodes and preprocesses one image held in memory, also returning its size on disk.
    public func prepare(bytes: [UInt8], source: String? = nil) throws -> (width: Int, height: Int, pixels: [Float]) {
        let image = try ImageDecoder.decode(bytes: bytes, source: source)
        return (image.width, image.height, normalized(try resizedCropped(image)))
    }

    /// Preprocesses `paths` into `buffer` ([paths.count, 3, n_px, n_px], caller-owned).
    public func preprocess(paths: [String], into buffer: UnsafeMutableBufferPointer<Float>) throws {
        precondition(buffer.count >= paths.count * count, "buffer too small for \(paths.count) images")
        for (i, p) in paths.enumerated() {
            let rgb = try resizedCropped(ImageDecoder.decode(path: p))
            normalize(rgb, into: buffer.baseAddress! + i * count)
        }
    }

    /// ToTensor + Normalize: HWC uint8 → CHW float32.
    public func normalize(_ rgb: RGBImage, into out: UnsafeMutablePointer<Float>) {
        let plane = rgb.width * rgb.height
        lut.withUnsafeBufferPointer { t in
            rgb.pixels.withUnsafeBufferPointer { px in
                for c in 0..<3 {
                    let table = t.baseAddress! + c * 256
                    let dst = out + c * plane
                    for i in 0..<plane { dst[i] = table[Int(px[3 * i + c])] }
                }
            }
        }
    }

    public func normalized(_ rgb: RGBImage) -> [Float] {
        [Float](unsafeUninitializedCapacity: 3 * rgb.width * rgb.height) { buf, n in
            normalize(rgb, into: buf.baseAddress!)
            n = 3 * rgb.width * rgb.height
        }
    }
}
