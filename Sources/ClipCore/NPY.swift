import Foundation
// NumPy's .npy format (versions 1.0–3.0): the exchange format for embeddings, queries and ids.
// Reader maps the file; writer is atomic.

public enum NPYDType: String, Sendable {
    case float32 = "<f4", float16 = "<f2", float64 = "<f8", int32 = "<i4", int64 = "<i8"
    public var size: Int {
        switch self {
        case .float16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
}

/// A parsed .npy header over a mapped file.
public struct NPYFile {
    public let file: MappedFile
    /// The descr string as written (`<f4`, `|u1`, …).
    public let descr: String
    public let fortranOrder: Bool
    public let shape: [Int]
    public let dataOffset: Int

    public init(path: String) throws {
        file = try MappedFile(path: path)
        (descr, fortranOrder, shape, dataOffset) = try file.withBytes { try NPYFile.parseHeader($0, path: path) }
        let dtype = NPYDType(rawValue: descr)
        guard let need = CheckedSize.bytes(shape, elementSize: dtype?.size ?? 1) else {
            throw CoreError("npy.shape", "'\(path)' has shape \(NPY.shapeText(shape)), whose size in bytes overflows: the header is corrupt")
        }
        if let _ = dtype, need > file.count - dataOffset {
            throw CoreError("npy.truncated", "'\(path)' is truncated: its header promises \(need) bytes of data, the file holds \(file.count - dataOffset)")
        }
    }

    static func parseHeader(_ b: UnsafeRawBufferPointer, path: String) throws -> (String, Bool, [Int], Int) {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard b.count >= 10, Array(b[0..<6]) == magic else {
            throw CoreError("npy.not-npy", "'\(path)' is not a .npy file (no \\x93NUMPY magic)")
        }
        let major = b[6]
        let headerLen: Int
        let start: Int
        switch major {
        case 1:
            headerLen = Int(b[8]) | Int(b[9]) << 8
            start = 10
        case 2, 3:
            guard b.count >= 12 else { throw CoreError("npy.truncated", "'\(path)' is truncated inside its header") }
            headerLen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            start = 12
        default:
            throw CoreError("npy.version", "'\(path)' uses .npy format version \(major), which is not supported (1–3 are)")
        }
        guard start + headerLen <= b.count else {
            throw CoreError("npy.truncated", "'\(path)' is truncated inside its header")
        }
        let header = String(decoding: b[start..<(start + headerLen)], as: UTF8.self)
        guard let descr = field(header, "descr").map({ $0.trimmingQuotes() }) else {
            throw CoreError("npy.header", "'\(path)' has a .npy header without 'descr'")
        }
        let fortran = field(header, "fortran_order")?.hasPrefix("True") ?? false
        guard let shapeText = field(header, "shape"), let open = shapeText.firstIndex(of: "("),
              let close = shapeText[open...].firstIndex(of: ")") else {
            throw CoreError("npy.header", "'\(path)' has a .npy header without 'shape'")
        }
        let dims = shapeText[shapeText.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw CoreError("npy.header", "'\(path)' has a bad shape entry '\(d)'") }
            shape.append(v)
        }
        return (descr, fortran, shape, start + headerLen)
    }

    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)'") else { return nil }
        var rest = header[r.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        if key == "shape" { return String(rest) }
        if let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) { rest = rest[..<end] }
        return String(rest).trimmingCharacters(in: " ")
    }

    /// Reads a 2-D float32 C-order array as a Matrix. Float16/float64 are refused, not converted,
    /// so a user never indexes silently rounded data.
    public func float32Matrix() throws -> Matrix {
        guard descr == NPYDType.float32.rawValue else {
            throw CoreError("npy.dtype", "'\(file.path)' holds dtype \(descr); clipwb needs float32 ('<f4'): convert with arr.astype(numpy.float32)")
        }
        guard shape.count == 2 else {
            throw CoreError("npy.shape", "'\(file.path)' is \(shape.count)-D with shape \(shape); clipwb needs a 2-D array [rows, dim]")
        }
        guard !fortranOrder else {
            throw CoreError("npy.order", "'\(file.path)' is in Fortran order; save it with numpy.ascontiguousarray first")
        }
        let n = shape[0] * shape[1]
        var out = [Float](repeating: 0, count: n)
        file.withBytes { b in
            out.withUnsafeMutableBytes { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[dataOffset..<(dataOffset + n * 4)]))
            }
        }
        return Matrix(rows: shape[0], cols: shape[1], data: out)
    }

    /// Reads a 2-D integer array (int32 or int64) as Int rows.
    public func intMatrix() throws -> (rows: Int, cols: Int, data: [Int]) {
        guard let dt = NPYDType(rawValue: descr), dt == .int32 || dt == .int64 else {
            throw CoreError("npy.dtype", "'\(file.path)' holds dtype \(descr); an integer array (<i4 or <i8) is needed")
        }
        guard shape.count == 2, !fortranOrder else {
            throw CoreError("npy.shape", "'\(file.path)' must be a 2-D C-order array, it has shape \(shape)")
        }
        let n = shape[0] * shape[1]
        var out = [Int](repeating: 0, count: n)
        file.withBytes { b in
            let p = b.baseAddress! + dataOffset
            for i in 0..<n {
                out[i] = dt == .int32 ? Int(p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
                                      : Int(p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
            }
        }
        return (shape[0], shape[1], out)
    }
}

public enum NPY {
    public static func readMatrix(_ path: String) throws -> Matrix { try NPYFile(path: path).float32Matrix() }

    /// The header bytes for a C-order array, padded so data starts at a multiple of 64.
    /// numpy's spelling of a shape tuple: `(3,)`, `(2, 5)`.
    static func shapeText(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    public static func header(descr: String, shape: [Int]) -> [UInt8] {
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText(shape)), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        let n = dict.utf8.count
        out += [UInt8(n & 0xff), UInt8(n >> 8)]
        out += Array(dict.utf8)
        return out
    }

    public static func write(_ m: Matrix, to path: String) throws {
        try AtomicFile.write(path) { fd in
            try AtomicFile.writeAll(fd, header(descr: NPYDType.float32.rawValue, shape: [m.rows, m.cols]), path: path)
            try m.data.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        }
    }

    public static func writeInts(_ values: [Int], rows: Int, cols: Int, to path: String) throws {
        let ints = values.map { Int64($0) }
        try AtomicFile.write(path) { fd in
            try AtomicFile.writeAll(fd, header(descr: NPYDType.int64.rawValue, shape: [rows, cols]), path: path)
            try ints.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }

    func trimmingQuotes() -> String {
        var s = Substring(self)
        while let f = s.first, f == "'" || f == "\"" || f == " " { s = s.dropFirst() }
        while let l = s.last, l == "'" || l == "\"" || l == " " { s = s.dropLast() }
        return String(s)
    }
}
