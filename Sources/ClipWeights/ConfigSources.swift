// Each source's own configuration, translated into hints (SpecHints): a clip-hdf5 `/config` group, a
// version-1 clipwb `clip_config`, a stored spec, Hugging Face's `config.json` + `preprocessor_config.json`
// and open_clip's `open_clip_config.json`. Fields that change the architecture in ways clipwb does not run
// are refused by name, never ignored.
import ClipCore
import Foundation

extension SpecHints {
    /// clip-hdf5 `/config` attributes.
    static func from(hdf5 file: HDF5File, path: String) throws -> SpecHints {
        var h = SpecHints(origin: "/config of '\(path)'")
        guard file.exists("/config") else { return h }
        for (k, v) in try file.attributes(of: "/config").sorted(by: { $0.key < $1.key }) {
            switch v {
            case .int(let n): try h.set(k, .int(n))
            case .double(let d): try h.set(k, .number(d))
            case .doubles(let ds): try h.set(k, .numbers(ds))
            case .string(let s): try h.set(k, .string(s))
            case .array(let shape):
                throw WeightsError("config.type", "/config attribute '\(k)' in '\(path)' is an array of shape \(shape), not one value (or a short list of numbers)")
            case .other:
                throw WeightsError("config.type", "/config attribute '\(k)' in '\(path)' is not an integer, a number or a string")
            }
        }
        return h
    }

    /// Every field of a stored spec, so inference reproduces it exactly (or finds the tensors disagree).
    static func from(_ s: ModelSpec, origin: String) throws -> SpecHints {
        var h = SpecHints(origin: origin)
        let (v, t) = (s.vision.transformer, s.text.transformer)
        var ints = [("embed_dim", s.embedDim), ("image_resolution", s.vision.imageSize), ("vision_heads", v.heads),
                    ("context_length", s.text.contextLength), ("vocab_size", s.text.vocabSize),
                    ("transformer_width", t.width), ("transformer_heads", t.heads), ("transformer_layers", t.layers),
                    ("transformer_mlp_width", t.mlpWidth)]
        if let r = s.vision.resnet {
            // A ModifiedResNet: its stages and stem width; the attention pool has no blocks, MLP or LayerNorm.
            ints.append(("vision_width", r.width))
            try h.set("resnet_layers", .numbers(r.layers.map(Double.init)))
        } else {
            ints += [("vision_layers", v.layers), ("vision_width", v.width), ("vision_patch_size", s.vision.patchSize),
                     ("vision_mlp_width", v.mlpWidth)]
            try h.set("vision_activation", .string(v.activation.rawValue))
            try h.set("vision_layer_norm_eps", .number(Double(v.layerNormEps)))
        }
        for (k, n) in ints { try h.set(k, .int(n)) }
        try h.set("text_activation", .string(t.activation.rawValue))
        try h.set("text_layer_norm_eps", .number(Double(t.layerNormEps)))
        try h.set("tokenizer", .string(s.tokenizer.rawValue))
        return h
    }

    /// A version-1 clipwb file's `clip_config`: build_model's ten integers.
    static func from(clipConfig members: [(key: String, value: HeaderJSON)], path: String) throws -> SpecHints {
        var h = SpecHints(origin: "the clip_config metadata of '\(path)'")
        for name in ["embed_dim", "image_resolution", "vision_layers", "vision_width", "vision_patch_size", "context_length",
                     "vocab_size", "transformer_width", "transformer_heads", "transformer_layers"] {
            guard let v = members.first(where: { $0.key == name })?.value else {
                throw WeightsError("config.inconsistent", "'\(path)' clip_config metadata lacks '\(name)'")
            }
            guard case .integer(let n) = v else {
                throw WeightsError("config.inconsistent", "'\(path)' clip_config metadata has \(name) \(v.text); it must be an integer")
            }
            try h.set(name, .int(n))
        }
        // Version 1 files were written for OpenAI's ViTs only: their heads are width/64, QuickGELU, OpenAI's transform.
        try h.set("vision_heads", .int((h.int("vision_width") ?? 0) / 64))
        try h.set("activation", .string(Activation.quickGELU.rawValue))
        try h.set("tokenizer", .string(TokenizerKind.openai.rawValue))
        return h
    }
}

/// A JSON file of a model folder, read with the strict reader (duplicate keys are errors).
struct JSONFile {
    let path: String
    let members: [(key: String, value: HeaderJSON)]

    init(path: String) throws {
        let f = try MappedFile(path: path, backing: .privateCopy)
        guard f.count <= 16 << 20 else {
            throw WeightsError("config.json", "'\(path)' is \(f.count) bytes; a model configuration is a few kilobytes")
        }
        do {
            guard case .object(let m) = try HeaderJSON.parse(f.withBytes { Array($0) }) else {
                throw WeightsError("config.json", "'\(path)' is not a JSON object")
            }
            members = m
        } catch let failure as HeaderJSON.Failure {
            throw SafetensorsFile.error(failure, path: path, within: "the file")
        }
        self.path = path
    }

    init(path: String, members: [(key: String, value: HeaderJSON)]) {
        self.path = path
        self.members = members
    }

    subscript(_ key: String) -> HeaderJSON? { members.first { $0.key == key }?.value }

    func object(_ key: String) -> JSONFile? {
        if case .object(let m)? = self[key] { JSONFile(path: "\(path) → \(key)", members: m) } else { nil }
    }

    func int(_ key: String) throws -> Int? {
        guard let v = self[key], !v.isNull else { return nil }
        guard case .integer(let n) = v else { throw type(key, v, "an integer") }
        return n
    }

    func number(_ key: String) throws -> Double? {
        guard let v = self[key], !v.isNull else { return nil }
        switch v {
        case .integer(let n): return Double(n)
        case .number(let t): if let d = Double(t) { return d }
        default: break
        }
        throw type(key, v, "a number")
    }

    func numbers(_ key: String) throws -> [Double]? {
        guard let v = self[key], !v.isNull else { return nil }
        guard case .array(let items) = v else { throw type(key, v, "a list of numbers") }
        return try items.map { item in
            switch item {
            case .integer(let n): return Double(n)
            case .number(let t): if let d = Double(t) { return d }
            default: break
            }
            throw type(key, v, "a list of numbers")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let v = self[key], !v.isNull else { return nil }
        guard case .string(let s) = v else { throw type(key, v, "a string") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = self[key], !v.isNull else { return nil }
        guard case .bool(let b) = v else { throw type(key, v, "true or false") }
        return b
    }

    func type(_ key: String, _ v: HeaderJSON, _ what: String) -> WeightsError {
        WeightsError("config.type", "'\(path)' has \(key) \(v.text); it must be \(what)")
    }
}

extension HeaderJSON {
    var isNull: Bool { if case .null = self { true } else { false } }
    /// The same JSON value (compared by its text form; key order counts).
    func same(_ other: HeaderJSON) -> Bool { text == other.text }
}
