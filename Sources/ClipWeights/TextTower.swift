// What every CLIP family shares: the text transformer (openai/CLIP's `encode_text` tensors), the residual
// block's tensors, and the parts of the spec that come from hints only (activation, ε, preprocessing,
// tokenizer). Families call these; none of them is specific to an image tower.
import ClipCore

enum TextTower {
    static let needs = "a CLIP text tower"

    /// token_embedding, positional_embedding, the blocks, ln_final, text_projection, logit_scale.
    static func expected(_ spec: ModelSpec) -> [(name: String, shape: [Int])] {
        let t = spec.text.transformer, w = t.width
        var out: [(name: String, shape: [Int])] = [
            ("token_embedding.weight", [spec.text.vocabSize, w]),
            ("positional_embedding", [spec.text.contextLength, w]),
        ]
        out += blocks(prefix: "transformer.resblocks", t)
        out += [("ln_final.weight", [w]), ("ln_final.bias", [w]), ("text_projection", [w, spec.embedDim]), ("logit_scale", [])]
        return out
    }

    /// One ResidualAttentionBlock per layer: attn (packed q/k/v), ln_1, mlp (c_fc, c_proj), ln_2, and
    /// open_clip's LayerScale gammas when the spec has them.
    static func blocks(prefix: String, _ t: TransformerSpec) -> [(name: String, shape: [Int])] {
        let (w, m) = (t.width, t.mlpWidth)
        return (0..<t.layers).flatMap { i -> [(name: String, shape: [Int])] in
            let p = "\(prefix).\(i)"
            var b: [(name: String, shape: [Int])] = [
                ("\(p).attn.in_proj_weight", [3 * w, w]), ("\(p).attn.in_proj_bias", [3 * w]),
                ("\(p).attn.out_proj.weight", [w, w]), ("\(p).attn.out_proj.bias", [w]),
                ("\(p).ln_1.weight", [w]), ("\(p).ln_1.bias", [w]),
                ("\(p).mlp.c_fc.weight", [m, w]), ("\(p).mlp.c_fc.bias", [m]),
                ("\(p).mlp.c_proj.weight", [w, m]), ("\(p).mlp.c_proj.bias", [w]),
                ("\(p).ln_2.weight", [w]), ("\(p).ln_2.bias", [w]),
            ]
            if t.layerScale { b += [("\(p).ls_1.gamma", [w]), ("\(p).ls_2.gamma", [w])] }
            return b
        }
    }

    /// The text tower's spec: widths and counts from shapes, heads/activation/ε from hints or OpenAI's
    /// defaults (recorded in `assumed`).
    static func infer(_ shapes: [String: [Int]], hints h: SpecHints, file: String, assumed: inout [String]) throws -> TextSpec {
        let pos = try Shapes.get(shapes, "positional_embedding", rank: 2, file: file, needs: needs)
        let tok = try Shapes.get(shapes, "token_embedding.weight", rank: 2, file: file, needs: needs)
        let lnf = try Shapes.get(shapes, "ln_final.weight", rank: 1, file: file, needs: needs)
        let t = transformer(shapes, blocks: "transformer.resblocks.", sizes: "transformer", tower: "text",
                            width: h.int("transformer_width") ?? lnf[0], hints: h, assumed: &assumed)
        return TextSpec(transformer: t, contextLength: h.int("context_length") ?? pos[0], vocabSize: h.int("vocab_size") ?? tok[0])
    }

    /// A tower's transformer: layers from the blocks present, MLP width from c_fc, LayerScale from ls_1; heads,
    /// activation and ε from the hints `<sizes>_heads`, `<tower>_activation`, … or OpenAI's defaults (in `assumed`).
    static func transformer(_ shapes: [String: [Int]], blocks: String, sizes: String, tower: String, width: Int,
                            hints h: SpecHints, assumed: inout [String]) -> TransformerSpec {
        let heads: Int
        if let n = h.int("\(sizes)_heads") { heads = n } else { heads = width / 64; assumed.append("\(sizes)_heads") }
        return TransformerSpec(
            layers: h.int("\(sizes)_layers") ?? Shapes.layerCount(shapes, prefix: blocks),
            width: width, heads: heads,
            mlpWidth: h.int("\(sizes)_mlp_width") ?? shapes["\(blocks)0.mlp.c_fc.weight"]?.first ?? 4 * width,
            activation: activation(h, "\(tower)_activation", assumed: &assumed),
            layerScale: shapes["\(blocks)0.ls_1.gamma"] != nil,
            layerNormEps: Float(h.number("\(tower)_layer_norm_eps") ?? h.number("layer_norm_eps") ?? 1e-5))
    }

    static func activation(_ h: SpecHints, _ tower: String, assumed: inout [String]) -> Activation {
        if let s = h.string(tower) ?? h.string("activation"), let a = Activation(rawValue: s) { return a }
        if !assumed.contains("activation") { assumed.append("activation") }
        return .quickGELU
    }

    /// Preprocessing from hints (OpenAI's transform by default) at the model's input size.
    static func preprocess(_ h: SpecHints, size: Int) -> PreprocessSpec {
        var p = PreprocessSpec.openai(size: size)
        if let s = h.string("preprocess"), let v = PreprocessSpec.Pipeline(rawValue: s) { p.pipeline = v }
        if let m = h.numbers("image_mean") { p.mean = m.map { Float($0) } }
        if let m = h.numbers("image_std") { p.std = m.map { Float($0) } }
        if let s = h.string("interpolation"), let v = PreprocessSpec.Interpolation(rawValue: s) { p.interpolation = v }
        if let s = h.string("resize_mode"), let v = PreprocessSpec.ResizeMode(rawValue: s) { p.resizeMode = v }
        if let n = h.int("fill_color") { p.fillColor = n }
        if let n = h.int("resize_size"), n != size { p.resizeSize = n }
        return p
    }

    /// Relations every tower must satisfy, each failure naming the values by their /config names
    /// (`prefix` "vision" or "transformer"). Heads nobody gave are OpenAI's width/64, which needs a multiple of 64.
    static func validate(_ t: TransformerSpec, prefix: String, headsAssumed: Bool, file: String) throws {
        for (name, v) in [("layers", t.layers), ("width", t.width), ("heads", t.heads), ("mlp_width", t.mlpWidth)] where v <= 0 {
            throw Shapes.inconsistent(file, "\(prefix)_\(name) is \(v), it must be positive")
        }
        if headsAssumed && t.width % 64 != 0 {
            throw Shapes.inconsistent(file, "\(prefix)_width \(t.width) is not divisible by 64 (OpenAI CLIP uses width/64 attention heads; give \(prefix)_heads in /config for other head widths)")
        }
        if t.width % t.heads != 0 {
            throw Shapes.inconsistent(file, "\(prefix)_width \(t.width) is not divisible by \(prefix)_heads \(t.heads)")
        }
        if !(t.layerNormEps > 0 && t.layerNormEps < 1) {
            throw Shapes.inconsistent(file, "\(prefix) LayerNorm epsilon \(t.layerNormEps) is outside (0, 1)")
        }
    }
}
