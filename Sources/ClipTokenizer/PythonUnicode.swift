// The character semantics simple_tokenizer.py gets from Python: the `regex` module's \p{L}, \p{N}, \s under
// re.IGNORECASE, str.lower() (full mapping + final sigma), str.isspace()/str.strip(), and `re`'s \d.
// The classes come from GeneratedUnicodeTables.swift (made from the reference's own Python), not from the
// Swift toolchain's Unicode version, which differs (Python 3.11 has Unicode 14; `regex` has its own, newer data).
typealias Scalars = [Unicode.Scalar]

/// Calls `body` with the hex numbers of each entry of a generated table: entries are separated by spaces or
/// newlines, numbers inside an entry by '-', ':' or '.' ("41-5A", "130:69.307").
func forEachHexEntry(_ table: String, _ body: ([UInt32]) -> Void) {
    var numbers: [UInt32] = []
    var value: UInt32 = 0, inNumber = false
    func flushEntry() {
        if inNumber { numbers.append(value) }
        if !numbers.isEmpty { body(numbers) }
        numbers.removeAll(keepingCapacity: true)
        value = 0
        inNumber = false
    }
    for byte in table.utf8 {
        switch byte {
        case 0x30...0x39: value = value << 4 | UInt32(byte - 0x30); inNumber = true
        case 0x41...0x46: value = value << 4 | UInt32(byte - 0x41 + 10); inNumber = true
        case 0x20, 0x0A: flushEntry()
        default: numbers.append(value); value = 0; inNumber = false  // '-', ':', '.'
        }
    }
    flushEntry()
}

/// One byte of flags per code point.
struct PythonUnicode: Sendable {
    static let letter: UInt8 = 1, number: UInt8 = 2, noMatch: UInt8 = 4
    static let regexSpace: UInt8 = 8, pythonSpace: UInt8 = 16, decimal: UInt8 = 32, hasLower: UInt8 = 64

    /// Loaded on first use: 1.1 MB of flags built from ~1,000 ranges in about a millisecond.
    static let shared = PythonUnicode()

    private let flags: [UInt8]
    private let lowerMap: [UInt32: Scalars]
    /// The final-sigma rule's classes, as sorted closed ranges (only consulted around a 'Σ').
    private let caseIgnorable: [ClosedRange<UInt32>]
    private let cased: [ClosedRange<UInt32>]

    private init() {
        var flags = [UInt8](repeating: 0, count: 0x110000)
        func mark(_ table: String, _ bit: UInt8) {
            forEachHexEntry(table) { r in for cp in Int(r[0])...Int(r[1]) { flags[cp] |= bit } }
        }
        mark(ReferenceUnicode.letterRanges, Self.letter)
        mark(ReferenceUnicode.numberRanges, Self.number)
        mark(ReferenceUnicode.noneRanges, Self.noMatch)
        mark(ReferenceUnicode.regexSpaceRanges, Self.regexSpace)
        mark(ReferenceUnicode.pythonSpaceRanges, Self.pythonSpace)
        mark(ReferenceUnicode.decimalRanges, Self.decimal)
        var lower: [UInt32: Scalars] = [:]
        lower.reserveCapacity(1500)
        forEachHexEntry(ReferenceUnicode.lowerMap) { e in
            lower[e[0]] = e.dropFirst().map { Unicode.Scalar($0)! }
            flags[Int(e[0])] |= Self.hasLower
        }
        self.flags = flags
        self.lowerMap = lower
        func ranges(_ table: String) -> [ClosedRange<UInt32>] {
            var out: [ClosedRange<UInt32>] = []
            forEachHexEntry(table) { out.append($0[0]...$0[1]) }
            return out
        }
        caseIgnorable = ranges(ReferenceUnicode.caseIgnorableRanges)
        cased = ranges(ReferenceUnicode.casedRanges)
    }

    private static func contains(_ ranges: [ClosedRange<UInt32>], _ s: Unicode.Scalar) -> Bool {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].upperBound < s.value { lo = mid + 1 } else { hi = mid }
        }
        return lo < ranges.count && ranges[lo].contains(s.value)
    }

    /// `[^\s\p{L}\p{N}]`: every code point in no other class and not one that matches nothing.
    @inline(__always) func isOther(_ s: Unicode.Scalar) -> Bool {
        flags[Int(s.value)] & (Self.letter | Self.number | Self.regexSpace | Self.noMatch) == 0
    }

    /// `[^\s\p{L}\p{N}]` without IGNORECASE (Hugging Face's pre-tokenizer): U+0345, which IGNORECASE keeps out of
    /// both \p{L} and its complement, is an ordinary mark here.
    @inline(__always) func isOtherCaseSensitive(_ s: Unicode.Scalar) -> Bool {
        flags[Int(s.value)] & (Self.letter | Self.number | Self.regexSpace) == 0
    }

    @inline(__always) func flags(_ s: Unicode.Scalar) -> UInt8 { flags[Int(s.value)] }
    @inline(__always) func has(_ s: Unicode.Scalar, _ bit: UInt8) -> Bool { flags[Int(s.value)] & bit != 0 }

    /// Each scalar's full lowercase mapping on its own (Rust's char::to_lowercase, which Hugging Face's Lowercase
    /// normalizer applies): as `lower` but with no Final_Sigma context, so U+03A3 is always 'σ'.
    func lowerEach(_ text: Scalars) -> Scalars {
        var out = Scalars()
        out.reserveCapacity(text.count)
        for s in text { out.append(contentsOf: s.value == 0x3A3 ? ["\u{3C3}"] : lower([s])) }
        return out
    }

    /// Python's str.lower(): full lowercase mappings ('İ' → 'i̇'), and U+03A3 → 'ς' in the Final_Sigma context.
    func lower(_ text: Scalars) -> Scalars {
        var out = Scalars()
        out.reserveCapacity(text.count)
        for (i, s) in text.enumerated() {
            if s.value < 0x80 {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value + 32)! : s)
            } else if s.value == 0x3A3 {
                out.append(isFinalSigma(text, i) ? "\u{3C2}" : "\u{3C3}")
            } else if has(s, Self.hasLower), let mapped = lowerMap[s.value] {
                out.append(contentsOf: mapped)
            } else {
                out.append(s)
            }
        }
        return out
    }

    /// CPython's handle_capital_sigma: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}), with
    /// Python 3.11's own Cased/Case_Ignorable (GeneratedUnicodeTables.swift).
    func isFinalSigma(_ text: Scalars, _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && Self.contains(caseIgnorable, text[j]) { j -= 1 }
        guard j >= 0 && Self.contains(cased, text[j]) else { return false }
        j = i + 1
        while j < text.count && Self.contains(caseIgnorable, text[j]) { j += 1 }
        return j == text.count || !Self.contains(cased, text[j])
    }

    /// str.strip() with no argument: removes leading and trailing str.isspace() characters.
    func strip(_ text: Scalars) -> Scalars {
        var lo = 0, hi = text.count
        while lo < hi && has(text[lo], Self.pythonSpace) { lo += 1 }
        while hi > lo && has(text[hi - 1], Self.pythonSpace) { hi -= 1 }
        return lo == 0 && hi == text.count ? text : Array(text[lo..<hi])
    }

    /// Unicode NFC (ftfy's normalization step). Text with nothing at or above U+0300 is already NFC.
    static func nfc(_ text: Scalars) -> Scalars {
        guard text.contains(where: { $0.value >= 0x300 }) else { return text }
        return NFCData.shared.nfc(text)
    }
}
