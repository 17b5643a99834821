// Unicode NFC (UAX #15) as Python 3.11's unicodedata.normalize("NFC") computes it, from tables generated out of
// that unicodedata (Unicode 14). Not Foundation's precomposedStringWithCanonicalMapping: on Linux it folds
// tag characters into letters (U+E0061 U+0301 → "á"), and its Unicode version is not the reference's.

struct NFCData: Sendable {
    static let shared = NFCData()

    /// Full canonical decompositions (applied recursively at load).
    private let decompositions: [UInt32: [UInt32]]
    private let classes: [UInt32: UInt8]
    private let compositions: [UInt64: UInt32]

    private init() {
        var oneLevel: [UInt32: [UInt32]] = [:]
        forEachHexEntry(ReferenceUnicode.canonicalDecompositions) { oneLevel[$0[0]] = Array($0.dropFirst()) }
        func full(_ cp: UInt32) -> [UInt32] { oneLevel[cp].map { $0.flatMap(full) } ?? [cp] }
        decompositions = oneLevel.mapValues { $0.flatMap(full) }
        var classes: [UInt32: UInt8] = [:]
        forEachHexEntry(ReferenceUnicode.combiningClasses) { e in
            for cp in e[0]...e[1] { classes[cp] = UInt8(e[2]) }
        }
        self.classes = classes
        var compositions: [UInt64: UInt32] = [:]
        forEachHexEntry(ReferenceUnicode.compositions) { compositions[UInt64($0[0]) << 32 | UInt64($0[1])] = $0[2] }
        self.compositions = compositions
    }

    // Hangul syllables decompose and compose algorithmically (Unicode §3.12).
    private static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    private static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28, nCount: UInt32 = 21 * 28
    private static let sCount: UInt32 = 19 * 21 * 28

    @inline(__always) func ccc(_ cp: UInt32) -> UInt8 { cp < 0x300 ? 0 : classes[cp] ?? 0 }

    private func decompose(_ cp: UInt32, into out: inout [UInt32]) {
        if cp >= Self.sBase && cp < Self.sBase + Self.sCount {
            let s = cp - Self.sBase
            out.append(Self.lBase + s / Self.nCount)
            out.append(Self.vBase + (s % Self.nCount) / Self.tCount)
            if s % Self.tCount != 0 { out.append(Self.tBase + s % Self.tCount) }
        } else if cp >= 0xC0, let d = decompositions[cp] {
            out.append(contentsOf: d)
        } else {
            out.append(cp)
        }
    }

    private func compose(_ a: UInt32, _ b: UInt32) -> UInt32? {
        if a >= Self.lBase && a < Self.lBase + Self.lCount && b >= Self.vBase && b < Self.vBase + Self.vCount {
            return Self.sBase + ((a - Self.lBase) * Self.vCount + (b - Self.vBase)) * Self.tCount
        }
        if a >= Self.sBase && a < Self.sBase + Self.sCount && (a - Self.sBase) % Self.tCount == 0
            && b > Self.tBase && b < Self.tBase + Self.tCount {
            return a + (b - Self.tBase)
        }
        return compositions[UInt64(a) << 32 | UInt64(b)]
    }

    /// Decompose, order marks canonically, recompose.
    func nfc(_ text: Scalars) -> Scalars {
        var d: [UInt32] = []
        d.reserveCapacity(text.count + 8)
        for s in text { decompose(s.value, into: &d) }
        // Canonical ordering: a stable sort of every run of non-starters by combining class.
        if d.count > 1 {
            for i in 1..<d.count {
                var j = i
                let c = ccc(d[j])
                while j > 0 && c != 0 && ccc(d[j - 1]) > c { d.swapAt(j, j - 1); j -= 1 }
            }
        }
        // Canonical composition: a mark joins the last starter unless something between blocks it.
        var out: [UInt32] = []
        out.reserveCapacity(d.count)
        var starter = -1
        var lastClass: UInt8 = 0
        for cp in d {
            let c = ccc(cp)
            if starter >= 0 {
                let adjacent = out.count - 1 == starter
                if adjacent || (lastClass != 0 && lastClass < c), let composite = compose(out[starter], cp) {
                    out[starter] = composite
                    continue
                }
            }
            if c == 0 { starter = out.count }
            out.append(cp)
            lastClass = c
        }
        return out.map { Unicode.Scalar($0)! }
    }
}
