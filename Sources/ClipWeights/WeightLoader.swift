// The one loading path: a tensor store + what the source says about its model (hints, or a stored spec) →
// a spec from the architecture registry → every expected tensor present with the predicted shape, every
// stored tensor used or explicitly ignorable → CLIPWeights in OpenAI names. Loading is loud: anything that
// does not match a known architecture exactly is an error that names it.
import CKernels
import ClipCore

public enum WeightLoader {
    /// `stored`: a spec the file itself records (clipwb format version 2); it must agree with the tensors.
    public static func load(_ store: TensorStore, hints: SpecHints, stored: ModelSpec? = nil, source: String,
                            halves: HalfWeights = .standard) throws -> CLIPWeights {
        let spec = try self.spec(store, hints: hints, stored: stored)
        return try materialize(store, spec: spec, source: source, halves: halves)
    }

    /// The spec of the model in `store`, checked against its tensors (sizes bounded, layers present).
    public static func spec(_ store: TensorStore, hints: SpecHints, stored: ModelSpec? = nil) throws -> ModelSpec {
        let naming = KeyMapping.naming(of: store.shapes.keys)
        let shapes = KeyMapping.openaiShapes(from: store.shapes, naming: naming)
        guard let stored else {
            return try ArchitectureRegistry.family(for: shapes).inferSpec(shapes, naming, hints, store.capacityBytes, store.path)
        }
        guard let family = ArchitectureRegistry.family(named: stored.family) else {
            throw WeightsError("config.spec", "'\(store.path)' records architecture family '\(stored.family)', which this clipwb does not know (known: \(ArchitectureRegistry.families.map(\.family).joined(separator: ", ")))")
        }
        var inferred = try family.inferSpec(shapes, naming, SpecHints.from(stored, origin: "the clip_spec metadata of '\(store.path)'"),
                                            store.capacityBytes, store.path)
        inferred.assumed = stored.assumed
        inferred.preprocess = stored.preprocess
        guard inferred == stored else {
            throw WeightsError("config.spec", "'\(store.path)' records a model spec that its tensors contradict: the tensors give \(inferred.json()), the metadata says \(stored.json())")
        }
        return stored
    }

    /// Reads or lends every tensor `spec` expects. Float32 tensors of a mapping are used in place; halves of a
    /// mapping stay there until first use (`.direct`) or are widened now (`.widen`); everything else (HDF5,
    /// transposed or concatenated sources) is read into one float32 arena.
    static func materialize(_ store: TensorStore, spec: ModelSpec, source: String, halves: HalfWeights) throws -> CLIPWeights {
        let naming = KeyMapping.naming(of: store.shapes.keys)
        let family = ArchitectureRegistry.family(named: spec.family)!
        let expected = family.expected(spec)
        var used = Set<String>()
        var plan: [(name: String, shape: [Int], src: TensorSource)] = []
        for (name, shape) in expected {
            let src = KeyMapping.source(of: name, naming: naming)
            try check(store, src, shape: shape, openaiName: name)
            used.formUnion(src.sourceKeys)
            plan.append((name, shape, src))
        }
        let unused = Set(store.shapes.keys).subtracting(used).filter { !ArchitectureRegistry.isIgnorable($0) }
        if let extra = unused.sorted().first {
            throw WeightsError("weights.unexpected-tensor", "'\(store.path)' has tensor '\(extra)'\(unused.count > 1 ? " (and \(unused.count - 1) more)" : "") that \(family.description) model with this configuration does not use; is the configuration (layers, widths) right?")
        }
        // In place: float32 at a 4-byte aligned mapped address. Pending: mapped halves. The rest: the arena.
        func inPlace(_ t: (name: String, shape: [Int], src: TensorSource)) -> Bool {
            guard case .direct(let k) = t.src, store.dtype(k) == .f32, let p = store.mapped(k) else { return false }
            return Int(bitPattern: p) % 4 == 0
        }
        func halfMapped(_ t: (name: String, shape: [Int], src: TensorSource)) -> Bool {
            guard case .direct(let k) = t.src, let d = store.dtype(k), d != .f32 else { return false }
            return store.mapped(k) != nil
        }
        let arenaTensors = plan.filter { !inPlace($0) }
            .sorted { (CheckedSize.elements($0.shape) ?? 0, $0.name) < (CheckedSize.elements($1.shape) ?? 0, $1.name) }
        guard let total = CheckedSize.sum(arenaTensors.map { CheckedSize.elements($0.shape) ?? Int.max }) else {
            throw WeightsError("weights.size", "'\(store.path)' holds more values than a 64-bit count can address")
        }
        let arena = try FloatArena(count: total)
        var tensors: [String: Tensor] = [:]
        var pending: [String: CLIPWeights.Pending] = [:]
        var offset = 0
        for t in plan where inPlace(t) {
            let p = store.mapped(t.src.sourceKeys[0])!.assumingMemoryBound(to: Float.self)
            tensors[t.name] = Tensor(name: t.name, shape: t.shape, data: UnsafeBufferPointer(start: p, count: t.shape.reduce(1, *)))
        }
        // Smallest first, so the tensors `.direct` widens on use (norms, biases, embeddings) share a few pages at
        // the arena's start and the never-widened matrices' pages are never touched.
        for t in arenaTensors {
            let n = t.shape.reduce(1, *)
            let slot = arena.slice(offset, n)
            offset += n
            if halfMapped(t), case .direct(let k) = t.src {
                let dtype = store.dtype(k)!
                let widen: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void = dtype == .f16
                    ? { ck_f16_to_f32($0.assumingMemoryBound(to: UInt16.self), $1, $2) }
                    : { ck_bf16_to_f32($0.assumingMemoryBound(to: UInt16.self), $1, $2) }
                pending[t.name] = CLIPWeights.Pending(shape: t.shape, source: store.mapped(k)!, slot: slot, isFloat16: dtype == .f16, widen: widen)
            } else if n > 0 {
                try read(store, t.src, into: slot, shape: t.shape)
                tensors[t.name] = Tensor(name: t.name, shape: t.shape, data: UnsafeBufferPointer(slot))
            } else {
                tensors[t.name] = Tensor(name: t.name, shape: t.shape, data: UnsafeBufferPointer(slot))
            }
        }
        let weights = CLIPWeights(spec: spec, source: source, tensors: tensors, pending: pending, owners: store.owners + [arena, store])
        if halves == .widen { weights.materializeAll() }
        return weights
    }

    /// The source tensors of one OpenAI tensor: each present, float and of the shape its part must have.
    static func check(_ store: TensorStore, _ src: TensorSource, shape expected: [Int], openaiName: String) throws {
        func one(_ key: String, _ shape: [Int]) throws {
            guard let actual = store.shapes[key] else {
                let alias = key == openaiName ? "" : " (OpenAI name '\(openaiName)')"
                throw WeightsError("weights.missing-tensor", "'\(store.path)' is missing tensor '\(key)'\(alias)")
            }
            if store.dtypeName(key).contains("H5S_NULL") {
                throw WeightsError("weights.shape", "tensor '\(key)' in '\(store.path)' has an empty (H5S_NULL) dataspace: it holds no value (a scalar is stored with shape [] or [1]); re-export the tensor")
            }
            guard store.dtype(key) != nil else {
                throw WeightsError("weights.dtype", "tensor '\(key)' in '\(store.path)' has \(store.dtypeName(key)); CLIP weights must be float32, float16 or bfloat16")
            }
            // A scalar may be stored as shape [] or [1].
            guard actual == shape || (shape.isEmpty && actual == [1]) else {
                throw WeightsError("weights.shape", "tensor '\(key)' in '\(store.path)' has shape \(actual), expected \(shape) for this configuration")
            }
        }
        switch src {
        case .direct(let k): try one(k, expected)
        case .transposed(let k): try one(k, expected.count == 2 ? [expected[1], expected[0]] : expected)
        case .concatenated(let keys):
            var part = expected
            part[0] /= keys.count
            for k in keys { try one(k, part) }
        }
    }

    static func read(_ store: TensorStore, _ src: TensorSource, into slot: UnsafeMutableBufferPointer<Float>, shape: [Int]) throws {
        switch src {
        case .direct(let k):
            try store.read(k, into: slot)
        case .transposed(let k):
            var tmp = [Float](repeating: 0, count: slot.count)
            try tmp.withUnsafeMutableBufferPointer { try store.read(k, into: $0) }
            let (r, c) = (shape[1], shape[0])  // source [r, c] → slot [c, r]
            for i in 0..<r { for j in 0..<c { slot[j * r + i] = tmp[i * c + j] } }
        case .concatenated(let keys):
            let part = slot.count / keys.count
            for (i, k) in keys.enumerated() {
                try store.read(k, into: UnsafeMutableBufferPointer(rebasing: slot[(i * part)..<((i + 1) * part)]))
            }
        }
    }
}
