// The configuration from tensor shapes, as openai/CLIP's `build_model` infers it, then `/config` overrides,
// then consistency checks with a message that names the offending value. A configuration is input too: before
// any tensor list is made from it, its sizes are bounded by the file and its layer counts by the tensors stored.
import ClipCore

public enum ConfigInference {
    /// `shapes` uses OpenAI names (`KeyMapping.openaiShapes`). `overrides` uses build_model's argument names.
    /// `capacityBytes` is the most tensor data the file can hold (see `checkSizes`).
    public static func infer(shapes: [String: [Int]], overrides: [String: Int] = [:], naming: KeyNaming = .openai,
                             capacityBytes: Int, file: String) throws -> CLIPConfig {
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
        // build_model: grid = round((rows - 1) ** 0.5), rows = class token + grid² patches.
        guard vpos[0] >= 2 else {
            throw WeightsError("weights.shape", "tensor 'visual.positional_embedding' in '\(file)' has shape \(vpos): it needs a row for the class token and one per image patch")
        }
        let grid = Int((Double(vpos[0] - 1)).squareRoot().rounded())
        let tw = lnf[0]
        var c = CLIPConfig(
            embedDim: tproj[1],
            imageResolution: CheckedSize.product(conv[3], grid) ?? Int.max,  // too large: refused by checkSizes
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
        try check(c, shapes: shapes, naming: naming, capacityBytes: capacityBytes, file: file)
        return c
    }

    /// build_model counts the `*.attn.in_proj_weight` keys: a count of tensors present, never an index read
    /// from a key (`resblocks.9223372036854775807` is one layer, and `checkLayers` then finds the gap).
    static func layerCount(_ shapes: [String: [Int]], prefix: String) -> Int {
        shapes.keys.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".attn.in_proj_weight") }.count
    }

    /// Everything a configuration must satisfy before a tensor list is made from it (`StateDict.expected`):
    /// `validate`'s relations, sizes the file can hold, and every layer it counts actually stored.
    public static func check(_ c: CLIPConfig, shapes: [String: [Int]], naming: KeyNaming, capacityBytes: Int, file: String) throws {
        try validate(c, file: file)
        try checkSizes(c, capacityBytes: capacityBytes, file: file)
        try checkLayers(c, shapes: shapes, naming: naming, file: file)
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

    /// Every tensor the configuration predicts, at 2 bytes per value (float16, the smallest dtype), must fit in
    /// `capacityBytes`; computed with checked arithmetic, so a width of 2^62 is an error, not a trap. The
    /// largest tensor of each kind stands for the rest (a block's MLP weight for all of its tensors).
    static func checkSizes(_ c: CLIPConfig, capacityBytes: Int, file: String) throws {
        let (vw, tw, p, e) = (c.visionWidth, c.transformerWidth, c.visionPatchSize, c.embedDim)
        let grid = c.imageResolution / p
        let tokens = CheckedSize.product(grid, grid).flatMap { $0 < Int.max ? $0 + 1 : nil }
        let pixels = CheckedSize.product(c.imageResolution, c.imageResolution).flatMap { CheckedSize.product(3, $0) }
        let predicted: [(name: String, dims: [Int?], arguments: [String])] = [
            ("visual.positional_embedding", [tokens, vw], ["image_resolution", "vision_patch_size", "vision_width"]),
            ("visual.conv1.weight", [vw, 3, p, p], ["vision_width", "vision_patch_size"]),
            ("visual.proj", [vw, e], ["vision_width", "embed_dim"]),
            ("visual.transformer.resblocks.0.mlp.c_fc.weight", [CheckedSize.product(4, vw), vw], ["vision_width"]),
            ("token_embedding.weight", [c.vocabSize, tw], ["vocab_size", "transformer_width"]),
            ("positional_embedding", [c.contextLength, tw], ["context_length", "transformer_width"]),
            ("transformer.resblocks.0.mlp.c_fc.weight", [CheckedSize.product(4, tw), tw], ["transformer_width"]),
            ("text_projection", [tw, e], ["transformer_width", "embed_dim"]),
        ]
        for t in predicted {
            let dims = t.dims.compactMap { $0 }
            let bytes = dims.count == t.dims.count ? CheckedSize.bytes(dims, elementSize: 2) : nil
            if let bytes, bytes <= capacityBytes { continue }
            let values = t.arguments.map { "\($0) \(c[argument: $0]!)" }.joined(separator: ", ")
            let size = bytes.map { "\($0) bytes" } ?? "more bytes than a 64-bit size can count"
            throw WeightsError("config.size", "the configuration of '\(file)' (\(values)) predicts tensor '\(t.name)' of \(size) even at 2 bytes per value, but the file holds \(capacityBytes) bytes of tensor data; fix the /config attributes or clip_config metadata")
        }
        guard pixels != nil else {  // the model's input: 3 × resolution² floats per image
            throw WeightsError("config.size", "the configuration of '\(file)' has image_resolution \(c.imageResolution): 3 × its square overflows a 64-bit count; fix the /config attributes or clip_config metadata")
        }
    }

    /// Each layer 0..<N of each tower must have its attention weight stored. The loop stops at the first
    /// missing one, so a configuration claiming 10⁹ layers costs as many steps as there are stored layers.
    static func checkLayers(_ c: CLIPConfig, shapes: [String: [Int]], naming: KeyNaming, file: String) throws {
        for (prefix, count, argument) in [("visual.transformer.resblocks", c.visionLayers, "vision_layers"),
                                          ("transformer.resblocks", c.transformerLayers, "transformer_layers")] {
            for k in 0..<count where shapes["\(prefix).\(k).attn.in_proj_weight"] == nil {
                let name = "\(prefix).\(k).attn.in_proj_weight"
                let stored = KeyMapping.source(of: name, naming: naming).sourceKeys[0]
                let alias = stored == name ? "" : " (OpenAI name '\(name)')"
                throw WeightsError("weights.missing-tensor", "'\(file)' has no tensor '\(stored)'\(alias), but its configuration says \(argument) \(count), so layers 0..<\(count) must all be stored; fix \(argument) or the file")
            }
        }
    }
}
