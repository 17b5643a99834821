// The options that choose a preprocessing pipeline (a ClipCore.PreprocessSpec), shared by commands
// that preprocess images; checked in validate() with a sentence naming the option.
import ArgumentParser
import ClipCore
import Foundation

extension PreprocessSpec.Pipeline: ExpressibleByArgument {}
extension PreprocessSpec.Interpolation: ExpressibleByArgument {}
extension PreprocessSpec.ResizeMode: ExpressibleByArgument {}

struct PreprocessOptions: ParsableArguments {
    @Option(help: "Whose arithmetic: openai (torchvision on PIL: OpenAI clip, open_clip) or hf (transformers' CLIPImageProcessorPil).")
    var pipeline: PreprocessSpec.Pipeline = .openai

    @Option(name: [.customLong("size"), .customLong("resolution")], help: "Output side R in pixels (the model's image_resolution, HF crop_size).")
    var size: Int = 224

    @Option(help: "The side the resize aims at before the crop, when it differs from --size (HF size.shortest_edge).")
    var resizeSize: Int?

    @Option(help: ArgumentHelp("Per-channel mean, three numbers (OpenAI's by default).", valueName: "a,b,c"))
    var mean: String?

    @Option(help: ArgumentHelp("Per-channel std, three positive numbers (OpenAI's by default).", valueName: "a,b,c"))
    var std: String?

    @Option(help: "The PIL resize filter.")
    var interpolation: PreprocessSpec.Interpolation = .bicubic

    @Option(help: "open_clip's resize_mode (openai pipeline only): shortest + center crop, squash, or longest + pad.")
    var resizeMode: PreprocessSpec.ResizeMode = .shortest

    @Option(help: "open_clip's fill_color for --resize-mode longest: one grey level 0…255.")
    var fillColor: Int = 0

    func validate() throws {
        guard (1...4096).contains(size) else { throw ValidationError("--size must be between 1 and 4096 (CLIP ViT-B/32 uses 224), got \(size)") }
        if let r = resizeSize, !(1...4096).contains(r) { throw ValidationError("--resize-size must be between 1 and 4096, got \(r)") }
        _ = try triple(mean, "--mean")
        if let s = try triple(std, "--std"), !s.allSatisfy({ $0 > 0 }) {
            throw ValidationError("--std must be three positive numbers, got '\(std!)'")
        }
        guard (0...255).contains(fillColor) else { throw ValidationError("--fill-color must be a grey level 0…255, got \(fillColor)") }
        if pipeline == .hf && resizeMode != .shortest {
            throw ValidationError("--resize-mode \(resizeMode.rawValue) is open_clip's (--pipeline openai); the hf pipeline resizes the shortest edge")
        }
        if let problem = try spec().problems.first { throw ValidationError(problem) }
    }

    /// The spec the options name (`validate()` has checked it).
    func spec() throws -> PreprocessSpec {
        PreprocessSpec(pipeline: pipeline, size: size, resizeSize: resizeSize,
                       mean: try triple(mean, "--mean") ?? PreprocessSpec.openaiMean,
                       std: try triple(std, "--std") ?? PreprocessSpec.openaiStd,
                       interpolation: interpolation, resizeMode: resizeMode, fillColor: fillColor)
    }

    /// "a,b,c" → three finite floats: each parsed as a double, then rounded to float32, as Python's
    /// float literal → np.float32 / torch.float32 does.
    private func triple(_ text: String?, _ name: String) throws -> [Float]? {
        guard let text else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Double($0).map { Float($0) } }
        guard parts.count == 3, values.count == 3, values.allSatisfy({ $0.isFinite }) else {
            throw ValidationError("\(name) takes three comma-separated numbers (e.g. 0.5,0.5,0.5), got '\(text)'")
        }
        return values
    }
}
