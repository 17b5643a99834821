// Reads a clip-hdf5 v1 weights file (docs/formats.md): flat or nested `/state_dict`, float32 or float16,
// OpenAI or Hugging Face key names, `/config` overrides. Loading is loud: every expected tensor must be
// present with the predicted shape, and every stored tensor used or explicitly ignored.
import CKernels
import Foundation
import ClipCore

/// One stored tensor as found in a file, for `inspect` tables.
public struct StoredTensor: Codable, Equatable, Sendable {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    public let bytes: Int
}

public struct HDF5Weights {
    public let file: HDF5File
    public let source: String
    public let naming: KeyNaming
    public let config: CLIPConfig
    typealias Dataset = (path: String, info: HDF5File.DatasetInfo)
    /// Stored key (dots, relative to the state-dict group) → dataset path and description.
    let datasets: [String: Dataset]
    public let stored: [StoredTensor]
    public let rootAttributes: [String: HDF5File.Attribute]

    public static let supportedVersion = 1

    public init(path: String) throws {
        file = try HDF5File(path: path)
        rootAttributes = try file.attributes(of: "/")
        if case .string(let format)? = rootAttributes["format"] {
            if format == "clip-reference" {
                throw WeightsError("hdf5.is-reference", "'\(path)' is a clip-reference file (reference embeddings); pass the weights file, and give this one to `clipwb verify --reference`")
            }
            guard format == "clip-hdf5" else {
                throw WeightsError("hdf5.format", "'\(path)' has format '\(format)', expected 'clip-hdf5'")
            }
        }
        if case .int(let v)? = rootAttributes["format_version"], v > HDF5Weights.supportedVersion {
            throw WeightsError("hdf5.version", "'\(path)' is clip-hdf5 version \(v); this clipwb reads version \(HDF5Weights.supportedVersion)")
        }
        if case .string(let s)? = rootAttributes["source"] { source = s } else { source = "unknown" }

        let group = file.exists("/state_dict") ? "/state_dict" : "/"
        var found: [String: (String, HDF5File.DatasetInfo)] = [:]
        for p in try file.datasets(under: group) {
            // Flat keys keep their dots; nested groups become dots.
            let rel = group == "/" ? String(p.dropFirst()) : String(p.dropFirst(group.count + 1))
            if rel.hasPrefix("config/") { continue }
            found[rel.replacingOccurrences(of: "/", with: ".")] = (p, try file.info(p))
        }
        guard !found.isEmpty else {
            throw WeightsError("hdf5.empty", "'\(path)' holds no tensors under \(group); is it a clip-hdf5 weights file?")
        }
        datasets = found.mapValues { (path: $0.0, info: $0.1) }
        naming = KeyMapping.naming(of: found.keys)
        stored = found.keys.sorted().map { k in
            let i = found[k]!.1
            return StoredTensor(name: k, dtype: i.dtypeName, shape: i.shape, bytes: i.count * i.elementSize)
        }
        var overrides: [String: Int] = [:]
        if file.exists("/config") {
            for (k, v) in try file.attributes(of: "/config") {
                switch v {
                case .int(let n): overrides[k] = n
                case .array(let shape):
                    throw WeightsError("config.type", "/config attribute '\(k)' in '\(path)' is an array of shape \(shape), not one integer")
                default:
                    throw WeightsError("config.type", "/config attribute '\(k)' in '\(path)' is not an integer")
                }
            }
        }
        let shapes = KeyMapping.openaiShapes(from: found.mapValues { $0.1.shape }, naming: naming)
        // Tensor data fits in the file, or in deflate's best ratio of it when any dataset is compressed.
        let ratio = found.values.contains { $0.1.isFiltered } ? HDF5File.maxFilterRatio : 1
        config = try ConfigInference.infer(shapes: shapes, overrides: overrides, naming: naming,
                                           capacityBytes: CheckedSize.product(file.fileBytes, ratio) ?? Int.max, file: path)
    }

    /// Reads every tensor into one float32 arena. Presence, dtype and shape of every source tensor are checked
    /// first, so the arena is sized by tensors that exist (the config was already bounded by the file).
    public func load() throws -> CLIPWeights {
        let expected = StateDict.expected(config)
        let plan = try expected.map { (name, shape) in
            let src = KeyMapping.source(of: name, naming: naming)
            return (name: name, shape: shape, src: src, parts: try resolve(src, expectedShape: shape, openaiName: name))
        }
        guard let total = CheckedSize.sum(expected.map { CheckedSize.elements($0.shape) ?? Int.max }) else {
            throw WeightsError("weights.size", "'\(file.path)' holds more values than a 64-bit count can address")
        }
        let arena = try FloatArena(count: total)
        var tensors: [String: Tensor] = [:]
        var used = Set<String>()
        var offset = 0
        for t in plan {
            let n = t.shape.reduce(1, *)
            let slot = arena.slice(offset, n)
            offset += n
            try read(t.src, t.parts, into: slot, expectedShape: t.shape)
            used.formUnion(t.src.sourceKeys)
            tensors[t.name] = Tensor(name: t.name, shape: t.shape, data: UnsafeBufferPointer(slot))
        }
        let unused = Set(datasets.keys).subtracting(used).subtracting(StateDict.ignorable)
        if let extra = unused.sorted().first {
            throw WeightsError("weights.unexpected-tensor", "'\(file.path)' has tensor '\(extra)'\(unused.count > 1 ? " (and \(unused.count - 1) more)" : "") that a CLIP ViT model with this configuration does not use; is the configuration (layers, widths) right?")
        }
        return CLIPWeights(config: config, source: source, tensors: tensors, owners: [arena])
    }

    private func dataset(_ key: String, for openaiName: String) throws -> Dataset {
        guard let d = datasets[key] else {
            let alias = key == openaiName ? "" : " (OpenAI name '\(openaiName)')"
            throw WeightsError("weights.missing-tensor", "'\(file.path)' is missing tensor '\(key)'\(alias)")
        }
        guard d.info.kind == .float, d.info.elementSize == 2 || d.info.elementSize == 4 else {
            throw WeightsError("weights.dtype", "tensor '\(key)' in '\(file.path)' has dtype \(d.info.dtypeName); clip-hdf5 weights must be float32 or float16")
        }
        guard !d.info.isNullSpace else {
            throw WeightsError("weights.shape", "tensor '\(key)' in '\(file.path)' has an empty (H5S_NULL) dataspace: it holds no value (a scalar is stored with shape [] or [1]); re-export the tensor")
        }
        return d
    }

    /// The source datasets of one OpenAI tensor, each present, float and of the shape its part must have.
    private func resolve(_ src: TensorSource, expectedShape: [Int], openaiName: String) throws -> [Dataset] {
        switch src {
        case .direct(let key):
            let d = try dataset(key, for: openaiName)
            try checkShape(d.info.shape, expectedShape, key)
            return [d]
        case .transposed(let key):
            let d = try dataset(key, for: openaiName)
            try checkShape(d.info.shape, [expectedShape[1], expectedShape[0]], key)
            return [d]
        case .concatenated(let keys):
            var partShape = expectedShape
            partShape[0] /= keys.count
            return try keys.map { key in
                let d = try dataset(key, for: openaiName)
                try checkShape(d.info.shape, partShape, key)
                return d
            }
        }
    }

    private func read(_ src: TensorSource, _ parts: [Dataset], into slot: UnsafeMutableBufferPointer<Float>, expectedShape: [Int]) throws {
        switch src {
        case .direct:
            try readOne(parts[0], into: slot)
        case .transposed:
            var tmp = [Float](repeating: 0, count: slot.count)
            try tmp.withUnsafeMutableBufferPointer { try readOne(parts[0], into: $0) }
            let (r, c) = (expectedShape[1], expectedShape[0])  // source [r, c] → slot [c, r]
            for i in 0..<r { for j in 0..<c { slot[j * r + i] = tmp[i * c + j] } }
        case .concatenated:
            let part = slot.count / parts.count
            for (i, d) in parts.enumerated() {
                try readOne(d, into: UnsafeMutableBufferPointer(rebasing: slot[(i * part)..<((i + 1) * part)]))
            }
        }
    }

    private func checkShape(_ actual: [Int], _ expected: [Int], _ key: String) throws {
        // A scalar may be stored as shape [] or [1].
        if actual == expected || (expected.isEmpty && actual == [1]) { return }
        throw WeightsError("weights.shape", "tensor '\(key)' in '\(file.path)' has shape \(actual), expected \(expected) for this configuration")
    }

    private func readOne(_ d: Dataset, into slot: UnsafeMutableBufferPointer<Float>) throws {
        if d.info.elementSize == 2 && d.info.littleEndian {
            // float16: read the halves as stored and widen exactly (libhdf5's soft conversion is slow).
            var halves = [UInt16](repeating: 0, count: slot.count)
            try halves.withUnsafeMutableBytes { try file.readRaw(d.path, into: $0) }
            halves.withUnsafeBufferPointer { ck_f16_to_f32($0.baseAddress, slot.baseAddress, slot.count) }
        } else {
            try file.readFloat(d.path, into: slot)
        }
    }
}
