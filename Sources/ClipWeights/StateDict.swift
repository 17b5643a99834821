// The tensors of OpenAI CLIP's ViT model (openai/CLIP clip/model.py `CLIP.state_dict()`), by name and shape,
// as the config predicts them. Every loader checks its source against this list.

public enum StateDict {
    /// Expected (name, shape) pairs in a stable order: embeddings, vision tower, text tower, projections.
    public static func expected(_ c: CLIPConfig) -> [(name: String, shape: [Int])] {
        let vw = c.visionWidth, tw = c.transformerWidth
        var out: [(String, [Int])] = [
            ("visual.class_embedding", [vw]),
            ("visual.positional_embedding", [c.visionTokens, vw]),
            ("visual.conv1.weight", [vw, 3, c.visionPatchSize, c.visionPatchSize]),
            ("visual.ln_pre.weight", [vw]), ("visual.ln_pre.bias", [vw]),
        ]
        out += blocks(prefix: "visual.transformer.resblocks", layers: c.visionLayers, width: vw)
        out += [
            ("visual.ln_post.weight", [vw]), ("visual.ln_post.bias", [vw]),
            ("visual.proj", [vw, c.embedDim]),
            ("token_embedding.weight", [c.vocabSize, tw]),
            ("positional_embedding", [c.contextLength, tw]),
        ]
        out += blocks(prefix: "transformer.resblocks", layers: c.transformerLayers, width: tw)
        out += [
            ("ln_final.weight", [tw]), ("ln_final.bias", [tw]),
            ("text_projection", [tw, c.embedDim]),
            ("logit_scale", []),
        ]
        return out.map { (name: $0.0, shape: $0.1) }
    }

    /// One ResidualAttentionBlock per layer: attn (packed q/k/v), ln_1, mlp (c_fc 4×, c_proj), ln_2.
    static func blocks(prefix: String, layers: Int, width w: Int) -> [(String, [Int])] {
        (0..<layers).flatMap { i -> [(String, [Int])] in
            let p = "\(prefix).\(i)"
            return [
                ("\(p).attn.in_proj_weight", [3 * w, w]), ("\(p).attn.in_proj_bias", [3 * w]),
                ("\(p).attn.out_proj.weight", [w, w]), ("\(p).attn.out_proj.bias", [w]),
                ("\(p).ln_1.weight", [w]), ("\(p).ln_1.bias", [w]),
                ("\(p).mlp.c_fc.weight", [4 * w, w]), ("\(p).mlp.c_fc.bias", [4 * w]),
                ("\(p).mlp.c_proj.weight", [w, 4 * w]), ("\(p).mlp.c_proj.bias", [w]),
                ("\(p).ln_2.weight", [w]), ("\(p).ln_2.bias", [w]),
            ]
        }
    }

    /// Keys a TorchScript or Hugging Face export carries that the model does not use.
    public static let ignorable: Set<String> = [
        "input_resolution", "context_length", "vocab_size",
        "text_model.embeddings.position_ids", "vision_model.embeddings.position_ids",
    ]
}
