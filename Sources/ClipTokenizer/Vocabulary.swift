// SimpleTokenizer.__init__: bytes_to_unicode, the merge list, the 49,408-entry vocabulary and the BPE ranks.
// Strings are kept as the UTF-8 bytes of their Python strings in one buffer and found through an
// open-addressing table, so loading is a single pass over the mapped file with no per-string allocation.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100….
/// `order[i]` is the byte whose character is vocabulary entry i (and entry 256 + i with '</w>').
enum ByteEncoder {
    static let order: [UInt8] = {
        let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        let rest = (0...255).filter { !printable.contains($0) }
        return (printable + rest).map { UInt8($0) }
    }()
    /// byte → its character in bytes_to_unicode().
    static let character: [Unicode.Scalar] = {
        var chars = [Unicode.Scalar](repeating: " ", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                chars[b] = Unicode.Scalar(UInt32(b))!
            } else {
                chars[b] = Unicode.Scalar(256 + n)!
                n += 1
            }
        }
        return chars
    }()
    /// byte_decoder: a vocabulary character back to its byte (every character of the vocabulary is one).
    static func byte(of c: Unicode.Scalar) -> UInt8 {
        c.value < 256 ? UInt8(c.value) : order[Int(c.value) - 256 + 188]
    }
    /// byte → vocabulary id of its character.
    static let id: [Int32] = {
        var ids = [Int32](repeating: 0, count: 256)
        for (i, b) in order.enumerated() { ids[Int(b)] = Int32(i) }
        return ids
    }()
}

struct Vocabulary: Sendable {
    static let mergeCount = 49152 - 256 - 2   // merges[1:49152-256-2+1]: 48,894 lines after the header
    static let size = 512 + mergeCount + 2    // 49,408
    static let startOfText: Int32 = 49406, endOfText: Int32 = 49407

    /// UTF-8 of every vocabulary string, id after id; string i is storage[starts[i]..<starts[i+1]].
    let storage: [UInt8]
    let starts: [Int32]
    /// self.encoder: string → id; equal strings keep the last id, as dict(zip(vocab, range(len(vocab)))) does.
    private let slots: [Int32]
    /// self.bpe_ranks: (first id, second id) → rank << 32 | id of first+second.
    private let pairKeys: [UInt64]
    private let pairValues: [UInt64]

    /// Parses the merges file: its "#version" header line, then 48,894 lines "first second".
    init(mergesFile data: UnsafeBufferPointer<UInt8>) throws {
        var lines: [(start: Int, space: Int, end: Int)] = []
        lines.reserveCapacity(Self.mergeCount)
        var pos = (data.firstIndex(of: 0x0A) ?? data.count) + 1
        while lines.count < Self.mergeCount && pos < data.count {
            var end = pos, space = -1
            while end < data.count && data[end] != 0x0A {
                if data[end] == 0x20 && space < 0 { space = end }
                end += 1
            }
            guard space > pos, space + 1 < end else {
                throw TokenizerError.corruptVocabulary("line \(lines.count + 2) is not a merge \"first second\"")
            }
            lines.append((pos, space, end))
            pos = end + 1
        }
        guard lines.count == Self.mergeCount else {
            throw TokenizerError.corruptVocabulary("it has \(lines.count) merges; CLIP's vocabulary has \(Self.mergeCount)")
        }
        // vocab = byte characters, the same + '</w>', merges joined, '<|startoftext|>', '<|endoftext|>'
        var storage: [UInt8] = []
        storage.reserveCapacity(data.count + 4096)
        var starts: [Int32] = []
        starts.reserveCapacity(Self.size + 1)
        for withEnd in [false, true] {
            for b in ByteEncoder.order {
                starts.append(Int32(storage.count))
                storage.append(contentsOf: String(ByteEncoder.character[Int(b)]).utf8)
                if withEnd { storage.append(contentsOf: "</w>".utf8) }
            }
        }
        for line in lines {
            starts.append(Int32(storage.count))
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: data[line.start..<line.space]))
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: data[(line.space + 1)..<line.end]))
        }
        for special in ["<|startoftext|>", "<|endoftext|>"] {
            starts.append(Int32(storage.count))
            storage.append(contentsOf: special.utf8)
        }
        starts.append(Int32(storage.count))

        var slots = [Int32](repeating: -1, count: 1 << 17)
        var pairKeys = [UInt64](repeating: .max, count: 1 << 17)
        var pairValues = [UInt64](repeating: 0, count: 1 << 17)
        storage.withUnsafeBufferPointer { storage in
            starts.withUnsafeBufferPointer { starts in
                slots.withUnsafeMutableBufferPointer { slots in
                    pairKeys.withUnsafeMutableBufferPointer { pairKeys in
                        pairValues.withUnsafeMutableBufferPointer { pairValues in
                            let table = StringTable(storage: storage, starts: starts, slots: slots)
                            var slotOf = [Int32](repeating: 0, count: Self.size)
                            for id in 0..<Self.size { slotOf[id] = Int32(table.insert(Int32(id))) }
                            for (rank, line) in lines.enumerated() {
                                let a = table.find(UnsafeBufferPointer(rebasing: data[line.start..<line.space]))
                                let b = table.find(UnsafeBufferPointer(rebasing: data[(line.space + 1)..<line.end]))
                                guard a >= 0, b >= 0 else { continue }  // a part no word can contain: never applies
                                let merged = slots[Int(slotOf[512 + rank])]  // encoder[first + second]
                                let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
                                var slot = Int(truncatingIfNeeded: Self.mix(key)) & (pairKeys.count - 1)
                                while pairKeys[slot] != .max && pairKeys[slot] != key {
                                    slot = (slot + 1) & (pairKeys.count - 1)
                                }
                                pairKeys[slot] = key  // a repeated pair keeps its last rank, like dict(zip(merges, …))
                                pairValues[slot] = UInt64(rank) << 32 | UInt64(UInt32(merged))
                            }
                        }
                    }
                }
            }
        }
        self.storage = storage
        self.starts = starts
        self.slots = slots
        self.pairKeys = pairKeys
        self.pairValues = pairValues
    }

    /// Open addressing over the strings in `storage`, used while loading.
    private struct StringTable {
        let storage: UnsafeBufferPointer<UInt8>
        let starts: UnsafeBufferPointer<Int32>
        let slots: UnsafeMutableBufferPointer<Int32>

        func string(_ id: Int32) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: storage[Int(starts[Int(id)])..<Int(starts[Int(id) + 1])])
        }

        /// The slot of `bytes`, or the empty slot where it would go.
        func slot(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            var slot = Int(truncatingIfNeeded: Vocabulary.mix(h)) & (slots.count - 1)
            while slots[slot] >= 0 {
                let other = string(slots[slot])
                if other.count == bytes.count && memcmp(other.baseAddress!, bytes.baseAddress!, bytes.count) == 0 {
                    return slot
                }
                slot = (slot + 1) & (slots.count - 1)
            }
            return slot
        }

        /// Later ids replace earlier ones for equal strings, as dict(zip(vocab, range(len(vocab)))) does.
        func insert(_ id: Int32) -> Int {
            let s = slot(string(id))
            slots[s] = id
            return s
        }
        func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 { slots[slot(bytes)] }
    }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// bpe_ranks.get((first, second)): the merge's rank and the id of the joined string.
    @inline(__always) func merge(_ first: Int32, _ second: Int32) -> (rank: UInt32, merged: Int32)? {
        let key = UInt64(UInt32(first)) << 32 | UInt64(UInt32(second))
        var slot = Int(truncatingIfNeeded: Self.mix(key)) & (pairKeys.count - 1)
        while pairKeys[slot] != .max {
            if pairKeys[slot] == key {
                let v = pairValues[slot]
                return (UInt32(v >> 32), Int32(truncatingIfNeeded: v & 0xFFFF_FFFF))
            }
            slot = (slot + 1) & (pairKeys.count - 1)
        }
        return nil
    }

    /// self.decoder[id] as UTF-8 bytes of the vocabulary string.
    func string(_ id: Int32) -> ArraySlice<UInt8> { storage[Int(starts[Int(id)])..<Int(starts[Int(id) + 1])] }
}
