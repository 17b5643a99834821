// libhdf5 1.10.8 trusts two things in a version-1 object header that fuzzing (Fuzz/FuzzHDF5.swift) mutated:
// - an attribute message's dataspace: it does not check that elements × datatype size fit in the message, so
//   listing the attributes fails half-way and H5Fclose then frees the half-built attribute (SIGSEGV in
//   H5A__close);
// - a continuation message's length: it allocates the block (2^48 bytes, say) before finding it outside the file.
// So before libhdf5 opens a file, the version-1 object headers it can reach (the root group's, and every entry of
// every symbol-table node "SNOD", found by signature as GlobalHeapCheck finds its collections) are walked the way
// H5O__attr_decode and H5O__cont_decode read them: every continuation block inside the file, every attribute's
// name, datatype, dataspace and values inside its message. Layouts: HDF5 file format spec, "Version 1 Object
// Header", "Attribute Message", "Dataspace Message", "Object Header Continuation Message", "Symbol Table Node".
// Version-2 object headers ("OHDR") are not walked: libhdf5 verifies their checksum first.
import ClipCore

enum ObjectHeaderCheck {
    static let attributeType: UInt16 = 0x000C, continuationType: UInt16 = 0x0010
    // With version 1. Like libhdf5, nothing here requires a reserved byte to be zero (it skips them unread).
    static let nodeSignature: [UInt8] = Array("SNOD".utf8) + [1]
    static let entrySize = 40, maxRank = 32

    /// Throws `hdf5.corrupt` naming the first inconsistent message. As GlobalHeapCheck: only files with the
    /// superblock (version 0 or 1) at byte 0 and 8-byte offsets and lengths, h5py's and libhdf5's defaults; and
    /// only files as long as their superblock says (libhdf5 reports a truncated file itself, at open).
    static func check(_ f: MappedFile) throws {
        try f.withBytes { b in
            // Superblock version 1 has 4 more bytes (indexed-storage K, reserved) before the base address.
            let shift = b.count >= 72 && b[8] == 1 ? 4 : 0
            // The base address and end-of-file address are not consulted: for a superblock at byte 0 libhdf5
            // counts addresses from byte 0 whatever base address it declares (it moves the base, and the end of
            // file with it, to the superblock), so a mutated base must not switch this walk off (make fuzz:
            // base 65,280 hid an attribute of datatype version 6 that crashed libhdf5 in H5A__close).
            guard GlobalHeapCheck.lengthSize(b) == 8, b.count >= 72, b[8] <= 1, b[13] == 8 else { return }
            // The root group's symbol-table entry holds its object header's address.
            var headers = [b.loadUnaligned(fromByteOffset: 64 + shift, as: UInt64.self)]
            for at in GlobalHeapCheck.offsets(of: nodeSignature, in: b) where at + 8 <= b.count {
                let count = Int(b.loadUnaligned(fromByteOffset: at + 6, as: UInt16.self))
                for i in 0..<count where at + 8 + (i + 1) * entrySize <= b.count {
                    headers.append(b.loadUnaligned(fromByteOffset: at + 8 + i * entrySize + 8, as: UInt64.self))
                }
            }
            var walked = Set<UInt64>()
            var ids = HeapIds(b, path: f.path)
            for h in headers where h < UInt64(b.count) && walked.insert(h).inserted {
                try walkHeader(b, at: Int(h), path: f.path, ids: &ids)
            }
        }
    }

    /// A version-1 object header: version 1, a reserved byte, message count, reference count, header size, then
    /// messages (type, size, flags, 3 reserved bytes, data) from byte 16, continued in the blocks 0x0010 names.
    static let layoutType: UInt16 = 0x0008

    static func walkHeader(_ b: UnsafeRawBufferPointer, at: Int, path: String, ids: inout HeapIds) throws {
        guard at + 16 <= b.count, b[at] == 1 else { return }  // not version 1: libhdf5 judges it
        var blocks = [(at + 16, at + 16 + Int(b.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self)))]
        var seen = Set<Int>()
        while let (start, end) = blocks.popLast(), seen.insert(start).inserted {
            var p = start
            while p + 8 <= min(end, b.count) {
                let type = b.loadUnaligned(fromByteOffset: p, as: UInt16.self)
                let size = Int(b.loadUnaligned(fromByteOffset: p + 2, as: UInt16.self))
                let shared = b[p + 4] & 0x02 != 0
                guard p + 8 + size <= b.count else { return }  // libhdf5 refuses a message past the end itself
                let data = UnsafeRawBufferPointer(rebasing: b[(p + 8)..<(p + 8 + size)])
                func bad(_ what: String) -> WeightsError {
                    WeightsError("hdf5.corrupt", "'\(path)' is a damaged HDF5 file: the \(what) (object header at byte \(at)); libhdf5 would crash reading it, so re-export or re-copy the file")
                }
                if type == continuationType, size >= 16 {
                    let (a, n) = (data.loadUnaligned(as: UInt64.self), data.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                    guard a < UInt64(b.count), n <= UInt64(b.count) - a else {
                        throw bad("continuation message at byte \(p + 8) names a block of \(n) bytes at byte \(a), outside the file's \(b.count) bytes")
                    }
                    blocks.append((Int(a), Int(a + n)))
                } else if type == attributeType, !shared, let what = try problem(attribute: data, fileSize: b.count, ids: &ids) {
                    throw bad("attribute message at byte \(p + 8) \(what)")
                } else if type == layoutType, size >= 1, data[0] < 3 {
                    // Layout versions 1 and 2 (HDF5 before 1.6.3; h5py and libhdf5 1.8+ write 3) are read with no
                    // check that a compact dataset's data is as long as the dataset: make fuzz turned a version-3
                    // message into version 2 and libhdf5 1.10.8 memcpy'd into NULL in H5Dread.
                    throw WeightsError("hdf5.corrupt", "'\(path)': the dataset at object header byte \(at) has a data layout message of version \(data[0]) (HDF5 before 1.6.3), which clipwb does not read (libhdf5 crashes on damaged ones); re-save the file with h5py or a current libhdf5")
                }
                p += 8 + size
            }
        }
    }

    /// What is wrong with one attribute message, or nil. Version 1 pads name, datatype and dataspace to 8 bytes;
    /// versions 2 and 3 do not, and flag a shared datatype or dataspace (stored elsewhere: not checked here).
    static func problem(attribute d: UnsafeRawBufferPointer, fileSize: Int, ids: inout HeapIds) throws -> String? {
        guard d.count >= 8, (1...3).contains(d[0]) else { return nil }  // another version: libhdf5 refuses it
        let version = Int(d[0])
        if version >= 2 && d[1] & 0x03 != 0 { return nil }
        let pad = { (n: Int) in version == 1 ? (n + 7) / 8 * 8 : n }
        let (nameSize, typeSize, spaceSize) = (Int(d.loadUnaligned(fromByteOffset: 2, as: UInt16.self)),
                                               Int(d.loadUnaligned(fromByteOffset: 4, as: UInt16.self)),
                                               Int(d.loadUnaligned(fromByteOffset: 6, as: UInt16.self)))
        let typeAt = (version == 3 ? 9 : 8) + pad(nameSize), spaceAt = typeAt + pad(typeSize)
        let valuesAt = spaceAt + pad(spaceSize)
        guard valuesAt <= d.count, typeSize >= 8, spaceSize >= 4 else {
            return "declares a name, datatype and dataspace of \(nameSize) + \(typeSize) + \(spaceSize) bytes, more than its \(d.count)"
        }
        // Any attribute libhdf5 fails to decode reaches the same H5A__close crash: refuse the versions and
        // classes H5O__dtype_decode and H5O__sdspace_decode refuse (datatype versions 1–3, classes 0–10;
        // dataspace versions 1–2).
        let (typeVersion, typeClass, spaceVersion) = (d[typeAt] >> 4, d[typeAt] & 0x0F, d[spaceAt])
        guard (1...3).contains(typeVersion), typeClass <= 10, (1...2).contains(spaceVersion) else {
            return "has datatype version \(typeVersion) class \(typeClass) and dataspace version \(spaceVersion), which libhdf5 cannot decode"
        }
        // A floating-point type (class 1) carries 12 bytes of properties after its 8-byte header; libhdf5 refuses
        // an exponent or mantissa of size 0 ("exponent size can't be zero") half-way through listing attributes,
        // and closing the file then frees the half-built attribute (the same H5A__close crash).
        if typeClass == 1 {
            guard typeSize >= 20 else { return "has a floating-point datatype of \(typeSize) bytes, fewer than its 20" }
            let (exponentSize, mantissaSize) = (d[typeAt + 13], d[typeAt + 15])
            guard exponentSize > 0, mantissaSize > 0 else {
                return "has a floating-point datatype with a \(exponentSize)-bit exponent and a \(mantissaSize)-bit mantissa, which libhdf5 cannot decode"
            }
        }
        let elementSize = Int(d.loadUnaligned(fromByteOffset: typeAt + 4, as: UInt32.self))
        let space = UnsafeRawBufferPointer(rebasing: d[spaceAt..<(spaceAt + spaceSize)])
        guard let count = elements(space) else { return "has a dataspace whose dimensions do not fit in it or overflow" }
        guard let bytes = CheckedSize.product(count, elementSize), bytes <= d.count - valuesAt else {
            return "holds \(count) values of \(elementSize) bytes, more than the \(d.count - valuesAt) bytes left in it"
        }
        // Variable-length (class 9) values are a 4-byte length and a global heap id (collection address, object
        // index): libhdf5 allocates the length and fills it before finding the heap object shorter (4 GB of memory
        // for a mutated string length), and reads the id on trust (make fuzz: SIGSEGV in H5HG_read; see HeapIds).
        if d[typeAt] & 0x0F == 9, elementSize >= 4 {
            // Strings (type 1) are of bytes; a sequence's base type follows the 8-byte datatype header.
            let baseSize = d[typeAt + 1] & 0x0F == 1 ? 1 : typeSize >= 16 ? Int(d.loadUnaligned(fromByteOffset: typeAt + 12, as: UInt32.self)) : nil
            for i in 0..<count {
                let at = valuesAt + i * elementSize
                let length = d.loadUnaligned(fromByteOffset: at, as: UInt32.self)
                guard Int(length) <= fileSize else {
                    return "holds a variable-length value \(i) of \(length) elements, more than the file's \(fileSize) bytes"
                }
                if elementSize >= HeapIds.elementSize,
                   let what = try ids.problem(UnsafeRawBufferPointer(rebasing: d[at..<(at + HeapIds.elementSize)]), i, baseSize: baseSize) {
                    return what
                }
            }
        }
        return nil
    }

    /// The element count of a dataspace message (version 1: 8 header bytes; version 2: 4, with a type where
    /// 0 is scalar, 1 simple, 2 null), nil if its dimensions do not fit in it or their product overflows.
    static func elements(_ s: UnsafeRawBufferPointer) -> Int? {
        let (version, rank) = (s[0], Int(s[1]))
        if version == 2 && s[3] == 2 { return 0 }
        let dimsAt = version == 1 ? 8 : 4
        guard rank <= maxRank, dimsAt + rank * 8 <= s.count else { return nil }
        var count = 1
        for i in 0..<rank {
            let d = s.loadUnaligned(fromByteOffset: dimsAt + i * 8, as: UInt64.self)
            guard d <= UInt64(Int.max), let c = CheckedSize.product(count, Int(d)) else { return nil }
            count = c
        }
        return count
    }
}
