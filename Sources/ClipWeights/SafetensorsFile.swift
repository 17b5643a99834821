// Reads a safetensors file through a mapping: the header is checked against the file before any tensor is
// touched (strict JSON without duplicate keys, length inside the file, offsets inside the data and tiling it
// as the safetensors crate requires, byte counts matching dtype × shape), so a corrupt or truncated file is an
// error, never a crash.
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
        let dataStart = 8 + Int(n)
        let dataCount = f.count - dataStart
        let top: [(key: String, value: HeaderJSON)]
        do {
            guard case .object(let members) = try HeaderJSON.parse(f.withBytes { Array($0[8..<dataStart]) }) else {
                throw bad("safetensors.header", "its header is not a JSON object")
            }
            top = members
        } catch let failure as HeaderJSON.Failure {
            throw Self.error(failure, path: path, within: "the header")
        }
        var meta: [String: String] = [:]
        var entries: [String: Entry] = [:]
        var counters: [Entry] = []  // BatchNorm step counters: checked and tiled, never read (see `entry`)
        for (name, value) in top {
            if name == "__metadata__" {
                guard case .object(let m) = value else { throw bad("safetensors.header", "__metadata__ is not an object") }
                for (k, v) in m {
                    guard case .string(let s) = v else {
                        throw bad("safetensors.header", "__metadata__ entry '\(k)' is \(v.text), not a string (safetensors metadata values are strings)")
                    }
                    meta[k] = s
                }
                continue
            }
            let (e, counter) = try Self.entry(name, value, dataStart: dataStart, dataCount: dataCount, bad)
            if counter { counters.append(e) } else { entries[name] = e }
        }
        try Self.checkTiling(Array(entries.values) + counters, dataStart: dataStart, dataCount: dataCount, bad)
        metadata = meta
        self.entries = entries
    }

    /// One tensor's entry: a known dtype, a shape of non-negative integers, two integer offsets inside the data
    /// whose span is exactly dtype size × shape (computed with checked arithmetic). `counter`: an I64
    /// `….num_batches_tracked` (BatchNorm's step counter, in open_clip ResNet hub files), checked the same way but
    /// never read (its `dtype` is a placeholder; ArchitectureRegistry.isIgnorable drops the name).
    static func entry(_ name: String, _ value: HeaderJSON, dataStart: Int, dataCount: Int,
                      _ bad: (String, String) -> WeightsError) throws -> (Entry, counter: Bool) {
        func field(_ k: String) -> HeaderJSON? {
            if case .object(let fields) = value { fields.first { $0.key == k }?.value } else { nil }
        }
        guard case .string(let dt)? = field("dtype"), let shapeValue = field("shape"), let offsValue = field("data_offsets") else {
            throw bad("safetensors.header", "the entry for '\(name)' lacks dtype, shape or data_offsets")
        }
        let counter = dt == "I64" && name.hasSuffix(".num_batches_tracked")
        guard let dtype = WeightDType(safetensorsName: dt) ?? (counter ? .f32 : nil) else {
            throw bad("safetensors.dtype", "tensor '\(name)' has dtype \(dt); clipwb reads F32, F16 and BF16")
        }
        let elementSize = counter ? 8 : dtype.size
        guard let shape = integers(shapeValue) else {
            throw bad("safetensors.header", "tensor '\(name)' has shape \(shapeValue.text); a shape is a list of integers")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("safetensors.header", "tensor '\(name)' has a negative dimension in \(shape)") }
        guard let offs = integers(offsValue), offs.count == 2 else {
            throw bad("safetensors.header", "tensor '\(name)' has data_offsets \(offsValue.text); they must be two integers [begin, end]")
        }
        guard offs[0] >= 0, offs[0] <= offs[1], offs[1] <= dataCount else {
            throw bad("safetensors.offsets", "tensor '\(name)' has data_offsets \(offs) outside the \(dataCount) data bytes (truncated file?)")
        }
        guard let need = CheckedSize.bytes(shape, elementSize: elementSize) else {
            throw bad("safetensors.size", "tensor '\(name)' is \(dt) with shape \(shape), whose size in bytes overflows")
        }
        guard offs[1] - offs[0] == need else {
            throw bad("safetensors.size", "tensor '\(name)' is \(dt) with shape \(shape), which needs \(need) bytes, but its data_offsets span \(offs[1] - offs[0])")
        }
        return (Entry(name: name, dtype: dtype, shape: shape, range: (dataStart + offs[0])..<(dataStart + offs[1])), counter)
    }

    static func integers(_ v: HeaderJSON) -> [Int]? {
        guard case .array(let items) = v else { return nil }
        var out: [Int] = []
        for item in items {
            guard case .integer(let n) = item else { return nil }
            out.append(n)
        }
        return out
    }

    /// The safetensors crate's rule: sorted by offsets, the tensors tile the data region exactly (each starts
    /// where the previous one ends, the first at 0, the last at the end of the file).
    static func checkTiling(_ entries: some Collection<Entry>, dataStart: Int, dataCount: Int,
                            _ bad: (String, String) -> WeightsError) throws {
        var end = 0
        var previous: Entry?
        for e in entries.sorted(by: { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }) {
            let (begin, last) = (e.range.lowerBound - dataStart, e.range.upperBound - dataStart)
            if begin > end {
                throw bad("safetensors.offsets", "tensor '\(e.name)' starts at data offset \(begin), leaving a gap of \(begin - end) bytes after offset \(end); safetensors stores tensors back to back")
            }
            if begin < end, let p = previous {
                let pr = (p.range.lowerBound - dataStart, p.range.upperBound - dataStart)
                throw bad("safetensors.offsets", "tensor '\(e.name)' (data_offsets [\(begin), \(last)]) overlaps tensor '\(p.name)' ([\(pr.0), \(pr.1)]); each data byte belongs to one tensor")
            }
            end = last
            previous = e
        }
        if end != dataCount {
            throw bad("safetensors.offsets", "the data region has \(dataCount - end) bytes after the last tensor (which ends at data offset \(end) of \(dataCount)); the file has trailing bytes or its header lacks a tensor")
        }
    }

    static func error(_ failure: HeaderJSON.Failure, path: String, within: String) -> WeightsError {
        switch failure {
        case .duplicateKey(let key, let keys):
            let place = keys.isEmpty ? within : "\(keys.joined(separator: ".")) in \(within)"
            return WeightsError("safetensors.duplicate-key", "'\(path)' is not a usable safetensors file: key '\(key)' appears twice in \(place); JSON readers keep one of the two silently, so write each key once")
        case .syntax(let what, let offset):
            return WeightsError("safetensors.header", "'\(path)' is not a usable safetensors file: \(within) is not valid JSON (\(what) at byte \(offset))")
        }
    }

    public var stored: [StoredTensor] {
        entries.values.sorted { $0.range.lowerBound < $1.range.lowerBound }.map {
            StoredTensor(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape, bytes: $0.range.count)
        }
    }
}
