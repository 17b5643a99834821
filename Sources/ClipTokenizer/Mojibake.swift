// ftfy 6.3.1's mojibake repair: fix_encoding (ftfy/__init__.py, _fix_encoding_one_step_and_explain) with
// is_bad (badness.py), restore_byte_a0, replace_lossy_sequences, decode_inconsistent_utf8 (fixes.py), the
// ten single-byte charmaps (chardata.CHARMAP_ENCODINGS, ftfy's "sloppy" codecs) and the utf-8-variants decoder.

/// One of chardata.CHARMAP_ENCODINGS: bytes 0x00–0xFF ↔ code points.
struct Charmap: Sendable {
    let name: String
    let decode: [UInt32]
    let encode: [UInt32: UInt8]
}

struct MojibakeData: Sendable {
    static let shared = MojibakeData()
    let badness: PatternSet
    let altered: PatternSet
    let lossy: PatternSet
    let charmaps: [Charmap]
    /// UTF8_CLUES: first_of_2, first_of_3, first_of_4, continuation, continuation_strict.
    let clues: [PatternAtom]

    private init() {
        badness = PatternSet(ReferenceMojibake.badness)
        altered = PatternSet(ReferenceMojibake.alteredUTF8)
        lossy = PatternSet(ReferenceMojibake.lossyUTF8)
        clues = PatternSet(ReferenceMojibake.utf8Clues).alternatives.map { $0[0] }
        charmaps = ReferenceMojibake.charmaps.split(separator: "\n").map { line in
            let parts = line.split(separator: ":")
            let decode = parts[1].split(separator: ".").map { UInt32($0, radix: 16)! }
            var encode: [UInt32: UInt8] = [:]
            for (b, cp) in decode.enumerated() { encode[cp] = UInt8(b) }
            return Charmap(name: String(parts[0]), decode: decode, encode: encode)
        }
    }

    func inClue(_ k: Int, _ c: UInt32) -> Bool {
        guard case .set(let ranges, _, _, _) = clues[k] else { return false }
        return PatternSet.inRanges(ranges, c)
    }
}

enum Mojibake {
    /// badness.is_bad: BADNESS_RE.search(text).
    static func isBad(_ text: [UInt32]) -> Bool { MojibakeData.shared.badness.search(text) }

    /// ftfy.fix_encoding: one step at a time until the text stops changing.
    static func fixEncoding(_ text: [UInt32]) -> [UInt32] {
        var text = text
        while true {
            let next = oneStep(text)
            if next == text { return text }
            text = next
        }
    }

    /// _fix_encoding_one_step_and_explain with the default config.
    static func oneStep(_ text: [UInt32]) -> [UInt32] {
        if text.isEmpty || text.allSatisfy({ $0 < 0x80 }) || !isBad(text) { return text }
        let data = MojibakeData.shared
        var latin1Possible = false
        for charmap in data.charmaps {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.count)
            var ok = true
            for c in text {
                guard let b = charmap.encode[c] else { ok = false; break }
                bytes.append(b)
            }
            guard ok else { continue }
            if charmap.name == "latin-1" { latin1Possible = true }
            let asScalars = bytes.map(UInt32.init)
            if charmap.name != "macroman" && data.altered.search(asScalars) {
                bytes = restoreByteA0(bytes)
            }
            if charmap.name.hasPrefix("sloppy") {
                bytes = data.lossy.sub(bytes.map(UInt32.init)) { _ in [0xEF, 0xBF, 0xBD] }.map { UInt8($0) }
            }
            let decoded = bytes.contains(0xED) || bytes.contains(0xC0) ? decodeUTF8Variants(bytes) : decodeUTF8(bytes)
            if let decoded { return decoded }
        }
        if hasUTF8Clue(text) {
            let fixed = decodeInconsistentUTF8(text)
            if fixed != text { return fixed }
        }
        // ftfy asks for "windows-1252" among the possible encodings, which only lists "sloppy-windows-1252",
        // so Latin-1 text is always tried as strict windows-1252.
        if latin1Possible, let fixed = decodeWindows1252(text), fixed != text { return fixed }
        if text.contains(where: { $0 >= 0x80 && $0 <= 0x9F }) {
            return text.map { $0 >= 0x80 && $0 <= 0x9F ? windows1252C1[Int($0 - 0x80)] : $0 }  // fix_c1_controls
        }
        return text
    }

    /// fixes.restore_byte_a0: b"\xc3 " not followed by " ", "quele", "quela", "quilo" or "s " becomes
    /// b"\xc3\xa0 "; then every ALTERED_UTF8_RE match has its spaces turned into 0xA0.
    static func restoreByteA0(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0xC3, i + 1 < bytes.count, bytes[i + 1] == 0x20 {
                let rest = bytes[(i + 2)...]
                let excluded = [" ", "quele", "quela", "quilo", "s "].contains { rest.starts(with: Array($0.utf8)) }
                if !excluded { out += [0xC3, 0xA0, 0x20]; i += 2; continue }
            }
            out.append(bytes[i])
            i += 1
        }
        return MojibakeData.shared.altered.sub(out.map(UInt32.init)) { m in m.map { $0 == 0x20 ? 0xA0 : $0 } }
            .map { UInt8($0) }
    }

    /// UTF8_DETECTOR_RE: (?<![continuation_strict])([first_of_2][cont]|[first_of_3][cont]{2}|[first_of_4][cont]{3})+
    /// at `pos`: the end of the match.
    static func clueMatch(_ text: [UInt32], at pos: Int) -> Int? {
        let data = MojibakeData.shared
        if pos > 0 && data.inClue(4, text[pos - 1]) { return nil }
        var j = pos
        while j < text.count {
            var matched = false
            for (k, length) in [(0, 2), (1, 3), (2, 4)] where j + length <= text.count && data.inClue(k, text[j]) {
                if (1..<length).allSatisfy({ data.inClue(3, text[j + $0]) }) { j += length; matched = true; break }
            }
            if !matched { break }
        }
        return j > pos ? j : nil
    }

    static func hasUTF8Clue(_ text: [UInt32]) -> Bool { (0..<text.count).contains { clueMatch(text, at: $0) != nil } }

    /// fixes.decode_inconsistent_utf8: each detector match shorter than the text that is_bad is fixed alone.
    static func decodeInconsistentUTF8(_ text: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        var pos = 0
        while pos < text.count {
            if let end = clueMatch(text, at: pos) {
                let piece = Array(text[pos..<end])
                out += piece.count < text.count && isBad(piece) ? fixEncoding(piece) : piece
                pos = end
            } else {
                out.append(text[pos])
                pos += 1
            }
        }
        return out
    }

    /// Python's strict "windows-1252" decoding of Latin-1 text: five bytes are undefined.
    static func decodeWindows1252(_ text: [UInt32]) -> [UInt32]? {
        var out: [UInt32] = []
        for c in text {
            if c >= 0x80 && c <= 0x9F {
                if [0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(c) { return nil }
                out.append(windows1252C1[Int(c - 0x80)])
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Strict UTF-8 (Python's "utf-8" codec); nil where Python raises UnicodeDecodeError.
    static func decodeUTF8(_ bytes: [UInt8]) -> [UInt32]? {
        guard TextFile.firstInvalidUTF8(bytes) == nil else { return nil }
        return String(decoding: bytes, as: UTF8.self).unicodeScalars.map(\.value)
    }

    /// ftfy's "utf-8-variants": strict UTF-8 plus C0 80 → U+0000 and CESU-8 surrogate pairs
    /// ED [A0-AF] [80-BF] ED [B0-BF] [80-BF] → one supplementary code point.
    static func decodeUTF8Variants(_ b: [UInt8]) -> [UInt32]? {
        var out: [UInt32] = []
        var run: [UInt8] = []
        func flush() -> Bool {
            guard let decoded = decodeUTF8(run) else { return false }
            out += decoded
            run.removeAll()
            return true
        }
        var i = 0
        while i < b.count {
            if b[i] == 0xC0 && i + 1 < b.count && b[i + 1] == 0x80 {
                guard flush() else { return nil }
                out.append(0); i += 2; continue
            }
            if b[i] == 0xED && i + 5 < b.count && (0xA0...0xAF).contains(b[i + 1]) && (0x80...0xBF).contains(b[i + 2])
                && b[i + 3] == 0xED && (0xB0...0xBF).contains(b[i + 4]) && (0x80...0xBF).contains(b[i + 5]) {
                guard flush() else { return nil }
                let high = (UInt32(b[i + 1] & 0x0F) << 16) + (UInt32(b[i + 2] & 0x3F) << 10)
                out.append(high + (UInt32(b[i + 4] & 0x0F) << 6) + UInt32(b[i + 5] & 0x3F) + 0x10000)
                i += 6
                continue
            }
            run.append(b[i])
            i += 1
        }
        return flush() ? out : nil
    }
}
