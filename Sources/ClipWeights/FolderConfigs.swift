// Hugging Face `CLIPModel` and open_clip hub configurations → hints. Field names and defaults are those of
// transformers' CLIPVisionConfig/CLIPTextConfig (save_pretrained writes only fields that differ from the
// defaults) and of open_clip's CLIPVisionCfg/CLIPTextCfg.
import ClipCore

enum HFConfig {
    /// transformers' defaults for the fields clipwb reads, per sub-config.
    static let visionDefaults: [String: HintValue] = [
        "hidden_size": .int(768), "intermediate_size": .int(3072), "num_attention_heads": .int(12), "num_hidden_layers": .int(12),
        "image_size": .int(224), "patch_size": .int(32), "hidden_act": .string("quick_gelu"), "layer_norm_eps": .number(1e-5)]
    static let textDefaults: [String: HintValue] = [
        "hidden_size": .int(512), "intermediate_size": .int(2048), "num_attention_heads": .int(8), "num_hidden_layers": .int(12),
        "max_position_embeddings": .int(77), "vocab_size": .int(49408), "hidden_act": .string("quick_gelu"), "layer_norm_eps": .number(1e-5)]

    /// `config.json` (and `preprocessor_config.json` when given) → hints.
    static func hints(config c: JSONFile, preprocessor p: JSONFile?) throws -> SpecHints {
        var h = SpecHints(origin: "'\(c.path)'")
        if let t = try c.string("model_type"), t != "clip" {
            throw WeightsError("config.unsupported", "'\(c.path)' describes a '\(t)' model; clipwb reads Hugging Face CLIPModel checkpoints (model_type 'clip'): SigLIP, CLIPSeg, X-CLIP and others use other towers or tokenizers")
        }
        let v = c.object("vision_config") ?? JSONFile(path: "\(c.path) → vision_config", members: [])
        let t = c.object("text_config") ?? JSONFile(path: "\(c.path) → text_config", members: [])
        func value(_ f: JSONFile, _ key: String, _ defaults: [String: HintValue]) throws -> HintValue {
            switch defaults[key]! {
            case .int: if let n = try f.int(key) { return .int(n) }
            case .number: if let d = try f.number(key) { return .number(d) }
            case .string: if let s = try f.string(key) { return .string(s) }
            case .numbers: break
            }
            return defaults[key]!
        }
        func act(_ f: JSONFile, _ defaults: [String: HintValue]) throws -> HintValue {
            let a = try value(f, "hidden_act", defaults)
            guard case .string(let s) = a, Activation(rawValue: s) != nil else {
                throw WeightsError("config.unsupported", "'\(f.path)' has hidden_act \(a.text); clipwb runs 'quick_gelu' and 'gelu' (exact erf)")
            }
            return a
        }
        try h.set("embed_dim", .int(try c.int("projection_dim") ?? 512))
        for (hint, key) in [("vision_width", "hidden_size"), ("vision_mlp_width", "intermediate_size"), ("vision_heads", "num_attention_heads"),
                            ("vision_layers", "num_hidden_layers"), ("image_resolution", "image_size"), ("vision_patch_size", "patch_size"),
                            ("vision_layer_norm_eps", "layer_norm_eps")] {
            try h.set(hint, try value(v, key, visionDefaults))
        }
        for (hint, key) in [("transformer_width", "hidden_size"), ("transformer_mlp_width", "intermediate_size"),
                            ("transformer_heads", "num_attention_heads"), ("transformer_layers", "num_hidden_layers"),
                            ("context_length", "max_position_embeddings"), ("vocab_size", "vocab_size"), ("text_layer_norm_eps", "layer_norm_eps")] {
            try h.set(hint, try value(t, key, textDefaults))
        }
        try h.set("vision_activation", try act(v, visionDefaults))
        try h.set("text_activation", try act(t, textDefaults))
        if let channels = try v.int("num_channels"), channels != 3 {
            throw WeightsError("config.unsupported", "'\(v.path)' has num_channels \(channels); CLIP image towers take 3 (RGB)")
        }
        // HF pools the text at the first eos_token_id (or argmax for the legacy id 2): the end token, the
        // largest id, when eos is the vocabulary's last id.
        let vocab = h.int("vocab_size") ?? 49408
        if let eos = try t.int("eos_token_id"), eos != 2, eos != vocab - 1 {
            throw WeightsError("config.unsupported", "'\(t.path)' has eos_token_id \(eos); clipwb pools the text at the end token \(vocab - 1) (or argmax for the legacy id 2)")
        }
        try h.set("tokenizer", .string(TokenizerKind.hf.rawValue))
        // Without preprocessor_config.json the checkpoint's processor is CLIPImageProcessor with its defaults
        // (shortest edge = crop = image_size, bicubic, OpenAI's mean and std).
        try h.set("preprocess", .string(PreprocessSpec.Pipeline.hf.rawValue))
        if let p { try preprocessor(p, into: &h) }
        return h
    }

    /// `preprocessor_config.json` of a `CLIPImageProcessor`.
    static func preprocessor(_ p: JSONFile, into h: inout SpecHints) throws {
        func refuse(_ what: String) -> WeightsError {
            WeightsError("config.unsupported", "'\(p.path)' \(what); clipwb follows CLIPImageProcessor's CLIP settings (resize the shortest edge, centre crop, rescale by 1/255, normalize)")
        }
        if let type = try p.string("image_processor_type"), !type.hasPrefix("CLIPImageProcessor") {
            throw refuse("is for a \(type)")
        }
        for flag in ["do_resize", "do_center_crop", "do_rescale", "do_normalize"] {
            if try p.bool(flag) == false { throw refuse("has \(flag) false") }
        }
        if let f = try p.number("rescale_factor"), abs(f - 1.0 / 255) > 1e-12 { throw refuse("has rescale_factor \(f)") }
        try h.set("preprocess", .string("hf"))
        switch try p.int("resample") ?? 3 {
        case 3: try h.set("interpolation", .string("bicubic"))
        case 2: try h.set("interpolation", .string("bilinear"))
        case let r: throw refuse("has resample \(r) (PIL \(r == 0 ? "NEAREST" : r == 1 ? "LANCZOS" : r == 4 ? "BOX" : r == 5 ? "HAMMING" : "filter \(r)"))")
        }
        if let size = p.object("size") {
            guard let s = try size.int("shortest_edge") else { throw refuse("has a size without shortest_edge") }
            try h.set("resize_size", .int(s))
        } else if let s = try p.int("size") {
            try h.set("resize_size", .int(s))
        }
        let crop: Int?
        if let c = p.object("crop_size") {
            let (ch, cw) = (try c.int("height"), try c.int("width"))
            guard ch == cw else { throw refuse("has a crop that is not square (\(ch ?? 0)×\(cw ?? 0))") }
            crop = ch
        } else {
            crop = try p.int("crop_size")
        }
        if let crop, let res = h.int("image_resolution"), crop != res {
            throw refuse("crops to \(crop) pixels but the model's image_size is \(res)")
        }
        if let m = try p.numbers("image_mean") { try h.set("image_mean", .numbers(m)) }
        if let s = try p.numbers("image_std") { try h.set("image_std", .numbers(s)) }
    }
}

enum OpenCLIPConfig {
    /// `open_clip_config.json` (`model_cfg`, `preprocess_cfg`) → hints.
    static func hints(_ f: JSONFile) throws -> SpecHints {
        var h = SpecHints(origin: "'\(f.path)'")
        guard let m = f.object("model_cfg") else {
            throw WeightsError("config.json", "'\(f.path)' has no model_cfg object; open_clip hub folders hold {\"model_cfg\": …, \"preprocess_cfg\": …}")
        }
        let v = m.object("vision_cfg") ?? JSONFile(path: "\(m.path) → vision_cfg", members: [])
        let t = m.object("text_cfg") ?? JSONFile(path: "\(m.path) → text_cfg", members: [])
        func refuse(_ file: JSONFile, _ key: String, _ why: String) -> WeightsError {
            WeightsError("config.unsupported", "'\(file.path)' sets \(key) \(file[key]?.text ?? ""): \(why); this is outside the open_clip CLIP models clipwb runs (native ViT towers with CLIP's BPE tokenizer)")
        }
        for key in ["timm_model_name", "hf_model_name"] where !(v[key]?.isNull ?? true) { throw refuse(v, key, "a timm/HF image tower") }
        for key in ["hf_model_name", "hf_tokenizer_name"] where !(t[key]?.isNull ?? true) { throw refuse(t, key, "another text tower or tokenizer") }
        for (file, key, ok) in [(v, "attentional_pool", HeaderJSON.bool(false)), (v, "no_ln_pre", .bool(false)), (v, "pos_embed_type", .string("learnable")),
                                (v, "pool_type", .string("tok")), (t, "embed_cls", .bool(false)), (t, "no_causal_mask", .bool(false)),
                                (t, "pool_type", .string("argmax")), (t, "proj_bias", .bool(false)), (t, "proj_type", .string("linear")),
                                (m, "custom_text", .bool(false)), (m, "multimodal_cfg", .null)]
        where file[key].map({ !$0.same(ok) && !(ok.isNull && $0.same(.object([]))) }) ?? false {
            throw refuse(file, key, "a variant of the tower clipwb does not implement")
        }
        for (file, tower, key) in [(v, "vision", "act_kwargs"), (t, "text", "act_kwargs"), (v, "vision", "norm_kwargs"), (t, "text", "norm_kwargs")] {
            guard let kw = file.object(key), !kw.members.isEmpty else { continue }
            guard key == "norm_kwargs", kw.members.count == 1, let eps = try kw.number("eps") else { throw refuse(file, key, "custom activation or norm arguments") }
            try h.set("\(tower)_layer_norm_eps", .number(eps))
        }
        if let e = try m.int("embed_dim") { try h.set("embed_dim", .int(e)) }
        let act = (try m.bool("quick_gelu") ?? false) ? Activation.quickGELU : .gelu
        try h.set("activation", .string(act.rawValue))
        let width = try v.int("width") ?? 768
        let headWidth = try v.int("head_width") ?? 64
        if let s = try v.int("image_size") { try h.set("image_resolution", .int(s)) }
        if let stages = try resnetLayers(v) {
            // A ModifiedResNet (open_clip's `layers` list): heads = width·32 / head_width, as open_clip's _build_vision_tower.
            let pool = CheckedSize.product(width, 32) ?? 0
            guard headWidth > 0, pool > 0, pool % headWidth == 0 else { throw refuse(v, "head_width", "the attention pool width 32 × \(width) is not a multiple of it") }
            try h.set("resnet_layers", .numbers(stages))
            try h.set("vision_width", .int(width))
            try h.set("vision_heads", .int(pool / headWidth))
        } else {
            guard headWidth > 0, width % headWidth == 0 else { throw refuse(v, "head_width", "vision width \(width) is not a multiple of it") }
            try h.set("vision_width", .int(width))
            try h.set("vision_heads", .int(width / headWidth))
            if let l = try v.int("layers") { try h.set("vision_layers", .int(l)) }
            if let p = try v.int("patch_size") { try h.set("vision_patch_size", .int(p)) }
            try h.set("vision_mlp_width", .int(Int(Double(width) * (try v.number("mlp_ratio") ?? 4))))
        }
        let tw = try t.int("width") ?? 512
        try h.set("transformer_width", .int(tw))
        try h.set("transformer_heads", .int(try t.int("heads") ?? 8))
        if let l = try t.int("layers") { try h.set("transformer_layers", .int(l)) }
        try h.set("transformer_mlp_width", .int(Int(Double(tw) * (try t.number("mlp_ratio") ?? 4))))
        try h.set("context_length", .int(try t.int("context_length") ?? 77))
        try h.set("vocab_size", .int(try t.int("vocab_size") ?? 49408))
        try h.set("tokenizer", .string(TokenizerKind.openClip.rawValue))
        if let p = f.object("preprocess_cfg") { try preprocess(p, into: &h) }
        return h
    }

    /// vision_cfg.layers as a list ([3, 4, 6, 3]): Bottlenecks per stage of a ModifiedResNet; nil for a ViT's integer.
    static func resnetLayers(_ v: JSONFile) throws -> [Double]? {
        guard case .array? = v["layers"] else { return nil }
        return try v.numbers("layers")
    }

    static func preprocess(_ p: JSONFile, into h: inout SpecHints) throws {
        if let m = try p.numbers("mean") { try h.set("image_mean", .numbers(m)) }
        if let s = try p.numbers("std") { try h.set("image_std", .numbers(s)) }
        if let i = try p.string("interpolation") { try h.set("interpolation", .string(i)) }
        if let r = try p.string("resize_mode") { try h.set("resize_mode", .string(r)) }
        if let c = try p.int("fill_color") { try h.set("fill_color", .int(c)) }
        let size = try p.int("size") ?? (try p.numbers("size")).flatMap { $0.count == 2 && $0[0] == $0[1] ? Int($0[0]) : -1 }
        if let size, let res = h.int("image_resolution"), size != res {
            throw WeightsError("config.unsupported", "'\(p.path)' has size \(size) but the model's image_size is \(res); clipwb preprocesses to the model's input size")
        }
    }
}
