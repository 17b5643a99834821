// A top-level alternation of fixed atoms, the shape of ftfy's BADNESS_RE, ALTERED_UTF8_RE and LOSSY_UTF8_RE.
// The alternatives come from GeneratedMojibakeTables.swift (made by re._parser from ftfy's compiled patterns);
// matching follows Python's `re`: leftmost position first, then the first alternative that matches there.

indirect enum PatternAtom: Sendable {
    case literal(UInt32)
    case any                       // '.': anything but '\n'
    case start                     // '^': the start of the text
    case set(ranges: [ClosedRange<UInt32>], space: Bool, word: Bool, negated: Bool)
    case optional(PatternAtom)     // atom?  (greedy)
}

struct PatternSet: Sendable {
    let alternatives: [[PatternAtom]]

    /// A compiled atom: sets become bit numbers in a per-character mask, so matching does no lookups.
    private struct Atom: Sendable {
        enum Kind: UInt8, Sendable { case literal, any, start, set }
        var kind: Kind
        var optional = false
        var literal: UInt32 = 0
        var bit: UInt64 = 0        // the set's bit
        var space = false, word = false, negated = false
    }
    private static let spaceBit: UInt64 = 1 << 62, wordBit: UInt64 = 1 << 63
    private let compiled: [[Atom]]
    /// Code point → bits of the sets whose ranges contain it.
    private let members: [UInt32: UInt64]
    private let usesCategories: Bool

    /// Parses one alternative per line: `Lhex`, `.`, `^`, `?atom`, `[lo-hi,…,s,w]`, `[!…]`.
    init(_ table: String) {
        alternatives = table.split(separator: "\n").map { line in line.split(separator: " ").map(Self.atom) }
        var setBits: [String: UInt64] = [:]
        var members: [UInt32: UInt64] = [:]
        var usesCategories = false
        func compile(_ a: PatternAtom) -> Atom {
            switch a {
            case .literal(let v): return Atom(kind: .literal, literal: v)
            case .any: return Atom(kind: .any)
            case .start: return Atom(kind: .start)
            case .optional(let inner): var c = compile(inner); c.optional = true; return c
            case .set(let ranges, let space, let word, let negated):
                let key = "\(ranges)"
                let bit = setBits[key] ?? {
                    precondition(setBits.count < 62, "too many character sets for one PatternSet")
                    let b = UInt64(1) << UInt64(setBits.count)
                    setBits[key] = b
                    for r in ranges { for cp in r { members[cp, default: 0] |= b } }
                    return b
                }()
                usesCategories = usesCategories || space || word
                return Atom(kind: .set, bit: bit, space: space, word: word, negated: negated)
            }
        }
        compiled = alternatives.map { $0.map(compile) }
        self.members = members
        self.usesCategories = usesCategories
    }

    private static func atom(_ s: Substring) -> PatternAtom {
        switch s.first {
        case "L": return .literal(UInt32(s.dropFirst(), radix: 16)!)
        case ".": return .any
        case "^": return .start
        case "?": return .optional(atom(s.dropFirst()))
        default:
            var body = s.dropFirst().dropLast()
            let negated = body.first == "!"
            if negated { body = body.dropFirst() }
            var ranges: [ClosedRange<UInt32>] = [], space = false, word = false
            for item in body.split(separator: ",") {
                if item == "s" { space = true; continue }
                if item == "w" { word = true; continue }
                let ends = item.split(separator: "-")
                ranges.append(UInt32(ends[0], radix: 16)!...UInt32(ends[1], radix: 16)!)
            }
            return .set(ranges: ranges.sorted { $0.lowerBound < $1.lowerBound }, space: space, word: word, negated: negated)
        }
    }

    /// Python `re`'s \w, from the generated table.
    static let wordRanges: [ClosedRange<UInt32>] = {
        var out: [ClosedRange<UInt32>] = []
        forEachHexEntry(ReferenceMojibake.wordRanges) { out.append($0[0]...$0[1]) }
        return out
    }()

    static func inRanges(_ ranges: [ClosedRange<UInt32>], _ c: UInt32) -> Bool {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].upperBound < c { lo = mid + 1 } else { hi = mid }
        }
        return lo < ranges.count && ranges[lo].contains(c)
    }

    /// Every character's set bits, plus \s (Python's str.isspace) and \w when the pattern uses them.
    private func masks(_ text: [UInt32]) -> [UInt64] {
        text.map { c in
            var m = members[c] ?? 0
            if usesCategories, let s = Unicode.Scalar(c) {
                if PythonUnicode.shared.has(s, PythonUnicode.pythonSpace) { m |= Self.spaceBit }
                if Self.inRanges(Self.wordRanges, c) { m |= Self.wordBit }
            }
            return m
        }
    }

    /// End of the match of `atoms[k...]` at `pos`; an optional atom is tried first with, then without.
    private func match(_ atoms: [Atom], _ k: Int, _ pos: Int, _ text: [UInt32], _ masks: [UInt64]) -> Int? {
        guard k < atoms.count else { return pos }
        let a = atoms[k]
        if a.kind == .start { return pos == 0 ? match(atoms, k + 1, pos, text, masks) : nil }
        if pos < text.count && step(a, text[pos], masks[pos]), let end = match(atoms, k + 1, pos + 1, text, masks) {
            return end
        }
        return a.optional ? match(atoms, k + 1, pos, text, masks) : nil
    }

    @inline(__always) private func step(_ a: Atom, _ c: UInt32, _ m: UInt64) -> Bool {
        switch a.kind {
        case .literal: return c == a.literal
        case .any: return c != 0x0A
        case .set:
            let hit = m & a.bit != 0 || (a.space && m & Self.spaceBit != 0) || (a.word && m & Self.wordBit != 0)
            return hit != a.negated
        case .start: return false
        }
    }

    private func matchEnd(at pos: Int, _ text: [UInt32], _ masks: [UInt64]) -> Int? {
        for atoms in compiled {
            if let end = match(atoms, 0, pos, text, masks) { return end }
        }
        return nil
    }

    /// re.search(text) is not None.
    func search(_ text: [UInt32]) -> Bool {
        let m = masks(text)
        for pos in 0..<text.count where matchEnd(at: pos, text, m) != nil { return true }
        return false
    }

    /// re.sub(pattern, replace, text): non-overlapping matches from the left.
    func sub(_ text: [UInt32], _ replace: (ArraySlice<UInt32>) -> [UInt32]) -> [UInt32] {
        let m = masks(text)
        var out: [UInt32] = []
        out.reserveCapacity(text.count)
        var pos = 0
        while pos < text.count {
            if let end = matchEnd(at: pos, text, m), end > pos {
                out.append(contentsOf: replace(text[pos..<end]))
                pos = end
            } else {
                out.append(text[pos])
                pos += 1
            }
        }
        return out
    }
}
