// clipwb's compact weight file: a valid safetensors file (8-byte little-endian header length, a JSON header,
// then the tensor bytes) whose `__metadata__` carries the CLIP configuration, the source, a format version and
// the source HDF5's sha256. Tensors sit at 64-byte-aligned offsets (the header is padded with spaces, and
// tensors whose byte size is not a multiple of 64 go last), so float32 tensors are used in place from the mapping.
import CKernels
import ClipCore
import Foundation

public enum WeightDType: String, Codable, CaseIterable, Sendable {
    case f32, f16, bf16
    /// safetensors' dtype names.
    public var safetensorsName: String { ["f32": "F32", "f16": "F16", "bf16": "BF16"][rawValue]! }
    public var size: Int { self == .f32 ? 4 : 2 }
    init?(safetensorsName: String) {
        switch safetensorsName {
        case "F32": self = .f32
        case "F16": self = .f16
        case "BF16": self = .bf16
        default: return nil
        }
    }
}

public enum SafetensorsWriter {
    public static let format = "clipwb-weights"
    public static let formatVersion = 2
    static let alignment = 64

    /// Writes `weights` (OpenAI names) as `dtype` to `path`, atomically.
    public static func write(_ weights: CLIPWeights, dtype: WeightDType, to path: String,
                             metadata extra: [String: String] = [:]) throws {
        let expected = ArchitectureRegistry.family(named: weights.spec.family)!.expected(weights.spec)
        // Aligned-size tensors first so every one of them starts on a 64-byte boundary.
        let ordered = expected.filter { $0.shape.reduce(1, *) * dtype.size % alignment == 0 }
            + expected.filter { $0.shape.reduce(1, *) * dtype.size % alignment != 0 }
        var metadata = extra
        metadata["format"] = format
        metadata["format_version"] = String(formatVersion)
        metadata["dtype"] = dtype.rawValue
        metadata["source"] = weights.source
        metadata["clip_spec"] = weights.spec.json()
        var entries: [String] = []
        var offset = 0
        for (name, shape) in ordered {
            let bytes = shape.reduce(1, *) * dtype.size
            entries.append("\(jsonString(name)):{\"dtype\":\"\(dtype.safetensorsName)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        let meta = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
        var header = "{\"__metadata__\":{\(meta)}," + entries.joined(separator: ",") + "}"
        header += String(repeating: " ", count: (alignment - (8 + header.utf8.count) % alignment) % alignment)
        var prefix = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        prefix += Array(header.utf8)

        try AtomicFile.write(path) { fd in
            try AtomicFile.writeAll(fd, prefix, path: path)
            for (name, _) in ordered {
                let t = try weights.tensor(name)
                switch dtype {
                case .f32:
                    try AtomicFile.writeAll(fd, UnsafeRawBufferPointer(t.data), path: path)
                case .f16, .bf16:
                    var halves = [UInt16](repeating: 0, count: t.count)
                    halves.withUnsafeMutableBufferPointer { h in
                        if dtype == .f16 { ck_f32_to_f16(t.data.baseAddress, h.baseAddress, t.count) }
                        else { ck_f32_to_bf16(t.data.baseAddress, h.baseAddress, t.count) }
                    }
                    try halves.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
                }
            }
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
