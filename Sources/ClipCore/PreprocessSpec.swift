// How a model's images become pixels: which library's pipeline, its sizes, filter, resize mode and
// normalisation. Part of the model spec (ClipWeights.ModelSpec) and read by ClipImage.CLIPPreprocess.
// Names and meanings are open_clip's and Hugging Face's (docs/formats.md).

public struct PreprocessSpec: Codable, Equatable, Hashable, Sendable {
    /// Whose arithmetic: torchvision on PIL images (OpenAI `clip`, open_clip) or Hugging Face `CLIPImageProcessor`.
    public enum Pipeline: String, Codable, CaseIterable, Sendable { case openai, hf }
    /// The PIL filter of the resize.
    public enum Interpolation: String, Codable, CaseIterable, Sendable { case bicubic, bilinear }
    /// open_clip's `resize_mode`: short side to the size then centre crop; both sides to the size;
    /// long side to the size then pad to a square with `fillColor`.
    public enum ResizeMode: String, Codable, CaseIterable, Sendable { case shortest, squash, longest }

    public static let openaiMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public static let openaiStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    public var pipeline: Pipeline
    /// The model's input side (`image_resolution`, HF `crop_size`).
    public var size: Int
    /// The side the resize targets before the crop, when it differs from `size` (HF `size.shortest_edge`).
    public var resizeSize: Int?
    public var mean: [Float]
    public var std: [Float]
    public var interpolation: Interpolation
    public var resizeMode: ResizeMode
    /// open_clip's `fill_color` for `longest` (one grey level, 0…255).
    public var fillColor: Int

    public init(pipeline: Pipeline = .openai, size: Int, resizeSize: Int? = nil, mean: [Float] = PreprocessSpec.openaiMean,
                std: [Float] = PreprocessSpec.openaiStd, interpolation: Interpolation = .bicubic,
                resizeMode: ResizeMode = .shortest, fillColor: Int = 0) {
        self.pipeline = pipeline
        self.size = size
        self.resizeSize = resizeSize
        self.mean = mean
        self.std = std
        self.interpolation = interpolation
        self.resizeMode = resizeMode
        self.fillColor = fillColor
    }

    /// OpenAI CLIP's `_transform(size)`.
    public static func openai(size: Int) -> PreprocessSpec { PreprocessSpec(size: size) }

    /// The side the resize step aims at.
    public var resizeTarget: Int { resizeSize ?? size }

    /// Problems a spec read from a file can have, each naming the field; empty when usable.
    public var problems: [String] {
        var out: [String] = []
        if size < 1 || size > 1 << 15 { out.append("size \(size) is outside 1…32768") }
        if let r = resizeSize, r < 1 || r > 1 << 15 { out.append("resize size \(r) is outside 1…32768") }
        if mean.count != 3 || !mean.allSatisfy({ $0.isFinite }) { out.append("image_mean \(mean) is not 3 finite numbers") }
        if std.count != 3 || !std.allSatisfy({ $0.isFinite && $0 > 0 }) { out.append("image_std \(std) is not 3 positive finite numbers") }
        if !(0...255).contains(fillColor) { out.append("fill_color \(fillColor) is outside 0…255") }
        if pipeline == .hf && resizeMode != .shortest { out.append("resize_mode \(resizeMode.rawValue) is an open_clip mode; the hf pipeline resizes the shortest edge") }
        return out
    }
}
