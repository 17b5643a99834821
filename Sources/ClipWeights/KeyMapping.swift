// Source key names ↔ OpenAI state-dict names, as data. OpenAI and open_clip keys are OpenAI names; Hugging
// Face `CLIPModel` keys (transformers' modeling_clip.py) map through the two tables below, with q/k/v
// concatenated into in_proj and the two projections transposed ([out, in] Linear weights vs OpenAI's
// [in, out] parameters). The loader applies the same tables to every container (HDF5, safetensors, folders).

import ClipCore

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
    /// One table row: the OpenAI name (or block suffix), how the HF tensor relates, the HF name(s).
    struct Row {
        enum Relation { case same, transposed, qkv }
        let openai: String
        let relation: Relation
        let hf: String
    }

    /// Whole-model tensors.
    static let topLevel: [Row] = [
        Row(openai: "visual.class_embedding", relation: .same, hf: "vision_model.embeddings.class_embedding"),
        Row(openai: "visual.positional_embedding", relation: .same, hf: "vision_model.embeddings.position_embedding.weight"),
        Row(openai: "visual.conv1.weight", relation: .same, hf: "vision_model.embeddings.patch_embedding.weight"),
        Row(openai: "visual.ln_pre.weight", relation: .same, hf: "vision_model.pre_layrnorm.weight"),  // sic: HF's spelling
        Row(openai: "visual.ln_pre.bias", relation: .same, hf: "vision_model.pre_layrnorm.bias"),
        Row(openai: "visual.ln_post.weight", relation: .same, hf: "vision_model.post_layernorm.weight"),
        Row(openai: "visual.ln_post.bias", relation: .same, hf: "vision_model.post_layernorm.bias"),
        Row(openai: "visual.proj", relation: .transposed, hf: "visual_projection.weight"),
        Row(openai: "token_embedding.weight", relation: .same, hf: "text_model.embeddings.token_embedding.weight"),
        Row(openai: "positional_embedding", relation: .same, hf: "text_model.embeddings.position_embedding.weight"),
        Row(openai: "ln_final.weight", relation: .same, hf: "text_model.final_layer_norm.weight"),
        Row(openai: "ln_final.bias", relation: .same, hf: "text_model.final_layer_norm.bias"),
        Row(openai: "text_projection", relation: .transposed, hf: "text_projection.weight"),
        Row(openai: "logit_scale", relation: .same, hf: "logit_scale"),
    ]

    /// Per-block tensors, after the block prefixes (`towers`). `qkv` rows name the q one; k and v follow.
    static let block: [Row] = [
        Row(openai: "attn.in_proj_weight", relation: .qkv, hf: "self_attn.q_proj.weight"),
        Row(openai: "attn.in_proj_bias", relation: .qkv, hf: "self_attn.q_proj.bias"),
        Row(openai: "attn.out_proj.weight", relation: .same, hf: "self_attn.out_proj.weight"),
        Row(openai: "attn.out_proj.bias", relation: .same, hf: "self_attn.out_proj.bias"),
        Row(openai: "ln_1.weight", relation: .same, hf: "layer_norm1.weight"),
        Row(openai: "ln_1.bias", relation: .same, hf: "layer_norm1.bias"),
        Row(openai: "ln_2.weight", relation: .same, hf: "layer_norm2.weight"),
        Row(openai: "ln_2.bias", relation: .same, hf: "layer_norm2.bias"),
        Row(openai: "mlp.c_fc.weight", relation: .same, hf: "mlp.fc1.weight"),
        Row(openai: "mlp.c_fc.bias", relation: .same, hf: "mlp.fc1.bias"),
        Row(openai: "mlp.c_proj.weight", relation: .same, hf: "mlp.fc2.weight"),
        Row(openai: "mlp.c_proj.bias", relation: .same, hf: "mlp.fc2.bias"),
    ]

    /// (OpenAI block prefix, HF block prefix).
    static let towers = [("visual.transformer.resblocks.", "vision_model.encoder.layers."),
                         ("transformer.resblocks.", "text_model.encoder.layers.")]

    public static func naming(of keys: some Collection<String>) -> KeyNaming {
        keys.contains { $0.hasPrefix("vision_model.") || $0.hasPrefix("text_model.") || $0.hasPrefix("visual_projection") }
            ? .huggingface : .openai
    }

    /// The source of `openaiKey` in a file named with `naming`.
    public static func source(of openaiKey: String, naming: KeyNaming) -> TensorSource {
        guard naming == .huggingface else { return .direct(openaiKey) }
        if let row = topLevel.first(where: { $0.openai == openaiKey }) { return tensorSource(row, hf: row.hf) }
        for (oa, hf) in towers where openaiKey.hasPrefix(oa) {
            let rest = openaiKey.dropFirst(oa.count)
            guard let dot = rest.firstIndex(of: ".") else { break }
            let suffix = rest[rest.index(after: dot)...]
            if let row = block.first(where: { $0.openai == suffix }) {
                return tensorSource(row, hf: "\(hf)\(rest[..<dot]).\(row.hf)")
            }
        }
        return .direct(openaiKey)
    }

    private static func tensorSource(_ row: Row, hf: String) -> TensorSource {
        switch row.relation {
        case .same: .direct(hf)
        case .transposed: .transposed(hf)
        case .qkv: .concatenated(["q", "k", "v"].map { hf.replacingOccurrences(of: "self_attn.q_proj", with: "self_attn.\($0)_proj") })
        }
    }

    /// Every stored tensor's shape under its OpenAI name (for spec inference). HF q/k/v become one in_proj of
    /// three times the rows; projections are transposed; keys no table names keep their own name.
    public static func openaiShapes(from source: [String: [Int]], naming: KeyNaming) -> [String: [Int]] {
        guard naming == .huggingface else { return source }
        var out: [String: [Int]] = [:]
        for (key, shape) in source {
            guard let (name, relation) = openaiName(ofHF: key) else {
                if !key.contains("self_attn.k_proj.") && !key.contains("self_attn.v_proj.") { out[key] = shape }
                continue
            }
            switch relation {
            case .same: out[name] = shape
            case .transposed: out[name] = shape.count == 2 ? [shape[1], shape[0]] : shape
            case .qkv: out[name] = shape.isEmpty ? shape : [CheckedSize.product(3, shape[0]) ?? Int.max] + shape.dropFirst()
            }
        }
        return out
    }

    static func openaiName(ofHF key: String) -> (String, Row.Relation)? {
        if let row = topLevel.first(where: { $0.hf == key }) { return (row.openai, row.relation) }
        for (oa, hf) in towers where key.hasPrefix(hf) {
            let rest = key.dropFirst(hf.count)
            guard let dot = rest.firstIndex(of: ".") else { return nil }
            let suffix = rest[rest.index(after: dot)...]
            if let row = block.first(where: { $0.hf == suffix }) { return ("\(oa)\(rest[..<dot]).\(row.openai)", row.relation) }
        }
        return nil
    }
}
