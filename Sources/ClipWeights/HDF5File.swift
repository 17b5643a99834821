// An open HDF5 file (read-only unless created), closed in deinit. All libhdf5 calls go through CHDF5
// and are serialized: Debian's hdf5-serial is not thread-safe.
import CHDF5
#if canImport(Glibc)
import Glibc
#endif
import ClipCore

public final class HDF5File: @unchecked Sendable {
    public let path: String
    private let id: chdf5_id
    static let lock = NSLockLike()

    public struct DatasetInfo: Equatable {
        public enum Kind: Equatable { case float, integer, string, other }
        public let shape: [Int]
        public let kind: Kind
        /// Bytes per element as stored.
        public let elementSize: Int
        public let littleEndian: Bool
        public var count: Int { shape.reduce(1, *) }
        /// numpy-style name of the stored type, for messages and tables.
        public var dtypeName: String {
            switch kind {
            case .float: "float\(elementSize * 8)"
            case .integer: "int\(elementSize * 8)"
            case .string: "string"
            case .other: "compound/other"
            }
        }
    }

    /// Opens `path` read-only. Distinguishes a missing file, a non-HDF5 file and a damaged one.
    public init(path: String) throws {
        self.path = path
        try RegularFile.require(path)  // libhdf5 would block on a FIFO
        let probe = try HDF5File.lock.locked { chdf5_is_hdf5(path) }
        if probe != 1 {
            // Tell apart "missing/unreadable" from "not HDF5" with a plain open.
            let f = try MappedFile(path: path)
            if probe == 0 {
                throw WeightsError("hdf5.not-hdf5", "'\(path)' is not an HDF5 file (\(FileSniffer.describe(f)))")
            }
            throw WeightsError("hdf5.unreadable", "'\(path)' cannot be read as HDF5")
        }
        var err = [CChar](repeating: 0, count: 512)
        let id = HDF5File.lock.locked { chdf5_open_readonly(path, &err, err.count) }
        guard id >= 0 else {
            let cause = String(cString: err)
            if cause.contains("truncated") {
                throw WeightsError("hdf5.truncated", "'\(path)' is truncated: the HDF5 file ends before the data it declares (\(cause)); re-export or re-copy it")
            }
            throw WeightsError("hdf5.corrupt", "'\(path)' is a damaged HDF5 file (\(cause))")
        }
        self.id = id
    }

    private init(created path: String, id: chdf5_id) {
        self.path = path
        self.id = id
    }

    /// Creates (truncates) a file for writing; used by tests and tools.
    public static func create(path: String) throws -> HDF5File {
        var err = [CChar](repeating: 0, count: 512)
        let id = lock.locked { chdf5_create(path, &err, err.count) }
        guard id >= 0 else { throw WeightsError("hdf5.unwritable", "cannot create '\(path)': \(String(cString: err))") }
        return HDF5File(created: path, id: id)
    }

    deinit { HDF5File.lock.locked { chdf5_close_file(id) } }

    private func check(_ rc: some BinaryInteger, _ err: [CChar], _ what: String) throws {
        if rc < 0 {
            let cause = String(cString: err)
            let code = cause.contains("truncated") || cause.contains("addr overflow") ? "hdf5.truncated" : "hdf5.read"
            throw WeightsError(code, "\(what) in '\(path)' failed: \(cause)")
        }
    }

    public func exists(_ objectPath: String) -> Bool {
        HDF5File.lock.locked { chdf5_exists(id, objectPath) == 1 }
    }

    /// Full paths of every dataset below `group`.
    public func datasets(under group: String) throws -> [String] {
        var err = [CChar](repeating: 0, count: 512)
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = HDF5File.lock.locked { chdf5_list_datasets(id, group, &names, &err, err.count) }
        try check(n, err, "listing datasets under \(group)")
        defer { chdf5_free_names(names, n) }
        return (0..<Int(n)).map { String(cString: names![$0]!) }
    }

    public func info(_ dataset: String) throws -> DatasetInfo {
        var err = [CChar](repeating: 0, count: 512)
        var i = chdf5_info()
        let rc = HDF5File.lock.locked { chdf5_dataset_info(id, dataset, &i, &err, err.count) }
        try check(rc, err, "reading the description of \(dataset)")
        let dims = withUnsafeBytes(of: i.dims) { Array($0.bindMemory(to: UInt64.self).prefix(Int(i.rank))) }
        let kind: DatasetInfo.Kind = switch Int32(i.type_class) {
        case Int32(CHDF5_FLOAT.rawValue): .float
        case Int32(CHDF5_INTEGER.rawValue): .integer
        case Int32(CHDF5_STRING.rawValue): .string
        default: .other
        }
        return DatasetInfo(shape: dims.map { Int($0) }, kind: kind, elementSize: i.type_size, littleEndian: i.is_little_endian != 0)
    }

    /// Reads a numeric dataset as float32 into `out` (count must match), converting in libhdf5.
    public func readFloat(_ dataset: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        var err = [CChar](repeating: 0, count: 512)
        let rc = HDF5File.lock.locked { chdf5_read_float(id, dataset, out.baseAddress, &err, err.count) }
        try check(rc, err, "reading \(dataset)")
    }

    /// Reads the stored bytes of a dataset without conversion.
    public func readRaw(_ dataset: String, into out: UnsafeMutableRawBufferPointer) throws {
        var err = [CChar](repeating: 0, count: 512)
        let rc = HDF5File.lock.locked { chdf5_read_raw(id, dataset, out.baseAddress, &err, err.count) }
        try check(rc, err, "reading \(dataset)")
    }

    public func readFloats(_ dataset: String) throws -> [Float] {
        let n = try info(dataset).count
        var out = [Float](repeating: 0, count: n)
        try out.withUnsafeMutableBufferPointer { try readFloat(dataset, into: $0) }
        return out
    }

    public func readInt32s(_ dataset: String) throws -> [Int32] {
        let n = try info(dataset).count
        var out = [Int32](repeating: 0, count: n)
        var err = [CChar](repeating: 0, count: 512)
        let rc = out.withUnsafeMutableBufferPointer { p in HDF5File.lock.locked { chdf5_read_int32(id, dataset, p.baseAddress, &err, err.count) } }
        try check(rc, err, "reading \(dataset)")
        return out
    }

    public func readStrings(_ dataset: String) throws -> [String] {
        var err = [CChar](repeating: 0, count: 512)
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = HDF5File.lock.locked { chdf5_read_strings(id, dataset, &names, &err, err.count) }
        try check(n, err, "reading strings \(dataset)")
        defer { chdf5_free_names(names, n) }
        return (0..<Int(n)).map { String(cString: names![$0]!) }
    }

    public enum Attribute: Equatable { case string(String), int(Int), double(Double), other }

    /// Every attribute of the object at `objectPath` ("/" for the root).
    public func attributes(of objectPath: String) throws -> [String: Attribute] {
        var err = [CChar](repeating: 0, count: 512)
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = HDF5File.lock.locked { chdf5_list_attributes(id, objectPath, &names, &err, err.count) }
        try check(n, err, "listing attributes of \(objectPath)")
        defer { chdf5_free_names(names, n) }
        var out: [String: Attribute] = [:]
        for i in 0..<Int(n) {
            let name = String(cString: names![i]!)
            out[name] = try attribute(name, of: objectPath)
        }
        return out
    }

    public func attribute(_ name: String, of objectPath: String = "/") throws -> Attribute {
        var err = [CChar](repeating: 0, count: 512)
        return try HDF5File.lock.locked {
            switch chdf5_attribute_class(id, objectPath, name, &err, err.count) {
            case 1:
                var s: UnsafeMutablePointer<CChar>?
                try check(chdf5_read_attr_string(id, objectPath, name, &s, &err, err.count), err, "reading attribute \(name)")
                defer { free(s) }
                return .string(String(cString: s!))
            case 2:
                var v: Int64 = 0
                if chdf5_read_attr_int(id, objectPath, name, &v, &err, err.count) < 0 { return .other }
                return .int(Int(v))
            case 3:
                var v: Double = 0
                if chdf5_read_attr_double(id, objectPath, name, &v, &err, err.count) < 0 { return .other }
                return .double(v)
            case 0: return .other
            default:
                try check(-1, err, "reading attribute \(name)")
                return .other
            }
        }
    }

    // MARK: writing (tests, tools)

    public func writeFloats(_ dataset: String, shape: [Int], _ values: [Float]) throws {
        var err = [CChar](repeating: 0, count: 512)
        let dims = shape.map { UInt64($0) }
        let rc = HDF5File.lock.locked { chdf5_write_float(id, dataset, Int32(shape.count), dims, values, &err, err.count) }
        try check(rc, err, "writing \(dataset)")
    }

    public func writeAttribute(_ name: String, _ value: String, on objectPath: String = "/") throws {
        var err = [CChar](repeating: 0, count: 512)
        let rc = HDF5File.lock.locked { chdf5_write_attr_string(id, objectPath, name, value, &err, err.count) }
        try check(rc, err, "writing attribute \(name)")
    }

    public func writeAttribute(_ name: String, _ value: Int, on objectPath: String = "/") throws {
        var err = [CChar](repeating: 0, count: 512)
        let rc = HDF5File.lock.locked { chdf5_write_attr_int(id, objectPath, name, Int64(value), &err, err.count) }
        try check(rc, err, "writing attribute \(name)")
    }
}
