// Source key names → OpenAI state-dict names. OpenAI/open_clip keys map to themselves; Hugging Face
// `CLIPModel` keys (transformers' modeling_clip.py) map with q/k/v concatenated into in_proj and the two
// projections transposed ([out, in] Linear weights vs OpenAI's [in, out] parameters).

public enum KeyNaming: String, Codable, Sendable { case openai, huggingface }

/// How to produce one OpenAI tensor from the source.
public enum TensorSource: Equatable, Sendable {
    case direct(String)
    /// Source is [a, b]; the OpenAI tensor is its transpose [b, a].
    case transposed(String)
    /// Concatenate along the first dimension (q, k, v → in_proj).
    case concatenated([String])

    public var sourceKeys: [String] {
        switch self {
        case .direct(let k), .transposed(let k): [k]
        case .concatenated(let ks): ks
        }
    }
}

public enum KeyMapping {
    public static func naming(of keys: some Collection<String>) -> KeyNaming {
        keys.contains { $0.hasPrefix("vision_model.") || $0.hasPrefix("text_model.") || $0.hasPrefix("visual_projection") }
            ? .huggingface : .openai
    }

    /// The source of `openaiKey` in a file named with `naming`.
    public static func source(of openaiKey: String, naming: KeyNaming) -> TensorSource {
        guard naming == .huggingface else { return .direct(openaiKey) }
        switch openaiKey {
        case "visual.class_embedding": return .direct("vision_model.embeddings.class_embedding")
        case "visual.positional_embedding": return .direct("vision_model.embeddings.position_embedding.weight")
        case "visual.conv1.weight": return .direct("vision_model.embeddings.patch_embedding.weight")
        case "visual.ln_pre.weight": return .direct("vision_model.pre_layrnorm.weight") // sic: HF's spelling
        case "visual.ln_pre.bias": return .direct("vision_model.pre_layrnorm.bias")
        case "visual.ln_post.weight": return .direct("vision_model.post_layernorm.weight")
        case "visual.ln_post.bias": return .direct("vision_model.post_layernorm.bias")
        case "visual.proj": return .transposed("visual_projection.weight")
        case "token_embedding.weight": return .direct("text_model.embeddings.token_embedding.weight")
        case "positional_embedding": return .direct("text_model.embeddings.position_embedding.weight")
        case "ln_final.weight": return .direct("text_model.final_layer_norm.weight")
        case "ln_final.bias": return .direct("text_model.final_layer_norm.bias")
        case "text_projection": return .transposed("text_projection.weight")
        case "logit_scale": return .direct("logit_scale")
        default: return blockSource(openaiKey) ?? .direct(openaiKey)
        }
    }

    /// `visual.transformer.resblocks.3.mlp.c_fc.weight` → `vision_model.encoder.layers.3.mlp.fc1.weight`, etc.
    static func blockSource(_ key: String) -> TensorSource? {
        let (tower, rest): (String, Substring)
        if key.hasPrefix("visual.transformer.resblocks.") {
            tower = "vision_model.encoder.layers"
            rest = key.dropFirst("visual.transformer.resblocks.".count)
        } else if key.hasPrefix("transformer.resblocks.") {
            tower = "text_model.encoder.layers"
            rest = key.dropFirst("transformer.resblocks.".count)
        } else {
            return nil
        }
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        let layer = rest[..<dot]
        let p = "\(tower).\(layer)"
        switch rest[rest.index(after: dot)...] {
        case "attn.in_proj_weight": return .concatenated(["q", "k", "v"].map { "\(p).self_attn.\($0)_proj.weight" })
        case "attn.in_proj_bias": return .concatenated(["q", "k", "v"].map { "\(p).self_attn.\($0)_proj.bias" })
        case "attn.out_proj.weight": return .direct("\(p).self_attn.out_proj.weight")
        case "attn.out_proj.bias": return .direct("\(p).self_attn.out_proj.bias")
        case "ln_1.weight": return .direct("\(p).layer_norm1.weight")
        case "ln_1.bias": return .direct("\(p).layer_norm1.bias")
        case "ln_2.weight": return .direct("\(p).layer_norm2.weight")
        case "ln_2.bias": return .direct("\(p).layer_norm2.bias")
        case "mlp.c_fc.weight": return .direct("\(p).mlp.fc1.weight")
        case "mlp.c_fc.bias": return .direct("\(p).mlp.fc1.bias")
        case "mlp.c_proj.weight": return .direct("\(p).mlp.fc2.weight")
        case "mlp.c_proj.bias": return .direct("\(p).mlp.fc2.bias")
        default: return nil
        }
    }

    /// The shapes of the OpenAI tensors, given the source's shapes (for config inference).
    public static func openaiShapes(from source: [String: [Int]], naming: KeyNaming) -> [String: [Int]] {
        guard naming == .huggingface else { return source }
        // Only the tensors config inference reads, plus layer-count probes.
        var out: [String: [Int]] = [:]
        let probes = ["visual.conv1.weight", "visual.positional_embedding", "text_projection", "positional_embedding",
                      "token_embedding.weight", "ln_final.weight", "visual.proj"]
        for k in probes {
            switch KeyMapping.source(of: k, naming: naming) {
            case .direct(let s): if let sh = source[s] { out[k] = sh }
            case .transposed(let s): if let sh = source[s], sh.count == 2 { out[k] = [sh[1], sh[0]] }
            case .concatenated: break
            }
        }
        for k in source.keys {
            for (hf, oa) in [("vision_model.encoder.layers.", "visual.transformer.resblocks."),
                             ("text_model.encoder.layers.", "transformer.resblocks.")] where k.hasPrefix(hf) {
                let rest = k.dropFirst(hf.count)
                if let dot = rest.firstIndex(of: "."), rest[rest.index(after: dot)...] == "self_attn.q_proj.weight" {
                    out["\(oa)\(rest[..<dot]).attn.in_proj_weight"] = [0]
                }
            }
        }
        return out
    }
}
