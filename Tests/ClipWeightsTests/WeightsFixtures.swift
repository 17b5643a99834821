// Builds small clip-hdf5 files in OpenAI, nested and Hugging Face layouts for the loader tests.
import ClipCore
import ClipWeights
import Foundation
import Testing

enum Fixture {
    static let config = ModelSpec.openai(embedDim: 16, imageResolution: 64, visionLayers: 2, visionWidth: 64, visionPatchSize: 32,
                                   contextLength: 8, vocabSize: 50, transformerWidth: 64, transformerHeads: 1, transformerLayers: 1)

    static func tempDir() -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-weights-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Seeded values that are not representable in float16, so rounding is visible.
    static func tensors(seed: UInt64 = 1) -> [String: (shape: [Int], values: [Float])] {
        var rng = SplitMix(seed)
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (name, shape) in config.expectedTensors {
            out[name] = (shape, (0..<shape.reduce(1, *)).map { _ in Float(rng.nextDouble() * 2 - 1) * 0.37 })
        }
        return out
    }

    enum Layout { case flat, nested, huggingface }

    @discardableResult
    static func writeHDF5(_ path: String, layout: Layout = .flat, tensors t: [String: (shape: [Int], values: [Float])] = tensors(),
                          skip: Set<String> = [], reshape: [String: [Int]] = [:], configOverrides: [String: Int] = [:],
                          extra: (HDF5File) throws -> Void = { _ in }) throws -> String {
        let f = try HDF5File.create(path: path)
        try f.writeAttribute("format", "clip-hdf5")
        try f.writeAttribute("format_version", 1)
        try f.writeAttribute("source", "test fixture")
        for (name, a) in t where !skip.contains(name) {
            let shape = reshape[name] ?? a.shape
            switch layout {
            case .flat: try f.writeFloats("/state_dict/\(name)", shape: shape, a.values)
            case .nested: try f.writeFloats("/state_dict/" + name.replacingOccurrences(of: ".", with: "/"), shape: shape, a.values)
            case .huggingface:
                switch huggingFaceSource(name) {
                case .direct(let k): try f.writeFloats("/state_dict/\(k)", shape: shape, a.values)
                case .transposed(let k):
                    let (r, c) = (shape[0], shape[1])
                    var tr = [Float](repeating: 0, count: r * c)
                    for i in 0..<r { for j in 0..<c { tr[j * r + i] = a.values[i * c + j] } }
                    try f.writeFloats("/state_dict/\(k)", shape: [c, r], tr)
                case .concatenated(let ks):
                    let part = a.values.count / ks.count
                    var s = shape
                    s[0] /= ks.count
                    for (i, k) in ks.enumerated() { try f.writeFloats("/state_dict/\(k)", shape: s, Array(a.values[(i * part)..<((i + 1) * part)])) }
                }
            }
        }
        for (k, v) in configOverrides { try f.writeAttribute(k, v, on: "/config") }
        try extra(f)
        return path
    }

    /// transformers' modeling_clip.py names, written out here independently of ClipWeights.KeyMapping (which
    /// the loader under test uses), so a wrong row in that table cannot hide behind the same row here.
    static func huggingFaceSource(_ name: String) -> TensorSource {
        let top: [String: TensorSource] = [
            "visual.class_embedding": .direct("vision_model.embeddings.class_embedding"),
            "visual.positional_embedding": .direct("vision_model.embeddings.position_embedding.weight"),
            "visual.conv1.weight": .direct("vision_model.embeddings.patch_embedding.weight"),
            "visual.ln_pre.weight": .direct("vision_model.pre_layrnorm.weight"), "visual.ln_pre.bias": .direct("vision_model.pre_layrnorm.bias"),
            "visual.ln_post.weight": .direct("vision_model.post_layernorm.weight"), "visual.ln_post.bias": .direct("vision_model.post_layernorm.bias"),
            "visual.proj": .transposed("visual_projection.weight"),
            "token_embedding.weight": .direct("text_model.embeddings.token_embedding.weight"),
            "positional_embedding": .direct("text_model.embeddings.position_embedding.weight"),
            "ln_final.weight": .direct("text_model.final_layer_norm.weight"), "ln_final.bias": .direct("text_model.final_layer_norm.bias"),
            "text_projection": .transposed("text_projection.weight"), "logit_scale": .direct("logit_scale"),
        ]
        if let t = top[name] { return t }
        let parts = name.split(separator: ".").map(String.init)
        let (tower, i, rest) = parts[0] == "visual"
            ? ("vision_model.encoder.layers", parts[3], parts[4...].joined(separator: "."))
            : ("text_model.encoder.layers", parts[2], parts[3...].joined(separator: "."))
        let p = "\(tower).\(i)."
        let block: [String: TensorSource] = [
            "attn.in_proj_weight": .concatenated(["q", "k", "v"].map { "\(p)self_attn.\($0)_proj.weight" }),
            "attn.in_proj_bias": .concatenated(["q", "k", "v"].map { "\(p)self_attn.\($0)_proj.bias" }),
            "attn.out_proj.weight": .direct(p + "self_attn.out_proj.weight"), "attn.out_proj.bias": .direct(p + "self_attn.out_proj.bias"),
            "ln_1.weight": .direct(p + "layer_norm1.weight"), "ln_1.bias": .direct(p + "layer_norm1.bias"),
            "ln_2.weight": .direct(p + "layer_norm2.weight"), "ln_2.bias": .direct(p + "layer_norm2.bias"),
            "mlp.c_fc.weight": .direct(p + "mlp.fc1.weight"), "mlp.c_fc.bias": .direct(p + "mlp.fc1.bias"),
            "mlp.c_proj.weight": .direct(p + "mlp.fc2.weight"), "mlp.c_proj.bias": .direct(p + "mlp.fc2.bias"),
        ]
        return block[rest]!
    }

    /// The HDF5 fixture converted to clipwb's float16 safetensors file, `dir/m.safetensors`.
    static func writeSafetensors(_ dir: String) throws -> String {
        let w = try CLIPWeights.load(path: try writeHDF5(dir + "/m.h5"))
        try SafetensorsWriter.write(w, dtype: .f16, to: dir + "/m.safetensors")
        return dir + "/m.safetensors"
    }

    /// Rewrites the JSON header (a new length, same data), to forge bad entries.
    static func forgeHeader(_ p: String, _ edit: (String) -> String) throws {
        let d = try Data(contentsOf: URL(fileURLWithPath: p))
        let n = Int(d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let forged = Data(edit(String(decoding: d[8..<(8 + n)], as: UTF8.self)).utf8)
        var out = withUnsafeBytes(of: UInt64(forged.count).littleEndian) { Data($0) }
        out += forged
        out += d[(8 + n)...]
        try out.write(to: URL(fileURLWithPath: p))
    }

    /// The header with the clipwb metadata object removed (so the configuration is inferred from shapes).
    static func droppingMetadata(_ h: String) -> String {
        let chars = Array(h)
        let start = chars.firstIndex(of: "{")! + 1  // the top object's first member is __metadata__
        var i = start, depth = 0, inString = false
        while i < chars.count {
            let c = chars[i]
            if inString {
                if c == "\\" { i += 1 } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "{" {
                depth += 1
            } else if c == "}" {
                depth -= 1
                if depth == 0 { break }
            }
            i += 1
        }
        // chars[start..<i+1] is `"__metadata__":{…}`; drop it and the comma after it.
        return String(chars[..<start]) + String(chars[(i + 2)...])
    }

    /// The fixture as a clipwb format version 1 file (`clip_config`: build_model's ten integers), as clipwb
    /// wrote before model specs: version 1 files must keep loading.
    static func writeSafetensorsV1(_ dir: String) throws -> String {
        let p = try writeSafetensors(dir)
        let c = config
        let v1 = "{\\\"embed_dim\\\":\(c.embedDim),\\\"image_resolution\\\":\(c.vision.imageSize),\\\"vision_layers\\\":\(c.vision.transformer.layers),"
            + "\\\"vision_width\\\":\(c.vision.transformer.width),\\\"vision_patch_size\\\":\(c.vision.patchSize),\\\"context_length\\\":\(c.text.contextLength),"
            + "\\\"vocab_size\\\":\(c.text.vocabSize),\\\"transformer_width\\\":\(c.text.transformer.width),"
            + "\\\"transformer_heads\\\":\(c.text.transformer.heads),\\\"transformer_layers\\\":\(c.text.transformer.layers)}"
        try forgeHeader(p) { h in
            let meta = "{\"__metadata__\":{\"clip_config\":\"\(v1)\",\"format\":\"clipwb-weights\",\"format_version\":\"1\",\"source\":\"test fixture\"},"
            return meta + String(droppingMetadata(h).dropFirst())
        }
        return p
    }

    /// A safetensors file made of `header` (JSON text) and `dataBytes` zero bytes.
    static func rawSafetensors(_ path: String, header: String, dataBytes: Int) throws -> String {
        var out = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        out += Data(header.utf8)
        out += Data(count: dataBytes)
        try out.write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Runs `body` and expects a ClipwbError with `code` whose message contains every one of `parts`.
func expectError(_ code: String, containing parts: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected error \(code), got success", sourceLocation: sourceLocation)
    } catch let e as ClipwbError {
        #expect(e.code == code, "got \(e.code): \(e.message)", sourceLocation: sourceLocation)
        for p in parts { #expect(e.message.contains(p), "message '\(e.message)' lacks '\(p)'", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
    }
}

/// SplitMix64: a tiny seeded generator for test data.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
