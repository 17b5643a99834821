// Recognizes the file kinds a user might hand us by their first bytes, to say what a file is when it is not
// what was expected.
import ClipCore

public enum FileKind: Equatable {
    case hdf5, safetensors, npy, jpeg, png, annoyOrUnknown, empty, text
}

public enum FileSniffer {
    public static func kind(of f: MappedFile) -> FileKind {
        f.withBytes { b in
            if b.isEmpty { return .empty }
            let head = Array(b.prefix(16))
            if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) { return .hdf5 }
            if head.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
            if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
            if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
            if b.count >= 9 {
                let n = b.loadUnaligned(as: UInt64.self)
                if n > 1, b[8] == UInt8(ascii: "{") { return .safetensors }
            }
            if head.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || (32..<127).contains($0) }) { return .text }
            return .annoyOrUnknown
        }
    }

    public static func describe(_ f: MappedFile) -> String {
        switch kind(of: f) {
        case .empty: "it is empty"
        case .hdf5: "it is HDF5"
        case .safetensors: "it looks like a safetensors file"
        case .npy: "it looks like a NumPy .npy file"
        case .jpeg: "it looks like a JPEG image"
        case .png: "it looks like a PNG image"
        case .text: "it looks like a text file"
        case .annoyOrUnknown: "its first bytes match no known format"
        }
    }
}
