// The architecture registry: one entry per image-tower family. An entry says which tensors its models have
// (names and shapes, from a spec), how to tell its state dicts apart and how to infer its spec from shapes
// plus a source's hints. The loader (`WeightLoader`) and the writer know nothing else about architectures;
// ClipModel's `TowerRegistry` holds the matching tower builders. A new family is one file and one entry here.
import ClipCore

public struct CLIPArchitecture: Sendable {
    /// The registry key, recorded in the spec (`ModelSpec.family`).
    public let family: String
    /// For messages: "a CLIP ViT".
    public let description: String
    /// True when these OpenAI-named shapes are this family's (a tensor only it has).
    public let matches: @Sendable ([String: [Int]]) -> Bool
    /// The spec from OpenAI-named shapes (stored with `naming`, for messages) and hints, bounded by `capacityBytes` of tensor data and checked
    /// against the layers actually stored (so no list is ever sized by an unchecked number).
    public let inferSpec: @Sendable (_ shapes: [String: [Int]], _ naming: KeyNaming, _ hints: SpecHints, _ capacityBytes: Int, _ file: String) throws -> ModelSpec
    /// Every tensor of a model with this spec, OpenAI names, in a stable order.
    public let expected: @Sendable (ModelSpec) -> [(name: String, shape: [Int])]
}

public enum ArchitectureRegistry {
    public static let families: [CLIPArchitecture] = [ViTArchitecture.entry, ResNetArchitecture.entry]

    public static func family(named name: String) -> CLIPArchitecture? {
        families.first { $0.family == name }
    }

    /// The family whose tensors these are. When none matches, the first family (ViT) is returned: its
    /// inference then names the first tensor the file lacks.
    public static func family(for shapes: [String: [Int]]) -> CLIPArchitecture {
        families.first { $0.matches(shapes) } ?? families[0]
    }

    /// Tensors a TorchScript, Hugging Face or open_clip export carries that no model uses.
    public static let ignorable: Set<String> = [
        "input_resolution", "context_length", "vocab_size",
        "text_model.embeddings.position_ids", "vision_model.embeddings.position_ids",
    ]

    /// `ignorable`, plus BatchNorm's step counter (`….num_batches_tracked`, an integer buffer no forward reads).
    public static func isIgnorable(_ key: String) -> Bool {
        ignorable.contains(key) || key.hasSuffix(".num_batches_tracked")
    }
}

/// Helpers every family shares: shape look-ups with messages, layer counts, size bounds.
enum Shapes {
    static func get(_ shapes: [String: [Int]], _ k: String, rank: Int, file: String, needs: String) throws -> [Int] {
        guard let s = shapes[k] else {
            throw WeightsError("weights.missing-tensor", "'\(file)' has no tensor '\(k)', which \(needs) needs (the configuration is inferred from it)")
        }
        guard s.count == rank else {
            throw WeightsError("weights.shape", "tensor '\(k)' in '\(file)' has shape \(s), expected a \(rank)-D shape")
        }
        return s
    }

    /// build_model counts the `*.attn.in_proj_weight` keys: a count of tensors present, never an index read
    /// from a key (`resblocks.9223372036854775807` is one layer, and `checkLayers` then finds the gap).
    static func layerCount(_ shapes: [String: [Int]], prefix: String) -> Int {
        shapes.keys.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".attn.in_proj_weight") }.count
    }

    /// Each layer 0..<count must have its attention weight stored. The loop stops at the first missing one,
    /// so a configuration claiming 10⁹ layers costs as many steps as there are stored layers.
    static func checkLayers(_ shapes: [String: [Int]], prefix: String, count: Int, argument: String, naming: KeyNaming, file: String) throws {
        for k in 0..<count where shapes["\(prefix).\(k).attn.in_proj_weight"] == nil {
            let name = "\(prefix).\(k).attn.in_proj_weight"
            let stored = KeyMapping.source(of: name, naming: naming).sourceKeys[0]
            let alias = stored == name ? "" : " (OpenAI name '\(name)')"
            throw WeightsError("weights.missing-tensor", "'\(file)' has no tensor '\(stored)'\(alias), but its configuration says \(argument) \(count), so layers 0..<\(count) must all be stored; fix \(argument) or the file")
        }
    }

    /// Every predicted tensor, at 2 bytes per value (the smallest dtype), must fit in `capacityBytes`;
    /// computed with checked arithmetic, so a width of 2^62 is an error, not a trap.
    static func checkSizes(_ predicted: [(name: String, dims: [Int?], why: String)], capacityBytes: Int, file: String) throws {
        for t in predicted {
            let dims = t.dims.compactMap { $0 }
            let bytes = dims.count == t.dims.count ? CheckedSize.bytes(dims, elementSize: 2) : nil
            if let bytes, bytes <= capacityBytes { continue }
            let size = bytes.map { "\($0) bytes" } ?? "more bytes than a 64-bit size can count"
            throw WeightsError("config.size", "the configuration of '\(file)' (\(t.why)) predicts tensor '\(t.name)' of \(size) even at 2 bytes per value, but the file holds \(capacityBytes) bytes of tensor data; fix the /config attributes or the source's config")
        }
    }

    static func inconsistent(_ file: String, _ what: String) -> WeightsError {
        WeightsError("config.inconsistent", "inconsistent config in '\(file)': \(what)")
    }
}
