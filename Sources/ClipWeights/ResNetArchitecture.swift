// The ModifiedResNet family: openai/CLIP's ModifiedResNet image tower (RN50, RN101, RN50x4, RN50x16, RN50x64),
// which open_clip's `modified_resnet.py` shares key for key. Spec inference follows build_model's ResNet branch:
// blocks per stage counted from `visual.layer{1..4}.*`, width from `visual.layer1.0.conv1.weight`, the attention
// pool's grid from `visual.attnpool.positional_embedding` (resolution = grid·32), heads width·32/64.
import ClipCore

public enum ResNetArchitecture {
    public static let family = "modified_resnet"
    public static let entry = CLIPArchitecture(family: family, description: "a CLIP ModifiedResNet", matches: matches,
                                               inferSpec: { try inferSpec($0, naming: $1, hints: $2, capacityBytes: $3, file: $4) }, expected: expected)
    static let marker = "visual.layer1.0.conv1.weight"
    static let needs = "a CLIP ModifiedResNet model"
    /// Stages of a ModifiedResNet (`layer1` … `layer4`) and the stride of the whole tower.
    public static let stages = 4
    public static let stride = 32

    /// Hints that only a ViT tower has: given for a ResNet they are refused, never ignored.
    static let vitOnly = ["vision_layers", "vision_patch_size", "vision_mlp_width", "vision_activation", "vision_layer_norm_eps"]

    public static func matches(_ shapes: [String: [Int]]) -> Bool { shapes[marker] != nil }

    /// A BatchNorm2d's four tensors (`num_batches_tracked` is ignorable, see ArchitectureRegistry).
    static func batchNorm(_ p: String, _ c: Int) -> [(name: String, shape: [Int])] {
        ["weight", "bias", "running_mean", "running_var"].map { ("\(p).\($0)", [c]) }
    }

    /// One Bottleneck(inplanes, planes, stride) of `layer{stage}`, block `i`: 1×1, 3×3, 1×1 (×4) convs with their
    /// BatchNorms, and the downsample branch (avgpool, 1×1 conv, BatchNorm) when stride > 1 or inplanes ≠ 4·planes,
    /// which in CLIP's ModifiedResNet is exactly block 0 of every stage.
    static func bottleneck(stage: Int, block i: Int, inplanes: Int, planes: Int) -> [(name: String, shape: [Int])] {
        let p = "visual.layer\(stage).\(i)"
        var out: [(name: String, shape: [Int])] = [("\(p).conv1.weight", [planes, inplanes, 1, 1])]
        out += batchNorm("\(p).bn1", planes)
        out += [("\(p).conv2.weight", [planes, planes, 3, 3])] + batchNorm("\(p).bn2", planes)
        out += [("\(p).conv3.weight", [4 * planes, planes, 1, 1])] + batchNorm("\(p).bn3", 4 * planes)
        if i == 0 {
            out += [("\(p).downsample.0.weight", [4 * planes, inplanes, 1, 1])] + batchNorm("\(p).downsample.1", 4 * planes)
        }
        return out
    }

    public static func expected(_ spec: ModelSpec) -> [(name: String, shape: [Int])] {
        guard let r = spec.vision.resnet else { return [] }
        let (w, half, pw) = (r.width, r.width / 2, r.poolWidth)
        var out: [(name: String, shape: [Int])] = []
        // The stem: conv1 3→w/2 (stride 2), conv2 w/2→w/2, conv3 w/2→w, each 3×3 with a BatchNorm.
        for (i, (o, c)) in [(half, 3), (half, half), (w, half)].enumerated() {
            out += [("visual.conv\(i + 1).weight", [o, c, 3, 3])] + batchNorm("visual.bn\(i + 1)", o)
        }
        var inplanes = w
        for (s, blocks) in r.layers.enumerated() {
            let planes = w << s
            for i in 0..<blocks {
                out += bottleneck(stage: s + 1, block: i, inplanes: inplanes, planes: planes)
                inplanes = 4 * planes
            }
        }
        let a = "visual.attnpool"
        out += [("\(a).positional_embedding", [spec.visionTokens, pw])]
        for n in ["k_proj", "q_proj", "v_proj"] { out += [("\(a).\(n).weight", [pw, pw]), ("\(a).\(n).bias", [pw])] }
        out += [("\(a).c_proj.weight", [spec.embedDim, pw]), ("\(a).c_proj.bias", [spec.embedDim])]
        return out + TextTower.expected(spec)
    }

    public static func inferSpec(_ shapes: [String: [Int]], naming: KeyNaming = .openai, hints h: SpecHints, capacityBytes: Int, file: String) throws -> ModelSpec {
        let conv = try Shapes.get(shapes, marker, rank: 4, file: file, needs: needs)
        let pos = try Shapes.get(shapes, "visual.attnpool.positional_embedding", rank: 2, file: file, needs: needs)
        let tproj = try Shapes.get(shapes, "text_projection", rank: 2, file: file, needs: needs)
        // build_model: output_width = round((rows - 1) ** 0.5), asserting output_width² + 1 == rows.
        let grid = Int((Double(max(pos[0] - 1, 0))).squareRoot().rounded())
        guard grid >= 1, grid * grid + 1 == pos[0] else {
            throw WeightsError("weights.shape", "tensor 'visual.attnpool.positional_embedding' in '\(file)' has shape \(pos): its rows must be a mean token plus a square grid (g² + 1)")
        }
        if let k = vitOnly.first(where: { h.values[$0] != nil }) {
            throw Shapes.inconsistent(file, "\(h.origin) gives \(k), which describes a ViT image tower, but the tensors are a ModifiedResNet's (visual.layer1…4)")
        }
        let layers: [Int]
        if let given = h.numbers("resnet_layers") {
            guard given.count == stages, given.allSatisfy({ $0 == $0.rounded() && $0 >= 1 && $0 < 1e6 }) else {
                throw Shapes.inconsistent(file, "resnet_layers \(given) must be \(stages) positive integers, the Bottleneck blocks of layer1…layer4")
            }
            layers = given.map { Int($0) }
        } else {
            // build_model counts the distinct block indices of each stage; counting conv1 tensors is the same for a
            // complete file, and a block without its conv1 is found missing below.
            layers = (1...stages).map { s in shapes.keys.filter { $0.hasPrefix("visual.layer\(s).") && $0.hasSuffix(".conv1.weight") }.count }
        }
        var assumed: [String] = []
        let width = h.int("vision_width") ?? conv[0]
        let heads: Int
        if let n = h.int("vision_heads") { heads = n } else { heads = width / 2  /* build_model: width·32 // 64 */; assumed.append("vision_heads") }
        let resolution = h.int("image_resolution") ?? CheckedSize.product(grid, stride) ?? Int.max
        let text = try TextTower.infer(shapes, hints: h, file: file, assumed: &assumed)
        if h.string("tokenizer") == nil { assumed.append("tokenizer") }
        let pool = TransformerSpec(layers: 0, width: CheckedSize.product(width, 32) ?? Int.max, heads: heads, mlpWidth: 0)
        let spec = ModelSpec(family: family, embedDim: h.int("embed_dim") ?? tproj[1],
                             vision: VisionSpec(transformer: pool, patchSize: stride, imageSize: resolution,
                                                resnet: ResNetSpec(layers: layers, width: width)),
                             text: text, preprocess: TextTower.preprocess(h, size: resolution),
                             tokenizer: h.string("tokenizer").flatMap(TokenizerKind.init(rawValue:)) ?? .openai,
                             assumed: assumed.sorted())
        try validate(spec, file: file)
        try checkSizes(spec, capacityBytes: capacityBytes, file: file)
        if let p = spec.preprocess.problems.first { throw Shapes.inconsistent(file, "preprocessing: \(p)") }
        try checkBlocks(shapes, layers, naming: naming, file: file)
        try Shapes.checkLayers(shapes, prefix: "transformer.resblocks", count: text.transformer.layers, argument: "transformer_layers", naming: naming, file: file)
        return spec
    }

    /// Every block 0..<n of every stage must be stored (the loop stops at the first gap, so a claimed 10⁹ costs
    /// as many steps as there are blocks); a stage with no block at all is a wrong stage count.
    static func checkBlocks(_ shapes: [String: [Int]], _ layers: [Int], naming: KeyNaming, file: String) throws {
        for (s, n) in layers.enumerated() {
            for i in 0..<max(n, 1) where shapes["visual.layer\(s + 1).\(i).conv1.weight"] == nil {
                let why = n == 0 ? "a ModifiedResNet has \(stages) stages (layer1…layer4) of at least one Bottleneck each"
                                 : "its configuration has \(n) Bottleneck blocks in layer\(s + 1), so blocks 0..<\(n) must all be stored; fix resnet_layers or the file"
                throw WeightsError("weights.missing-tensor", "'\(file)' has no tensor 'visual.layer\(s + 1).\(i).conv1.weight': \(why)")
            }
        }
    }

    static func validate(_ s: ModelSpec, file: String) throws {
        let r = s.vision.resnet!, pool = s.vision.transformer
        try TextTower.validate(s.text.transformer, prefix: "transformer", headsAssumed: s.assumed.contains("transformer_heads"), file: file)
        for (name, v) in [("embed_dim", s.embedDim), ("image_resolution", s.vision.imageSize), ("vision_width", r.width),
                          ("vision_heads", pool.heads), ("context_length", s.text.contextLength), ("vocab_size", s.text.vocabSize)] where v <= 0 {
            throw Shapes.inconsistent(file, "\(name) is \(v), it must be positive")
        }
        if r.width % 2 != 0 { throw Shapes.inconsistent(file, "vision_width \(r.width) is odd; the stem's first convolutions have width/2 channels") }
        if pool.width % pool.heads != 0 {
            throw Shapes.inconsistent(file, "the attention pool's width \(pool.width) (32 × vision_width) is not divisible by vision_heads \(pool.heads)")
        }
        if s.vision.imageSize % stride != 0 {
            throw Shapes.inconsistent(file, "image_resolution \(s.vision.imageSize) is not a multiple of \(stride), the ModifiedResNet's total stride")
        }
    }

    /// The largest tensor of each kind stands for the rest (layer4's 3×3 conv for every conv).
    static func checkSizes(_ s: ModelSpec, capacityBytes: Int, file: String) throws {
        let r = s.vision.resnet!, t = s.text.transformer, e = s.embedDim
        let p4 = CheckedSize.product(r.width, 8), pw = CheckedSize.product(r.width, 32)
        let grid = s.vision.imageSize / stride
        let rows = CheckedSize.product(grid, grid).flatMap { $0 < Int.max ? $0 + 1 : nil }
        let why = "vision_width \(r.width), resnet_layers \(r.layers), image_resolution \(s.vision.imageSize), transformer_width \(t.width), transformer_mlp_width \(t.mlpWidth), context_length \(s.text.contextLength), vocab_size \(s.text.vocabSize), embed_dim \(e)"
        try Shapes.checkSizes([
            ("visual.layer4.0.conv2.weight", [p4, p4, 3, 3], why),
            ("visual.attnpool.positional_embedding", [rows, pw], why),
            ("visual.attnpool.q_proj.weight", [pw, pw], why),
            ("visual.attnpool.c_proj.weight", [e, pw], why),
            ("token_embedding.weight", [s.text.vocabSize, t.width], why),
            ("positional_embedding", [s.text.contextLength, t.width], why),
            ("transformer.resblocks.0.mlp.c_fc.weight", [t.mlpWidth, t.width], why),
            ("text_projection", [t.width, e], why),
        ], capacityBytes: capacityBytes, file: file)
        let blocks = r.layers.reduce(0) { CheckedSize.sum([$0, $1]) ?? Int.max }
        // Every block has at least 4 tensors of ≥ 1 value each (2 bytes): a count larger than the file can hold is an error.
        guard blocks <= capacityBytes / 8, CheckedSize.product(s.vision.imageSize, s.vision.imageSize).flatMap({ CheckedSize.product(3, $0) }) != nil else {
            throw WeightsError("config.size", "the configuration of '\(file)' (\(why)) predicts more blocks or pixels than the file's \(capacityBytes) bytes of tensor data can hold; fix the /config attributes")
        }
    }
}
