// ftfy 6.3.1's fix_text with its default TextFixerConfig; the mojibake repair (fix_encoding) is in Mojibake.swift.
// fix_surrogates has nothing to do: UTF-8 input has none.

/// ftfy's per-code-point maps (fix_latin_ligatures, fix_character_width), parsed on first use.
struct FTFYTables: Sendable {
    static let shared = FTFYTables()
    let translate: [UInt32: Scalars]

    private init() {
        var map: [UInt32: Scalars] = [:]
        for table in [ReferenceTextTables.ligatures, ReferenceTextTables.widthMap] {
            forEachHexEntry(table) { map[$0[0]] = $0.dropFirst().map { Unicode.Scalar($0)! } }
        }
        translate = map
    }
}

/// ftfy.fix_text: the text is fixed line by line (segments end after '\n', at most 1,000,000 code points);
/// once a segment contains '<', HTML unescaping is off for it and for every later segment ("auto" mode).
func fixText(_ text: Scalars) -> Scalars {
    if text.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "&" }) { return text }  // nothing to fix
    var out = Scalars()
    out.reserveCapacity(text.count)
    var unescapeHTML = true
    var pos = 0
    while pos < text.count {
        var end = (text[pos...].firstIndex(of: "\n") ?? text.count - 1) + 1
        end = min(end, pos + 1_000_000)
        let segment = Array(text[pos..<end])
        if unescapeHTML && segment.contains("<") { unescapeHTML = false }
        out.append(contentsOf: fixSegment(segment, unescapeHTML: unescapeHTML))
        pos = end
    }
    return out
}

/// ftfy.fix_and_explain: the fixers in ftfy's order, repeated until the text stops changing.
func fixSegment(_ segment: Scalars, unescapeHTML: Bool) -> Scalars {
    var text = segment
    while true {
        let original = text
        if unescapeHTML { text = ftfyUnescapeHTML(text) }
        if text.contains(where: { !$0.isASCII }) {  // fix_encoding (ASCII text is left alone by it)
            let fixed = Mojibake.fixEncoding(text.map(\.value))
            if fixed.count != text.count || !zip(fixed, text).allSatisfy({ $0 == $1.value }) {
                text = fixed.map { Unicode.Scalar($0)! }
            }
        }
        text = translateFixes(text)        // fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes
        text = fixLineBreaks(text)
        text = removeTerminalEscapes(text)
        text = removeControlChars(text)
        text = PythonUnicode.nfc(text)
        if text == original { return text }
    }
}

/// The four one-code-point fixers, in ftfy's order; each maps a code point to a string, and none of their
/// outputs is an input of a later one except as the later one would itself map it, so one pass is the same.
func translateFixes(_ text: Scalars) -> Scalars {
    let tables = FTFYTables.shared
    var out = Scalars()
    out.reserveCapacity(text.count)
    for s in text {
        var v = s.value
        if v >= 0x80 && v <= 0x9F { v = windows1252C1[Int(v - 0x80)] }  // fix_c1_controls (sloppy-windows-1252)
        if v < 0xA0 { out.append(Unicode.Scalar(v)!); continue }
        if let mapped = tables.translate[v] { out.append(contentsOf: uncurlQuotes(mapped)); continue }
        out.append(contentsOf: uncurlQuotes([Unicode.Scalar(v)!]))
    }
    return out
}

/// ftfy.fixes.uncurl_quotes: [\u02bc\u2018-\u201b] → "'", [\u201c-\u201f] → '"'.
@inline(__always) func uncurlQuotes(_ s: Scalars) -> Scalars {
    s.map { c in
        switch c.value {
        case 0x2BC, 0x2018...0x201B: return "'"
        case 0x201C...0x201F: return "\""
        default: return c
        }
    }
}

/// ftfy.fixes.fix_line_breaks: CRLF, CR, U+2028, U+2029 and NEL become '\n'.
func fixLineBreaks(_ text: Scalars) -> Scalars {
    guard text.contains(where: { $0 == "\r" || $0 == "\u{2028}" || $0 == "\u{2029}" || $0 == "\u{85}" }) else {
        return text
    }
    var out = Scalars()
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
        let c = text[i]
        if c == "\r" && i + 1 < text.count && text[i + 1] == "\n" { i += 1; continue }  // the '\n' follows
        out.append(c == "\r" || c == "\u{2028}" || c == "\u{2029}" || c == "\u{85}" ? "\n" : c)
        i += 1
    }
    return out
}

/// ftfy.fixes.remove_terminal_escapes: `\033\[((?:\d|;)*)([a-zA-Z])` removed; \d is Python re's (all of Nd).
func removeTerminalEscapes(_ text: Scalars) -> Scalars {
    guard text.contains("\u{1B}") else { return text }
    let unicode = PythonUnicode.shared
    var out = Scalars()
    var i = 0
    while i < text.count {
        if text[i] == "\u{1B}", i + 1 < text.count, text[i + 1] == "[" {
            var j = i + 2
            while j < text.count, text[j] == ";" || unicode.has(text[j], PythonUnicode.decimal) { j += 1 }
            if j < text.count, text[j].isASCII, text[j].properties.isAlphabetic {
                i = j + 1
                continue
            }
        }
        out.append(text[i])
        i += 1
    }
    return out
}

/// ftfy.fixes.remove_control_chars: C0 controls except \t \n \f \r, DEL, U+206A–U+206F, U+FEFF, U+FFF9–U+FFFC.
func removeControlChars(_ text: Scalars) -> Scalars {
    text.filter { c in
        switch c.value {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: return false
        default: return true
        }
    }
}
