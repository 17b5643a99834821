// A container of named tensors, whatever the file: clip-hdf5 (read through libhdf5) or one or more
// safetensors files (mapped). The loader sees only this, so every container goes down one path.
import CKernels
import ClipCore

public protocol TensorStore: AnyObject {
    /// For messages: the file (or folder) the tensors come from.
    var path: String { get }
    /// Stored key → shape.
    var shapes: [String: [Int]] { get }
    /// The most tensor data the container can hold, in bytes (bounds a configuration before anything is sized by it).
    var capacityBytes: Int { get }
    /// The stored element type of `key`; nil when it is not a float type clipwb reads.
    func dtype(_ key: String) -> WeightDType?
    /// A readable description of the stored type, for errors ("int64", "float64").
    func dtypeName(_ key: String) -> String
    /// Reads `key` widened to float32 into `out` (exactly its element count).
    func read(_ key: String, into out: UnsafeMutableBufferPointer<Float>) throws
    /// The stored bytes of `key` when they can be used in place (a mapping), else nil.
    func mapped(_ key: String) -> UnsafeRawPointer?
    /// Objects that must live as long as pointers lent by `mapped`.
    var owners: [AnyObject] { get }
}

extension TensorStore {
    /// Every stored tensor, by name, for `inspect` tables.
    public var stored: [StoredTensor] {
        shapes.keys.sorted().map { k in
            let n = CheckedSize.elements(shapes[k]!) ?? 0
            return StoredTensor(name: k, dtype: dtypeName(k), shape: shapes[k]!,
                                bytes: CheckedSize.product(n, dtype(k)?.size ?? 0) ?? Int.max)
        }
    }
}

/// A clip-hdf5 file's `/state_dict` (flat or nested).
public final class HDF5Store: TensorStore {
    public let file: HDF5File
    typealias Dataset = (path: String, info: HDF5File.DatasetInfo)
    let datasets: [String: Dataset]
    public let shapes: [String: [Int]]
    public let capacityBytes: Int
    public var path: String { file.path }
    public var owners: [AnyObject] { [] }

    public init(_ file: HDF5File) throws {
        self.file = file
        let group = file.exists("/state_dict") ? "/state_dict" : "/"
        var found: [String: Dataset] = [:]
        for p in try file.datasets(under: group) {
            // Flat keys keep their dots; nested groups become dots.
            let rel = group == "/" ? String(p.dropFirst()) : String(p.dropFirst(group.count + 1))
            if rel.hasPrefix("config/") { continue }
            found[rel.replacingOccurrences(of: "/", with: ".")] = (p, try file.info(p))
        }
        guard !found.isEmpty else {
            throw WeightsError("hdf5.empty", "'\(file.path)' holds no tensors under \(group); is it a clip-hdf5 weights file?")
        }
        datasets = found
        shapes = found.mapValues { $0.info.shape }
        // Tensor data fits in the file, or in deflate's best ratio of it when any dataset is compressed.
        let ratio = found.values.contains { $0.info.isFiltered } ? HDF5File.maxFilterRatio : 1
        capacityBytes = CheckedSize.product(file.fileBytes, ratio) ?? Int.max
    }

    public func dtype(_ key: String) -> WeightDType? {
        guard let d = datasets[key], d.info.kind == .float, !d.info.isNullSpace else { return nil }
        return d.info.elementSize == 4 ? .f32 : d.info.elementSize == 2 ? .f16 : nil
    }

    public func dtypeName(_ key: String) -> String {
        guard let d = datasets[key] else { return "absent" }
        return d.info.isNullSpace ? "an empty (H5S_NULL) dataspace" : d.info.dtypeName
    }

    public func read(_ key: String, into slot: UnsafeMutableBufferPointer<Float>) throws {
        let d = datasets[key]!
        if d.info.elementSize == 2 && d.info.littleEndian {
            // float16: read the halves as stored and widen exactly (libhdf5's soft conversion is slow).
            var halves = [UInt16](repeating: 0, count: slot.count)
            try halves.withUnsafeMutableBytes { try file.readRaw(d.path, into: $0) }
            halves.withUnsafeBufferPointer { ck_f16_to_f32($0.baseAddress, slot.baseAddress, slot.count) }
        } else {
            try file.readFloat(d.path, into: slot)
        }
    }

    public func mapped(_ key: String) -> UnsafeRawPointer? { nil }
}

/// One safetensors file, or the shards of a Hugging Face `model.safetensors.index.json`, through mappings.
public final class SafetensorsStore: TensorStore {
    public let files: [SafetensorsFile]
    let entries: [String: (file: SafetensorsFile, entry: SafetensorsFile.Entry)]
    public let shapes: [String: [Int]]
    public let capacityBytes: Int
    public let path: String
    public var owners: [AnyObject] { files.map(\.file) }

    public init(_ files: [SafetensorsFile], path: String) throws {
        self.files = files
        self.path = path
        var all: [String: (file: SafetensorsFile, entry: SafetensorsFile.Entry)] = [:]
        for f in files {
            for (k, e) in f.entries {
                if let other = all[k] {
                    throw WeightsError("safetensors.duplicate-key", "tensor '\(k)' is stored twice, in '\(other.file.file.path)' and '\(f.file.path)'; a sharded checkpoint stores each tensor once")
                }
                all[k] = (f, e)
            }
        }
        entries = all
        shapes = all.mapValues { $0.entry.shape }
        capacityBytes = CheckedSize.sum(files.map { $0.file.count - 8 - $0.headerLength }) ?? Int.max
    }

    public func dtype(_ key: String) -> WeightDType? { entries[key]?.entry.dtype }
    public func dtypeName(_ key: String) -> String { entries[key]?.entry.dtype.rawValue ?? "absent" }

    public func mapped(_ key: String) -> UnsafeRawPointer? {
        guard let (f, e) = entries[key], let base = f.file.baseAddress else { return nil }
        return base + e.range.lowerBound
    }

    public func read(_ key: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        let (f, e) = entries[key]!
        guard let base = f.file.baseAddress else { return }  // an empty mapping holds no values
        let src = base + e.range.lowerBound
        switch e.dtype {
        case .f32: UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: src, byteCount: out.count * 4)
        case .f16: ck_f16_to_f32(src.assumingMemoryBound(to: UInt16.self), out.baseAddress, out.count)
        case .bf16: ck_bf16_to_f32(src.assumingMemoryBound(to: UInt16.self), out.baseAddress, out.count)
        }
    }

    /// The (first) file's entry for `key`, for alignment checks.
    func entry(_ key: String) -> SafetensorsFile.Entry? { entries[key]?.entry }
}
