// The configuration from tensor shapes, as openai/CLIP's `build_model` infers it, then `/config` overrides,
// then consistency checks with a message that names the offending value.

public enum ConfigInference {
    /// `shapes` uses OpenAI names. `overrides` uses build_model's argument names.
    public static func infer(shapes: [String: [Int]], overrides: [String: Int] = [:], file: String) throws -> CLIPConfig {
        func shape(_ k: String, rank: Int) throws -> [Int] {
            guard let s = shapes[k] else {
                throw WeightsError("weights.missing-tensor", "'\(file)' has no tensor '\(k)', which a CLIP ViT model needs (the configuration is inferred from it)")
            }
            guard s.count == rank else {
                throw WeightsError("weights.shape", "tensor '\(k)' in '\(file)' has shape \(s), expected a \(rank)-D shape")
            }
            return s
        }
        let conv = try shape("visual.conv1.weight", rank: 4)
        let vpos = try shape("visual.positional_embedding", rank: 2)
        let tproj = try shape("text_projection", rank: 2)
        let pos = try shape("positional_embedding", rank: 2)
        let tok = try shape("token_embedding.weight", rank: 2)
        let lnf = try shape("ln_final.weight", rank: 1)
        let grid = Int((Double(vpos[0] - 1)).squareRoot().rounded())
        let tw = lnf[0]
        var c = CLIPConfig(
            embedDim: tproj[1],
            imageResolution: conv[3] * grid,
            visionLayers: layerCount(shapes, prefix: "visual.transformer.resblocks."),
            visionWidth: conv[0],
            visionPatchSize: conv[3],
            contextLength: pos[0],
            vocabSize: tok[0],
            transformerWidth: tw,
            transformerHeads: tw / 64,
            transformerLayers: layerCount(shapes, prefix: "transformer.resblocks."))
        for (name, value) in overrides {
            guard CLIPConfig.argumentNames.contains(name) else {
                throw WeightsError("config.unknown", "'\(file)' has /config attribute '\(name)', which is not a build_model argument (\(CLIPConfig.argumentNames.joined(separator: ", ")))")
            }
            c[argument: name] = value
        }
        try validate(c, file: file)
        return c
    }

    static func layerCount(_ shapes: [String: [Int]], prefix: String) -> Int {
        var maxIndex = -1
        for k in shapes.keys where k.hasPrefix(prefix) && k.hasSuffix(".attn.in_proj_weight") {
            let rest = k.dropFirst(prefix.count)
            if let dot = rest.firstIndex(of: "."), let i = Int(rest[..<dot]) { maxIndex = max(maxIndex, i) }
        }
        return maxIndex + 1
    }

    /// Checks the relations the model relies on; each failure names the values.
    public static func validate(_ c: CLIPConfig, file: String) throws {
        func bad(_ what: String) -> WeightsError {
            WeightsError("config.inconsistent", "inconsistent config in '\(file)': \(what)")
        }
        for name in CLIPConfig.argumentNames where (c[argument: name] ?? 0) <= 0 {
            throw bad("\(name) is \(c[argument: name] ?? 0), it must be positive")
        }
        if c.visionWidth % 64 != 0 {
            throw bad("vision_width \(c.visionWidth) is not divisible by 64 (OpenAI CLIP uses width/64 attention heads)")
        }
        if c.transformerWidth % c.transformerHeads != 0 {
            throw bad("transformer_width \(c.transformerWidth) is not divisible by transformer_heads \(c.transformerHeads)")
        }
        if c.imageResolution % c.visionPatchSize != 0 {
            throw bad("image_resolution \(c.imageResolution) is not a multiple of vision_patch_size \(c.visionPatchSize)")
        }
    }
}
