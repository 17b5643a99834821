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
    /// The file's size: no dataset can declare more data than this (times deflate's ratio when compressed).
    public let fileBytes: Int
    static let lock = NSLockLike()

    public struct DatasetInfo: Equatable {
        public enum Kind: Equatable { case float, integer, string, other }
        public let shape: [Int]
        public let kind: Kind
        /// Bytes per element as stored.
        public let elementSize: Int
        public let littleEndian: Bool
        /// An empty (H5S_NULL) dataspace: rank 0 like a scalar, but no value at all.
        public let isNullSpace: Bool
        /// Stored through a filter (deflate, ...), so it may hold more bytes than it occupies.
        public let isFiltered: Bool
        /// Numbers stored in one unfiltered piece of exactly `count × elementSize` bytes inside the file, opened
        /// read-only: their byte address, so the values are read from the file without libhdf5's H5Dread.
        public var contiguousAt: Int? = nil
        /// Elements (0 for a null dataspace). `info` has checked that count × elementSize does not overflow.
        public var count: Int { isNullSpace ? 0 : shape.reduce(1, *) }
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

    /// Limits for the child process that reads a file with libhdf5 before this process does (chdf5_probe): a
    /// file that makes libhdf5 crash, hang or allocate without bound there is refused. nil: no child.
    nonisolated(unsafe) public static var containment: (memoryMb: Int, seconds: Double)? = (2048, 60)
    /// Files already read safely in a child (device, inode, size, change time): one child per file and process.
    nonisolated(unsafe) static var contained = Set<String>()

    static func contain(_ path: String, limits: (memoryMb: Int, seconds: Double)?) throws {
        guard let limits else { return }
        var st = stat()
        guard stat(path, &st) == 0 else { return }  // the open below says why
        let identity = "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)"
        if lock.locked({ contained.contains(identity) }) { return }
        var err = [CChar](repeating: 0, count: 256)
        let rc = chdf5_probe(path, limits.memoryMb, limits.seconds, &err, err.count)
        guard rc != 1 else {
            throw WeightsError("hdf5.unsafe", "'\(path)' is a damaged HDF5 file: reading it with libhdf5 in a child process failed (\(String(cString: err))); re-export or re-copy it")
        }
        if rc == 0 { lock.locked { _ = contained.insert(identity) } }
    }

    /// Opened read-only by `init(path:)`: what is on disk is what libhdf5 would read.
    private let readOnly: Bool
    /// Read datasets stored in one piece with pread (tests turn it off to compare with H5Dread's values).
    var directReads = true

    public convenience init(path: String) throws {
        try self.init(path: path, containment: HDF5File.containment)
    }

    /// `containment`: the child's limits (tests pass nil to reach the checks behind it).
    public init(path: String, containment: (memoryMb: Int, seconds: Double)?) throws {
        self.path = path
        readOnly = true
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
        let bytes = try MappedFile(path: path)
        try ObjectHeaderCheck.check(bytes)  // before libhdf5 loads the root group's header
        try LocalHeapCheck.check(bytes)  // before it loads any group's link names
        try GlobalHeapCheck.check(bytes)  // before it reads any variable-length value
        try HDF5File.contain(path, limits: containment)  // and what no check knows: libhdf5 reads it in a child first
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
        var st = stat()
        fileBytes = stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    private init(created path: String, id: chdf5_id) {
        self.path = path
        self.id = id
        readOnly = false
        fileBytes = Int.max
    }

    /// deflate's largest compression ratio (1032:1): a filtered dataset can hold at most this many times the
    /// bytes of the file (zlib's technical details; other filters are not used by clip-hdf5 writers).
    static let maxFilterRatio = 1032

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

    func rawInfo(_ dataset: String) throws -> chdf5_info {
        var err = [CChar](repeating: 0, count: 512)
        var i = chdf5_info()
        let rc = HDF5File.lock.locked { chdf5_dataset_info(id, dataset, &i, &err, err.count) }
        try check(rc, err, "reading the description of \(dataset)")
        return i
    }

    public func info(_ dataset: String) throws -> DatasetInfo { try describe(dataset).info }

    /// The checked description of a dataset, and libhdf5's raw one (layout, address, storage size).
    private func describe(_ dataset: String) throws -> (info: DatasetInfo, raw: chdf5_info) {
        let i = try rawInfo(dataset)
        let dims = withUnsafeBytes(of: i.dims) { Array($0.bindMemory(to: UInt64.self).prefix(Int(i.rank))) }
        let kind: DatasetInfo.Kind = switch Int32(i.type_class) {
        case Int32(CHDF5_FLOAT.rawValue): .float
        case Int32(CHDF5_INTEGER.rawValue): .integer
        case Int32(CHDF5_STRING.rawValue): .string
        default: .other
        }
        let shape = dims.compactMap { Int(exactly: $0) }
        guard shape.count == dims.count else {
            throw WeightsError("weights.size", "dataset '\(dataset)' in '\(path)' has shape \(dims), with a dimension beyond 2^63; the file is corrupt")
        }
        var d = DatasetInfo(shape: shape, kind: kind, elementSize: i.type_size, littleEndian: i.is_little_endian != 0,
                            isNullSpace: i.is_null_space != 0, isFiltered: i.is_filtered != 0)
        try checkSize(d, dataset)
        let at = try checkStorage(d, i, dataset)
        if readOnly, directReads { d.contiguousAt = at }
        return (d, i)
    }

    /// An unfiltered number dataset stored in one piece (compact or contiguous) must occupy exactly its shape's
    /// bytes, and a contiguous one lie inside the file. libhdf5 1.10.8 checks neither: it sizes its read buffer
    /// by the layout and copies the shape's bytes out of it (make fuzz found the heap overflow in H5Dread).
    /// Returns the byte address of a contiguous one's values, checked, or nil.
    private func checkStorage(_ d: DatasetInfo, _ raw: chdf5_info, _ dataset: String) throws -> Int? {
        guard !d.isNullSpace, !d.isFiltered, d.kind == .float || d.kind == .integer,
              raw.layout == 0 || raw.layout == 1 else { return nil }
        let needs = UInt64(d.count * d.elementSize)  // checkSize: no overflow, at most the file's size
        let contiguous = raw.layout == 1
        let unallocated = contiguous && raw.storage_size == 0 && raw.offset == UInt64.max  // fill values
        guard unallocated || raw.storage_size == needs else {
            throw WeightsError("hdf5.corrupt", "dataset '\(dataset)' in '\(path)' stores \(raw.storage_size) bytes (\(contiguous ? "contiguous" : "compact") layout) but its shape needs \(needs) (shape \(d.shape), \(d.dtypeName)); the file is corrupt")
        }
        // (No address with a size: external storage, or fill values; libhdf5 reads no bytes of this file.)
        guard contiguous, raw.offset != UInt64.max else { return nil }
        let (end, overflow) = raw.offset.addingReportingOverflow(raw.storage_size)
        guard !overflow, end <= UInt64(fileBytes) else {
            throw WeightsError("hdf5.corrupt", "dataset '\(dataset)' in '\(path)' has its \(raw.storage_size) bytes at byte \(raw.offset), past the file's end (\(fileBytes) bytes); the file is corrupt or truncated")
        }
        return Int(raw.offset)
    }

    /// A dataset's declared size, in checked arithmetic, must fit in the file (`maxFilterRatio` times it when
    /// compressed): a corrupt header declaring 2^62 elements is an error before any count is used.
    private func checkSize(_ d: DatasetInfo, _ dataset: String) throws {
        guard let bytes = CheckedSize.bytes(d.shape, elementSize: d.elementSize) else {
            throw WeightsError("weights.size", "dataset '\(dataset)' in '\(path)' has shape \(d.shape) of \(d.dtypeName), whose size in bytes overflows; the file is corrupt")
        }
        let capacity = d.isFiltered ? (CheckedSize.product(fileBytes, HDF5File.maxFilterRatio) ?? Int.max) : fileBytes
        guard bytes <= capacity else {
            let how = d.isFiltered ? " even at deflate's best compression ratio" : ""
            throw WeightsError("weights.size", "dataset '\(dataset)' in '\(path)' declares \(bytes) bytes (shape \(d.shape), \(d.dtypeName)), more than the file holds\(how) (\(fileBytes) bytes); the file is corrupt or truncated")
        }
    }

    /// Reads a numeric dataset as float32 into `out` (count must match), converting in libhdf5 unless it is
    /// little-endian float32 stored in one piece, which is read from the file as it is.
    public func readFloat(_ dataset: String, into out: UnsafeMutableBufferPointer<Float>) throws {
        let d = try info(dataset)
        try requireCount(d, out.count, dataset)
        if d.kind == .float, d.elementSize == 4, d.littleEndian, isLittleEndianHost, let at = d.contiguousAt {
            return try readContiguous(at, into: UnsafeMutableRawBufferPointer(out), dataset)
        }
        var err = [CChar](repeating: 0, count: 512)
        let rc = HDF5File.lock.locked { chdf5_read_float(id, dataset, out.baseAddress, &err, err.count) }
        try check(rc, err, "reading \(dataset)")
    }

    /// Reads the stored bytes of a dataset without conversion.
    public func readRaw(_ dataset: String, into out: UnsafeMutableRawBufferPointer) throws {
        let d = try info(dataset)
        guard d.kind == .float || d.kind == .integer, out.count == d.count * d.elementSize else {
            throw WeightsError("hdf5.read", "reading \(dataset) in '\(path)': \(out.count) bytes asked for, the dataset holds \(d.count) × \(d.elementSize) (\(d.dtypeName))")
        }
        if let at = d.contiguousAt { return try readContiguous(at, into: out, dataset) }
        var err = [CChar](repeating: 0, count: 512)
        let rc = HDF5File.lock.locked { chdf5_read_raw(id, dataset, out.baseAddress, &err, err.count) }
        try check(rc, err, "reading \(dataset)")
    }

    private var isLittleEndianHost: Bool { 1.littleEndian == 1 }

    private func requireCount(_ d: DatasetInfo, _ count: Int, _ dataset: String) throws {
        guard d.kind == .float || d.kind == .integer, count == d.count else {
            throw WeightsError("hdf5.read", "reading \(dataset) in '\(path)': room for \(count) values, the dataset holds \(d.count) (\(d.dtypeName))")
        }
    }

    /// The bytes of a dataset `info` found stored in one piece, read with pread (no libhdf5 call: 1.10.8's
    /// H5Dread trusts a damaged layout; see `checkStorage`).
    private func readContiguous(_ at: Int, into out: UnsafeMutableRawBufferPointer, _ dataset: String) throws {
        do { try RegularFile.read(path, at: at, into: out) } catch let e as ClipwbError {
            throw WeightsError("hdf5.truncated", "reading \(dataset) in '\(path)' failed: \(e.message)")
        }
    }

    /// A variable-length string dataset's values are global heap ids that libhdf5 follows on trust (see
    /// HeapIds): each is checked first. They can be read only where they lie in one piece (contiguous, h5py's
    /// default for strings); chunked or compact string datasets are refused rather than read unchecked.
    private func checkHeapIds(_ d: DatasetInfo, _ raw: chdf5_info, _ dataset: String) throws {
        guard raw.layout == 1, !d.isFiltered, raw.offset != UInt64.max else {
            let layout = d.isFiltered ? "filtered (compressed)" : raw.layout == 2 ? "chunked" : raw.layout == 0 ? "compact" : "non-contiguous"
            throw WeightsError("hdf5.unsupported", "dataset '\(dataset)' in '\(path)' keeps its variable-length strings in a \(layout) layout; clipwb reads them only from contiguous datasets (h5py's default: create the dataset without chunks or compression)")
        }
        let bytes = CheckedSize.product(d.count, HeapIds.elementSize)
        guard let bytes, raw.storage_size == UInt64(bytes), raw.offset <= UInt64(fileBytes), UInt64(bytes) <= UInt64(fileBytes) - raw.offset else {
            throw WeightsError("hdf5.corrupt", "dataset '\(dataset)' in '\(path)' stores \(raw.storage_size) bytes at byte \(raw.offset) for \(d.count) variable-length strings (\(HeapIds.elementSize) bytes each) in a \(fileBytes)-byte file; the file is corrupt")
        }
        var values = [UInt8](repeating: 0, count: bytes)
        try values.withUnsafeMutableBytes { try readContiguous(Int(raw.offset), into: $0, dataset) }
        let file = try MappedFile(path: path)
        try file.withBytes { b in
            var ids = HeapIds(b, path: path)
            try values.withUnsafeBytes { v in
                for i in 0..<d.count {
                    let at = i * HeapIds.elementSize
                    if let what = try ids.problem(UnsafeRawBufferPointer(rebasing: v[at..<(at + HeapIds.elementSize)]), i, baseSize: 1) {
                        throw WeightsError("hdf5.corrupt", "'\(path)' is a damaged HDF5 file: dataset '\(dataset)' \(what); libhdf5 would crash reading it, so re-export or re-copy the file")
                    }
                }
            }
        }
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
        let (d, raw) = try describe(dataset)
        if readOnly, d.kind == .string, raw.is_vlen_string != 0, !d.isNullSpace, raw.storage_size > 0 {
            try checkHeapIds(d, raw, dataset)
        }
        var err = [CChar](repeating: 0, count: 512)
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = HDF5File.lock.locked { chdf5_read_strings(id, dataset, &names, &err, err.count) }
        try check(n, err, "reading strings \(dataset)")
        defer { chdf5_free_names(names, n) }
        return (0..<Int(n)).map { String(cString: names![$0]!) }
    }

    /// One attribute value. `array` is an attribute holding several values (or none: shape [0] for an empty,
    /// H5S_NULL dataspace) where clip-hdf5 only ever stores one; it is described, never read.
    /// `doubles`: a short numeric array (1-D, at most `shortArray` values: `image_mean`, `image_std`).
    public enum Attribute: Equatable { case string(String), int(Int), double(Double), doubles([Double]), array(shape: [Int]), other }

    /// The longest numeric array attribute that is read (clip-hdf5 stores 3-value means and deviations).
    public static let shortArray = 16

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

    /// One attribute. Strings and numbers are read only when the attribute holds exactly one value; an array
    /// (or an empty dataspace) is described as `.array(shape:)` and never read into a one-value buffer.
    public func attribute(_ name: String, of objectPath: String = "/") throws -> Attribute {
        var err = [CChar](repeating: 0, count: 512)
        return try HDF5File.lock.locked {
            var rank: Int32 = 0
            var dims = [UInt64](repeating: 0, count: 8)
            let points = chdf5_attribute_shape(id, objectPath, name, &rank, &dims, &err, err.count)
            try check(points, err, "reading attribute \(name)")
            if points > 1, rank == 1, points <= Int64(HDF5File.shortArray),
               [2, 3].contains(chdf5_attribute_class(id, objectPath, name, &err, err.count)) {
                var values = [Double](repeating: 0, count: HDF5File.shortArray)
                let n = chdf5_read_attr_doubles(id, objectPath, name, &values, values.count, &err, err.count)
                try check(n, err, "reading attribute \(name)")
                return .doubles(Array(values.prefix(Int(n))))
            }
            if points != 1 {
                return .array(shape: rank == 0 ? [0] : dims.prefix(Int(min(rank, 8))).map { Int(exactly: $0) ?? -1 })
            }
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

    /// A 1-D float64 array attribute (tests: readers must refuse it where one value is expected).
    public func writeAttribute(_ name: String, doubles values: [Double], on objectPath: String = "/") throws {
        var err = [CChar](repeating: 0, count: 512)
        let rc = HDF5File.lock.locked { chdf5_write_attr_doubles(id, objectPath, name, UInt64(values.count), values, &err, err.count) }
        try check(rc, err, "writing attribute \(name)")
    }

    /// A 1-D string array attribute, variable-length or (with `fixedSize`) fixed-length.
    public func writeAttribute(_ name: String, strings values: [String], fixedSize: Int = 0, on objectPath: String = "/") throws {
        var err = [CChar](repeating: 0, count: 512)
        let cstrings = values.map { strdup($0) }
        defer { cstrings.forEach { free($0) } }
        let rc = cstrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { p in
            HDF5File.lock.locked { chdf5_write_attr_strings(id, objectPath, name, UInt64(values.count), p.baseAddress, fixedSize, &err, err.count) }
        }
        try check(rc, err, "writing attribute \(name)")
    }

    /// A float32 dataset declared with `shape` but never written (chunked), or with `shape == nil` one with an
    /// empty (H5S_NULL) dataspace. Tests use it for huge declared shapes and empty datasets.
    public func createUnwritten(_ dataset: String, shape: [UInt64]?) throws {
        var err = [CChar](repeating: 0, count: 512)
        let dims = shape ?? []
        let rc = HDF5File.lock.locked { chdf5_create_unwritten(id, dataset, Int32(dims.count), dims, &err, err.count) }
        try check(rc, err, "creating \(dataset)")
    }
}
