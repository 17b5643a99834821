// OpenAI CLIP's `_transform(n_px)` (clip/clip.py) on Pillow images, reproduced exactly:
//   Resize(n_px, BICUBIC)   torchvision: short side → n_px, long side int(n_px·long/short), then
//                           PIL Image.resize in the image's own mode (NEAREST for "1"/"P",
//                           premultiplied for RGBA/LA; skipped if the size is already right)
//   CenterCrop(n_px)        offsets int(round((h − n_px) / 2.0)), Python's half-to-even round
//   convert("RGB")          after the crop, from the original mode
//   ToTensor, Normalize     float32: (x / 255 − mean) / std, channels first
import ClipCore

public struct CLIPPreprocess: Sendable {
    public static let mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public static let std: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// n_px: output side (224 for ViT-B/32).
    public let resolution: Int
    /// lut[c·256 + v] = (Float(v) / 255 − mean[c]) / std[c], in float32 as torchvision computes it.
    let lut: [Float]

    public init(resolution: Int = 224) {
        precondition(resolution > 0, "resolution must be positive")
        self.resolution = resolution
        var t = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 { t[c * 256 + v] = (Float(v) / Float(255) - Self.mean[c]) / Self.std[c] }
        }
        lut = t
    }

    /// Floats per preprocessed image: 3·n_px·n_px.
    public var count: Int { 3 * resolution * resolution }

    /// torchvision's _compute_resized_output_size for an int size: (width, height).
    public static func resizedSize(width w: Int, height h: Int, resolution s: Int) -> (width: Int, height: Int) {
        let (short, long) = w <= h ? (w, h) : (h, w)
        let newLong = Int(Double(s * long) / Double(short))
        return w <= h ? (s, newLong) : (newLong, s)
    }

    /// torchvision's center_crop offset: int(round((size − crop) / 2.0)), half to even.
    public static func cropOffset(size: Int, crop: Int) -> Int {
        Int((Double(size - crop) / 2.0).rounded(.toNearestOrEven))
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
