// Reads a safetensors file through a mapping: the header is checked against the file before any tensor is
// touched (length inside the file, offsets inside the data, byte counts matching dtype × shape), so a corrupt
// or truncated file is an error, never a crash.
import CKernels
import ClipCore
import Foundation

public struct SafetensorsFile {
    public struct Entry: Equatable {
        public let name: String
        public let dtype: WeightDType
        public let shape: [Int]
        /// Byte range within the whole file.
        public let range: Range<Int>
    }

    public let file: MappedFile
    public let metadata: [String: String]
    public let entries: [String: Entry]
    public let headerLength: Int

    /// `backing: .privateCopy` reads the file into memory (a server), so no later change to it can fault the tensors.
    public init(path: String, backing: MappedFile.Backing = .mapping) throws {
        file = try MappedFile(path: path, backing: backing)
        let f = file
        func bad(_ code: String, _ what: String) -> WeightsError {
            WeightsError(code, "'\(path)' is not a usable safetensors file: \(what)")
        }
        guard f.count >= 8 else { throw bad("safetensors.truncated", "it is \(f.count) bytes long, shorter than the 8-byte header length") }
        let n = f.withBytes { $0.loadUnaligned(as: UInt64.self) }
        guard n <= UInt64(f.count - 8) else {
            throw bad("safetensors.header-length", "its header length (\(n) bytes) reaches beyond the end of the file (\(f.count) bytes); the file is truncated or not safetensors")
        }
        headerLength = Int(n)
        let json = f.withBytes { Data($0[8..<(8 + Int(n))]) }
        guard let obj = try? JSONSerialization.jsonObject(with: json), let dict = obj as? [String: Any] else {
            throw bad("safetensors.header", "its header is not a JSON object")
        }
        let dataStart = 8 + Int(n)
        let dataCount = f.count - dataStart
        var meta: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in dict {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("safetensors.header", "__metadata__ is not an object") }
                for (k, v) in m { meta[k] = (v as? String) ?? "\(v)" }
                continue
            }
            guard let t = value as? [String: Any], let dt = t["dtype"] as? String,
                  let shape = t["shape"] as? [Int], let offs = t["data_offsets"] as? [Int], offs.count == 2 else {
                throw bad("safetensors.header", "the entry for '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = WeightDType(safetensorsName: dt) else {
                throw bad("safetensors.dtype", "tensor '\(name)' has dtype \(dt); clipwb reads F32, F16 and BF16")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("safetensors.header", "tensor '\(name)' has a negative dimension in \(shape)") }
            guard offs[0] >= 0, offs[0] <= offs[1], offs[1] <= dataCount else {
                throw bad("safetensors.offsets", "tensor '\(name)' has data_offsets \(offs) outside the \(dataCount) data bytes (truncated file?)")
            }
            let need = shape.reduce(1, *) * dtype.size
            guard offs[1] - offs[0] == need else {
                throw bad("safetensors.size", "tensor '\(name)' is \(dt) with shape \(shape), which needs \(need) bytes, but its data_offsets span \(offs[1] - offs[0])")
            }
            entries[name] = Entry(name: name, dtype: dtype, shape: shape, range: (dataStart + offs[0])..<(dataStart + offs[1]))
        }
        metadata = meta
        self.entries = entries
    }

    public var stored: [StoredTensor] {
        entries.values.sorted { $0.range.lowerBound < $1.range.lowerBound }.map {
            StoredTensor(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape, bytes: $0.range.count)
        }
    }

    /// The CLIP configuration: from `clip_config` metadata if present, else inferred from shapes.
    public func config() throws -> CLIPConfig {
        if let text = metadata["clip_config"] {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Int] else {
                throw WeightsError("config.inconsistent", "'\(file.path)' has unreadable clip_config metadata")
            }
            var c = CLIPConfig.vitB32
            for name in CLIPConfig.argumentNames {
                guard let v = obj[name] else {
                    throw WeightsError("config.inconsistent", "'\(file.path)' clip_config metadata lacks '\(name)'")
                }
                c[argument: name] = v
            }
            try ConfigInference.validate(c, file: file.path)
            return c
        }
        let naming = KeyMapping.naming(of: entries.keys)
        return try ConfigInference.infer(shapes: KeyMapping.openaiShapes(from: entries.mapValues(\.shape), naming: naming), file: file.path)
    }

    /// Float32 tensors are lent straight from the mapping. Halves are widened into one float32 arena on two
    /// threads at load (`.widen`), or left in the mapping (`.direct`): float16 matrices are then read by the
    /// encoders as they are and any other tensor is widened on its first use.
    public func load(halves: HalfWeights = .standard) throws -> CLIPWeights {
        let config = try config()
        let expected = StateDict.expected(config)
        var tensors: [String: Tensor] = [:]
        var toWiden: [(Entry, Int)] = []  // (entry, offset in the float32 arena)
        for (name, shape) in expected {
            guard let e = entries[name] else {
                throw WeightsError("weights.missing-tensor", "'\(file.path)' is missing tensor '\(name)'")
            }
            guard e.shape == shape || (shape.isEmpty && e.shape == [1]) else {
                throw WeightsError("weights.shape", "tensor '\(name)' in '\(file.path)' has shape \(e.shape), expected \(shape) for this configuration")
            }
            if e.dtype == .f32 && e.range.lowerBound % 4 == 0, let base = file.baseAddress {
                let p = (base + e.range.lowerBound).assumingMemoryBound(to: Float.self)
                tensors[name] = Tensor(name: name, shape: shape, data: UnsafeBufferPointer(start: p, count: e.range.count / 4))
            } else {
                toWiden.append((e, 0))
            }
        }
        if let extra = Set(entries.keys).subtracting(expected.map(\.name)).sorted().first {
            throw WeightsError("weights.unexpected-tensor", "'\(file.path)' has tensor '\(extra)' that a CLIP ViT model with this configuration does not use")
        }
        // Smallest first, so the tensors `.direct` widens on use (norms, biases, embeddings, projections) share a
        // few pages at the arena's start and the never-widened matrices' pages are never touched.
        toWiden.sort { ($0.0.range.count, $0.0.name) < ($1.0.range.count, $1.0.name) }
        var widenCount = 0
        for i in toWiden.indices {
            toWiden[i].1 = widenCount
            widenCount += toWiden[i].0.range.count / toWiden[i].0.dtype.size
        }
        var owners: [AnyObject] = [file]
        var pending: [String: CLIPWeights.Pending] = [:]
        if widenCount > 0, let base = file.baseAddress {
            let arena = try FloatArena(count: widenCount)
            owners.append(arena)
            for (e, off) in toWiden {
                let n = e.range.count / e.dtype.size
                let shape = e.shape == [1] ? [] : e.shape
                let widen: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
                switch e.dtype {
                case .f16: widen = { ck_f16_to_f32($0.assumingMemoryBound(to: UInt16.self), $1, $2) }
                case .bf16: widen = { ck_bf16_to_f32($0.assumingMemoryBound(to: UInt16.self), $1, $2) }
                case .f32: // unaligned float32 (not written by clipwb): copy
                    widen = { UnsafeMutableRawPointer($1).copyMemory(from: $0, byteCount: $2 * 4) }
                }
                pending[e.name] = CLIPWeights.Pending(shape: shape, source: base + e.range.lowerBound, slot: arena.slice(off, n),
                                                     isFloat16: e.dtype == .f16, widen: widen)
            }
        }
        let weights = CLIPWeights(config: config, source: metadata["source"] ?? "unknown", tensors: tensors, pending: pending, owners: owners)
        if halves == .widen { weights.materializeAll() }
        return weights
    }
}
