// libhdf5 1.10.8 trusts a global heap collection's object sizes (its deserializer only asserts, and asserts are
// compiled out of Debian's build): a mutated size makes H5HG_read copy past the collection (SIGSEGV in memcpy)
// or spin forever. Variable-length strings (every h5py string attribute, the reference file's names) live in
// these collections, and unlike v2 object headers they carry no checksum. So before libhdf5 opens a file, every
// collection in it is walked the way libhdf5's H5HG__cache_heap_deserialize walks it, and must be consistent.
// Layout (HDF5 file format spec, "Global Heap"): "GCOL", version 1, 3 reserved bytes, collection size; then
// objects of index (2), reference count (2), reserved (4), size, data padded to 8 bytes; index 0 is the free
// space that runs to the end of the collection.
#if canImport(Glibc)
import Glibc
#endif
import ClipCore

enum GlobalHeapCheck {
    /// "GCOL" and version 1. The 3 reserved bytes after it are not part of it: libhdf5 never reads them (a fuzzed
    /// collection with a reserved byte set hung libhdf5 while this check, matching them as zeros, skipped it).
    static let signature: [UInt8] = Array("GCOL".utf8) + [1]
    static let headerSize = 16, objectHeaderSize = 16

    /// Throws `hdf5.corrupt` naming the first inconsistent collection. Files whose superblock is not at byte 0
    /// or whose lengths are not 8 bytes (neither is written by h5py or libhdf5's defaults) are not checked.
    static func check(_ f: MappedFile) throws {
        try f.withBytes { b in
            guard lengthSize(b) == 8 else { return }
            for at in offsets(of: signature, in: b) {
                // Reserved bytes set and a size no collection here can have: five bytes that happen to spell
                // "GCOL", 1 inside other data (tensor values), not a collection; libhdf5 reaches collections only
                // through addresses, and one it reached with such a size would fail its own read.
                if at + headerSize <= b.count, b[at + 5] | b[at + 6] | b[at + 7] != 0 {
                    let size = b.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)
                    guard size >= UInt64(headerSize), size <= UInt64(b.count - at) else { continue }
                }
                try walk(b, collection: at, path: f.path)
            }
        }
    }

    /// Every offset where `signature` starts: memchr for the first byte, then compare the rest (memmem is a GNU
    /// extension Swift does not see).
    static func offsets(of signature: [UInt8], in b: UnsafeRawBufferPointer) -> [Int] {
        guard let base = b.baseAddress else { return [] }
        var out: [Int] = []
        var from = 0
        while from + signature.count <= b.count, let hit = memchr(base + from, Int32(signature[0]), b.count - from) {
            let at = UnsafeRawPointer(hit) - base
            guard at + signature.count <= b.count else { break }
            if memcmp(hit, signature, signature.count) == 0 { out.append(at) }
            from = at + 1
        }
        return out
    }

    /// The superblock's "size of lengths" (versions 0/1: byte 14; 2/3: byte 10), nil without a superblock at 0.
    static func lengthSize(_ b: UnsafeRawBufferPointer) -> Int? {
        let magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        guard b.count >= 16, Array(b[0..<8]) == magic else { return nil }
        switch b[8] {
        case 0, 1: return Int(b[14])
        case 2, 3: return Int(b[10])
        default: return nil
        }
    }

    /// Walks the collection at `at` and returns its objects' sizes by index (not 0, the free space).
    @discardableResult
    static func walk(_ b: UnsafeRawBufferPointer, collection at: Int, path: String) throws -> [UInt16: UInt64] {
        func bad(_ what: String) -> WeightsError {
            WeightsError("hdf5.corrupt", "'\(path)' is a damaged HDF5 file: its global heap collection at byte \(at) (where variable-length strings are kept) \(what); libhdf5 would crash or hang reading it, so re-export or re-copy the file")
        }
        guard at + headerSize <= b.count else { throw bad("is cut off by the end of the file") }
        let size = b.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)
        guard size >= UInt64(headerSize), size <= UInt64(b.count - at) else {
            throw bad("declares \(size) bytes, which run past the end of the file (\(b.count) bytes)")
        }
        let end = at + Int(size)
        var p = at + headerSize
        var seen: [UInt16: UInt64] = [:]
        // As libhdf5: fewer bytes than an object header at the end are free space.
        while end - p >= objectHeaderSize {
            let index = b.loadUnaligned(fromByteOffset: p, as: UInt16.self)
            let objectSize = b.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self)
            let left = end - p
            if index == 0 {
                guard objectSize == UInt64(left) else {
                    throw bad("has free space of \(objectSize) bytes where \(left) remain")
                }
                return seen
            }
            // Header + data rounded up to 8 bytes, compared without overflow.
            guard objectSize <= UInt64(left), objectHeaderSize + (Int(objectSize) + 7) / 8 * 8 <= left else {
                throw bad("has object \(index) of \(objectSize) bytes, more than the \(left - objectHeaderSize) left in the collection")
            }
            guard seen.updateValue(objectSize, forKey: index) == nil else { throw bad("holds object \(index) twice") }
            p += objectHeaderSize + (Int(objectSize) + 7) / 8 * 8
        }
        return seen
    }

    /// The objects of the collection at byte `at`, or nil when no collection starts there.
    static func objects(_ b: UnsafeRawBufferPointer, at: Int, path: String) throws -> [UInt16: UInt64]? {
        guard at >= 0, at + signature.count <= b.count, b[at..<(at + signature.count)].elementsEqual(signature) else { return nil }
        return try walk(b, collection: at, path: path)
    }
}

/// Variable-length values (strings) as stored: per element a 4-byte length (in base elements), then a global heap
/// id, the collection's 8-byte address and a 4-byte object index. libhdf5 1.10.8's H5HG_read trusts the id: an
/// index the collection does not hold reads past its table of objects (SIGSEGV), and it copies the whole object
/// into a buffer sized by the length before comparing the two (a heap overflow). So each id is checked first.
struct HeapIds {
    static let elementSize = 16
    let file: UnsafeRawBufferPointer
    let path: String
    private var collections: [UInt64: [UInt16: UInt64]?] = [:]

    init(_ file: UnsafeRawBufferPointer, path: String) {
        self.file = file
        self.path = path
    }

    /// What is wrong with value `i` (16 bytes at `value`), `baseSize` bytes per element of its sequence (1 for
    /// strings; nil when unknown: the size is not compared), or nil. No collection at the address is libhdf5's
    /// own clean error (bad signature, or past the end), and address 0 is an empty value it does not look up.
    mutating func problem(_ value: UnsafeRawBufferPointer, _ i: Int, baseSize: Int?) throws -> String? {
        let length = value.loadUnaligned(as: UInt32.self)
        let (address, index) = (value.loadUnaligned(fromByteOffset: 4, as: UInt64.self), value.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard address != 0, address < UInt64(file.count) else { return nil }
        if collections[address] == nil {
            collections[address] = try GlobalHeapCheck.objects(file, at: Int(address), path: path)
        }
        guard let objects = collections[address] ?? nil else { return nil }
        guard index <= UInt32(UInt16.max), let size = objects[UInt16(index)] else {
            return "holds a variable-length value \(i) stored as object \(index) of the global heap collection at byte \(address), which holds no such object"
        }
        if let baseSize, let expected = CheckedSize.product(Int(length), baseSize), size != UInt64(expected) {
            return "holds a variable-length value \(i) of \(length) elements (\(expected) bytes) stored as object \(index) of the global heap collection at byte \(address), which holds \(size) bytes"
        }
        return nil
    }
}
