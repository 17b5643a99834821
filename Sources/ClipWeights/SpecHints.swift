// What a source says about its model besides its tensor shapes, in one vocabulary: clip-hdf5's `/config`
// attribute names (docs/formats.md). HDF5 `/config`, version-1 `clip_config` metadata, Hugging Face
// `config.json` + `preprocessor_config.json` and open_clip's `open_clip_config.json` are all translated into
// it, so spec inference is written once. A name or a value this clipwb does not know is an error naming it.

import ClipCore

public enum HintValue: Equatable, Sendable {
    case int(Int)
    case number(Double)
    case numbers([Double])
    case string(String)

    var text: String {
        switch self {
        case .int(let n): "\(n)"
        case .number(let d): "\(d)"
        case .numbers(let ds): "\(ds)"
        case .string(let s): "'\(s)'"
        }
    }
}

public struct SpecHints: Sendable {
    public enum Kind: Sendable { case int, number, numbers, string([String]) }

    /// Every name a source may give, with its type (and for strings, the values allowed).
    public static let known: [String: Kind] = {
        var k: [String: Kind] = [:]
        for n in ["embed_dim", "image_resolution", "vision_layers", "vision_width", "vision_patch_size", "context_length",
                  "vocab_size", "transformer_width", "transformer_heads", "transformer_layers", "vision_heads",
                  "vision_mlp_width", "transformer_mlp_width", "fill_color", "resize_size"] { k[n] = .int }
        for n in ["layer_norm_eps", "vision_layer_norm_eps", "text_layer_norm_eps"] { k[n] = .number }
        for n in ["image_mean", "image_std", "resnet_layers"] { k[n] = .numbers }
        let acts = Activation.allCases.map(\.rawValue)
        for n in ["activation", "vision_activation", "text_activation"] { k[n] = .string(acts) }
        k["interpolation"] = .string(PreprocessSpec.Interpolation.allCases.map(\.rawValue))
        k["resize_mode"] = .string(PreprocessSpec.ResizeMode.allCases.map(\.rawValue))
        k["preprocess"] = .string(PreprocessSpec.Pipeline.allCases.map(\.rawValue))
        k["tokenizer"] = .string(TokenizerKind.allCases.map(\.rawValue))
        return k
    }()

    public private(set) var values: [String: HintValue] = [:]
    /// Where the hints come from, for messages: "/config of 'm.h5'", "'folder/config.json'".
    public let origin: String

    public init(origin: String) { self.origin = origin }

    public var isEmpty: Bool { values.isEmpty }

    /// Adds one hint, checking its name, type and value; an int is accepted where a number is expected.
    public mutating func set(_ name: String, _ value: HintValue) throws {
        guard let kind = Self.known[name] else {
            throw WeightsError("config.unknown", "\(origin) has attribute '\(name)', which clipwb does not know (known: \(Self.known.keys.sorted().joined(separator: ", "))); remove it or update clipwb")
        }
        func bad(_ expected: String) -> WeightsError {
            WeightsError("config.type", "\(origin) has \(name) \(value.text): it must be \(expected)")
        }
        switch (kind, value) {
        case (.int, .int), (.number, .number), (.numbers, .numbers):
            values[name] = value
        case (.number, .int(let n)):
            values[name] = .number(Double(n))
        case (.string(let allowed), .string(let s)):
            guard allowed.contains(s) else { throw bad("one of \(allowed.map { "'\($0)'" }.joined(separator: ", "))") }
            values[name] = value
        case (.int, _): throw bad("an integer")
        case (.number, _): throw bad("a number")
        case (.numbers, _): throw bad("a list of numbers")
        case (.string(let allowed), _): throw bad("a string, one of \(allowed.joined(separator: ", "))")
        }
    }

    public func int(_ name: String) -> Int? {
        if case .int(let n)? = values[name] { n } else { nil }
    }

    public func number(_ name: String) -> Double? {
        if case .number(let d)? = values[name] { d } else { nil }
    }

    public func numbers(_ name: String) -> [Double]? {
        if case .numbers(let d)? = values[name] { d } else { nil }
    }

    public func string(_ name: String) -> String? {
        if case .string(let s)? = values[name] { s } else { nil }
    }
}
