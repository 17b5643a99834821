// libhdf5 1.10.8 follows a local heap's free list without looking for a loop. When it loads a heap (to look up a
// link name, to list a group), H5HL__fl_deserialize starts at the heap's first free block and, for each block,
// allocates a 32-byte list node, then reads the block's "next" offset; it stops only at the end marker (1) or at
// an offset out of range. A block whose next offset is its own, or an earlier block's, makes it allocate 32-byte
// nodes until memory runs out: the fuzzer's file (one byte of /state_dict's heap changed) made it allocate 38
// million of them (libFuzzer: out-of-memory at 2.4 GB; `clipwb inspect`: 23.5 GB). Local heaps hold the link
// names of every group in libhdf5's default format (h5py's files, clipwb's own writer), and carry no checksum.
// So before libhdf5 opens a file, every local heap in it is found by its signature ("HEAP", version 0: libhdf5
// checks both before decoding one, so no other bytes can be read as a heap) and its free list is followed the
// way libhdf5 follows it; it must end. Layout (HDF5 file format spec, "Local Heaps"): "HEAP", version, 3 reserved
// bytes, data segment size (L), offset of the first free block (L; 1 = none), data segment address (O); a free
// block in the data segment starts with the offset of the next free block (L; 1 = none) and its own size (L).
// L and O are the superblock's sizes of lengths and offsets; addresses count from the superblock, which libhdf5
// looks for at byte 0, 512, 1024, 2048... (a file with a user block).
import ClipCore

enum LocalHeapCheck {
    static let signature: [UInt8] = Array("HEAP".utf8) + [0]  // with version 0; the reserved bytes are not read
    static let endOfList: UInt64 = 1

    /// Throws `hdf5.corrupt` naming the first heap whose free list loops or whose free block runs past its data
    /// segment. Files without a superblock libhdf5 would find are left to libhdf5.
    static func check(_ f: MappedFile) throws {
        try f.withBytes { b in
            guard let s = superblock(b) else { return }
            // In a file libhdf5 wrote, free blocks do not overlap and each holds its 2 × L header, so all the
            // heaps of a file together have at most count / (2 × L) of them: more steps than that means blocks
            // shared or overlapping. This bounds the whole check by the file's size, however many heaps name
            // the same data segment.
            var budget = b.count / (2 * s.lengthSize)
            for at in GlobalHeapCheck.offsets(of: signature, in: b) {
                try walk(b, heap: at, s, budget: &budget, path: f.path)
            }
        }
    }

    struct Superblock { let base: Int, offsetSize: Int, lengthSize: Int }

    /// Where libhdf5 would find the superblock (the first signature at byte 0 or a power of two from 512), with
    /// the sizes it gives; nil if there is none or its sizes are not 2, 4 or 8 bytes (libhdf5 refuses others but
    /// 16 and 32, which no writer uses). libhdf5 takes the superblock's position as the base of all addresses.
    static func superblock(_ b: UnsafeRawBufferPointer) -> Superblock? {
        let magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        var at = 0
        while at <= b.count - 16 {
            if Array(b[at..<(at + 8)]) == magic {
                let (o, l): (UInt8, UInt8) = b[at + 8] <= 1 ? (b[at + 13], b[at + 14]) : (b[at + 9], b[at + 10])
                guard [2, 4, 8].contains(o), [2, 4, 8].contains(l) else { return nil }
                return Superblock(base: at, offsetSize: Int(o), lengthSize: Int(l))
            }
            guard at <= b.count / 2 else { return nil }  // the next candidate is past the end (and no overflow)
            at = at == 0 ? 512 : at * 2
        }
        return nil
    }

    /// A little-endian unsigned integer of `size` (2, 4 or 8) bytes; the caller has checked it is in `b`.
    static func load(_ b: UnsafeRawBufferPointer, _ at: Int, _ size: Int) -> UInt64 {
        switch size {
        case 2: UInt64(b.loadUnaligned(fromByteOffset: at, as: UInt16.self))
        case 4: UInt64(b.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        default: b.loadUnaligned(fromByteOffset: at, as: UInt64.self)
        }
    }

    static func walk(_ b: UnsafeRawBufferPointer, heap at: Int, _ s: Superblock, budget: inout Int, path: String) throws {
        let l = s.lengthSize
        guard at <= b.count - 8 - 2 * l - s.offsetSize else { return }  // cut off: libhdf5 cannot read it either
        let size = load(b, at + 8, l), first = load(b, at + 8 + l, l), address = load(b, at + 8 + 2 * l, s.offsetSize)
        // libhdf5 refuses a first free block outside the data segment itself; an empty list allocates nothing.
        guard first != endOfList, first < size else { return }
        // The data segment must be in the file for libhdf5 to read it (beyond it: "addr overflow" or, when the
        // superblock claims more bytes than the file has, "truncated file" at open).
        let room = UInt64(b.count - s.base)
        guard address <= room, size <= room - address else { return }
        let data = s.base + Int(address)
        func bad(_ what: String, _ consequence: String = "follow it allocating memory without end") -> WeightsError {
            WeightsError("hdf5.corrupt", "'\(path)' is a damaged HDF5 file: the free list of its local heap at byte \(at) (where a group's link names are kept; data segment of \(size) bytes at byte \(data)) \(what); libhdf5 would \(consequence), so re-export or re-copy the file")
        }
        var seen = Set<UInt64>()
        var offset = first
        while offset != endOfList {
            guard offset < size else { return }  // libhdf5: "bad heap free list"
            // libhdf5 reads the block's two lengths before it checks the block against the segment.
            guard UInt64(2 * l) <= size - offset else {
                throw bad("has a free block at offset \(offset) whose \(2 * l)-byte header runs past the segment's end",
                          "read past the memory it holds the segment in")
            }
            guard seen.insert(offset).inserted else {
                throw bad("comes back to the free block at offset \(offset) (byte \(data + Int(offset))) after \(seen.count) block\(seen.count == 1 ? "" : "s")")
            }
            budget -= 1
            guard budget >= 0 else {
                throw bad("reaches more free blocks than the whole file can hold without overlapping (\(b.count / (2 * l)))",
                          "allocate a list node for every one")
            }
            let next = load(b, data + Int(offset), l), blockSize = load(b, data + Int(offset) + l, l)
            // libhdf5 refuses a next offset of 0 and a block that runs past the segment.
            guard next != 0, blockSize <= size - offset else { return }
            offset = next
        }
    }
}
