// The ViT family: openai/CLIP's VisionTransformer, which open_clip's native towers (GELU, any head width,
// MLP ratio and LayerScale) and Hugging Face's CLIPVisionTransformer share. Spec inference follows
// build_model: widths and patch from conv1, grid from the positional embedding, layers by counting blocks;
// what shapes cannot tell (heads, activation, ε, preprocessing) comes from the source's hints.
import ClipCore

public enum ViTArchitecture {
    public static let family = "vit"
    public static let entry = CLIPArchitecture(family: family, description: "a CLIP ViT", matches: matches,
                                               inferSpec: { try inferSpec($0, naming: $1, hints: $2, capacityBytes: $3, file: $4) }, expected: expected)
    static let marker = "visual.class_embedding"
    static let needs = "a CLIP ViT model"

    public static func matches(_ shapes: [String: [Int]]) -> Bool { shapes[marker] != nil }

    public static func expected(_ spec: ModelSpec) -> [(name: String, shape: [Int])] {
        let v = spec.vision, w = v.transformer.width
        var out: [(name: String, shape: [Int])] = [
            ("visual.class_embedding", [w]),
            ("visual.positional_embedding", [spec.visionTokens, w]),
            ("visual.conv1.weight", [w, 3, v.patchSize, v.patchSize]),
            ("visual.ln_pre.weight", [w]), ("visual.ln_pre.bias", [w]),
        ]
        out += TextTower.blocks(prefix: "visual.transformer.resblocks", v.transformer)
        out += [("visual.ln_post.weight", [w]), ("visual.ln_post.bias", [w]), ("visual.proj", [w, spec.embedDim])]
        return out + TextTower.expected(spec)
    }

    public static func inferSpec(_ shapes: [String: [Int]], naming: KeyNaming = .openai, hints h: SpecHints, capacityBytes: Int, file: String) throws -> ModelSpec {
        let conv = try Shapes.get(shapes, "visual.conv1.weight", rank: 4, file: file, needs: needs)
        let vpos = try Shapes.get(shapes, "visual.positional_embedding", rank: 2, file: file, needs: needs)
        let tproj = try Shapes.get(shapes, "text_projection", rank: 2, file: file, needs: needs)
        // build_model: grid = round((rows - 1) ** 0.5), rows = class token + grid² patches.
        guard vpos[0] >= 2 else {
            throw WeightsError("weights.shape", "tensor 'visual.positional_embedding' in '\(file)' has shape \(vpos): it needs a row for the class token and one per image patch")
        }
        let grid = Int((Double(vpos[0] - 1)).squareRoot().rounded())
        if h.values["resnet_layers"] != nil {
            throw Shapes.inconsistent(file, "\(h.origin) gives resnet_layers, which describes a ModifiedResNet image tower, but the tensors are a ViT's")
        }
        var assumed: [String] = []
        let patch = h.int("vision_patch_size") ?? conv[3]
        let t = TextTower.transformer(shapes, blocks: "visual.transformer.resblocks.", sizes: "vision", tower: "vision",
                                      width: h.int("vision_width") ?? conv[0], hints: h, assumed: &assumed)
        let resolution = h.int("image_resolution") ?? CheckedSize.product(conv[3], grid) ?? Int.max  // too large: checkSizes
        let text = try TextTower.infer(shapes, hints: h, file: file, assumed: &assumed)
        if h.string("tokenizer") == nil { assumed.append("tokenizer") }
        let spec = ModelSpec(family: family, embedDim: h.int("embed_dim") ?? tproj[1],
                             vision: VisionSpec(transformer: t, patchSize: patch, imageSize: resolution), text: text,
                             preprocess: TextTower.preprocess(h, size: resolution),
                             tokenizer: h.string("tokenizer").flatMap(TokenizerKind.init(rawValue:)) ?? .openai,
                             assumed: assumed.sorted())
        try validate(spec, file: file)
        try checkSizes(spec, capacityBytes: capacityBytes, file: file)
        if let p = spec.preprocess.problems.first { throw Shapes.inconsistent(file, "preprocessing: \(p)") }
        try Shapes.checkLayers(shapes, prefix: "visual.transformer.resblocks", count: t.layers, argument: "vision_layers", naming: naming, file: file)
        try Shapes.checkLayers(shapes, prefix: "transformer.resblocks", count: text.transformer.layers, argument: "transformer_layers", naming: naming, file: file)
        return spec
    }

    static func validate(_ s: ModelSpec, file: String) throws {
        try TextTower.validate(s.vision.transformer, prefix: "vision", headsAssumed: s.assumed.contains("vision_heads"), file: file)
        try TextTower.validate(s.text.transformer, prefix: "transformer", headsAssumed: s.assumed.contains("transformer_heads"), file: file)
        for (name, v) in [("embed_dim", s.embedDim), ("image_resolution", s.vision.imageSize), ("vision_patch_size", s.vision.patchSize),
                          ("context_length", s.text.contextLength), ("vocab_size", s.text.vocabSize)] where v <= 0 {
            throw Shapes.inconsistent(file, "\(name) is \(v), it must be positive")
        }
        if s.vision.imageSize % s.vision.patchSize != 0 {
            throw Shapes.inconsistent(file, "image_resolution \(s.vision.imageSize) is not a multiple of vision_patch_size \(s.vision.patchSize)")
        }
    }

    /// The largest tensor of each kind stands for the rest (a block's MLP weight for all of its tensors).
    static func checkSizes(_ s: ModelSpec, capacityBytes: Int, file: String) throws {
        let (v, t) = (s.vision.transformer, s.text.transformer)
        let p = s.vision.patchSize, e = s.embedDim
        let grid = s.vision.imageSize / p
        let tokens = CheckedSize.product(grid, grid).flatMap { $0 < Int.max ? $0 + 1 : nil }
        let why = "vision_width \(v.width), vision_mlp_width \(v.mlpWidth), vision_patch_size \(p), image_resolution \(s.vision.imageSize), transformer_width \(t.width), transformer_mlp_width \(t.mlpWidth), context_length \(s.text.contextLength), vocab_size \(s.text.vocabSize), embed_dim \(e)"
        try Shapes.checkSizes([
            ("visual.positional_embedding", [tokens, v.width], why),
            ("visual.conv1.weight", [v.width, 3, p, p], why),
            ("visual.proj", [v.width, e], why),
            ("visual.transformer.resblocks.0.mlp.c_fc.weight", [v.mlpWidth, v.width], why),
            ("token_embedding.weight", [s.text.vocabSize, t.width], why),
            ("positional_embedding", [s.text.contextLength, t.width], why),
            ("transformer.resblocks.0.mlp.c_fc.weight", [t.mlpWidth, t.width], why),
            ("text_projection", [t.width, e], why),
        ], capacityBytes: capacityBytes, file: file)
        guard CheckedSize.product(s.vision.imageSize, s.vision.imageSize).flatMap({ CheckedSize.product(3, $0) }) != nil else {
            throw WeightsError("config.size", "the configuration of '\(file)' has image_resolution \(s.vision.imageSize): 3 × its square overflows a 64-bit count; fix the /config attributes or clip_config metadata")
        }
    }
}
