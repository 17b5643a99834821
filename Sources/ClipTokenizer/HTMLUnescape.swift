// Python's html.unescape (Lib/html/__init__.py) and ftfy's stricter fixes.unescape_html, on scalar arrays.
// Entity names come from GeneratedTextTables.swift (Python's html.entities.html5 and ftfy's all-caps additions).

/// The entity tables, parsed on first use (only text containing '&' needs them).
struct HTMLEntities: Sendable {
    static let shared = HTMLEntities()

    /// html.entities.html5: names with their ';' where they have one ("amp;", and the legacy "amp").
    let html5: [String: Scalars]
    /// ftfy.chardata.HTML_ENTITIES: every html5 name ending in ';' plus all-caps variants ("EACUTE;").
    let ftfy: [String: Scalars]

    private init() {
        /// Lines "name<TAB>hex.hex".
        func parse(_ table: String) -> [String: Scalars] {
            var out: [String: Scalars] = [:]
            out.reserveCapacity(2300)
            var name: [UInt8] = [], value: Scalars = [], number: UInt32 = 0, inName = true
            for byte in table.utf8 {
                if inName {
                    if byte == 0x09 { inName = false } else { name.append(byte) }
                    continue
                }
                switch byte {
                case 0x30...0x39: number = number << 4 | UInt32(byte - 0x30)
                case 0x41...0x46: number = number << 4 | UInt32(byte - 0x41 + 10)
                case 0x2E: value.append(Unicode.Scalar(number)!); number = 0
                default:  // '\n'
                    value.append(Unicode.Scalar(number)!)
                    out[String(decoding: name, as: UTF8.self)] = value
                    name.removeAll(keepingCapacity: true); value = []; number = 0; inName = true
                }
            }
            if !name.isEmpty { value.append(Unicode.Scalar(number)!); out[String(decoding: name, as: UTF8.self)] = value }
            return out
        }
        html5 = parse(ReferenceTextTables.html5)
        var ftfy = html5.filter { $0.key.hasSuffix(";") }
        ftfy.merge(parse(ReferenceTextTables.ftfyUppercaseEntities)) { _, extra in extra }
        self.ftfy = ftfy
    }
}

/// Windows-1252 for bytes 0x80–0x9F, where html.unescape's _invalid_charrefs and ftfy's sloppy-windows-1252
/// agree: the five undefined bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) stay themselves.
let windows1252C1: [UInt32] = [
    0x20AC, 0x81, 0x201A, 0x192, 0x201E, 0x2026, 0x2020, 0x2021, 0x2C6, 0x2030, 0x160, 0x2039, 0x152, 0x8D, 0x17D, 0x8F,
    0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x2DC, 0x2122, 0x161, 0x203A, 0x153, 0x9D, 0x17E, 0x178,
]

@inline(__always) private func isASCIIDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
@inline(__always) private func hexValue(_ s: Unicode.Scalar) -> UInt32? {
    switch s.value {
    case 0x30...0x39: return s.value - 0x30
    case 0x41...0x46: return s.value - 0x41 + 10
    case 0x61...0x66: return s.value - 0x61 + 10
    default: return nil
    }
}
@inline(__always) private func isASCIIAlnum(_ s: Unicode.Scalar) -> Bool {
    isASCIIDigit(s) || ((s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A)
}

/// An entity name as a dictionary key; nil unless ASCII, since Swift's String equality is canonical equivalence
/// (U+212A KELVIN SIGN == "K") and Python compares code points.
private func asciiKey(_ s: ArraySlice<Unicode.Scalar>) -> String? {
    guard s.allSatisfy({ $0.isASCII }) else { return nil }
    return String(String.UnicodeScalarView(s))
}

/// Python's html.unescape: `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)` replaced by _replace_charref.
func htmlUnescape(_ text: Scalars) -> Scalars {
    guard text.contains("&") else { return text }
    var out = Scalars()
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
        if text[i] == "&", let (replacement, end) = charref(text, at: i) {
            out.append(contentsOf: replacement)
            i = end
        } else {
            out.append(text[i])
            i += 1
        }
    }
    return out
}

/// Matches one character reference at `start` (a '&'); returns its replacement and the index after it.
private func charref(_ t: Scalars, at start: Int) -> (Scalars, Int)? {
    var j = start + 1
    guard j < t.count else { return nil }
    if t[j] == "#" {
        j += 1
        var num: UInt64 = 0  // saturates: anything above U+10FFFF becomes U+FFFD either way
        if j < t.count, isASCIIDigit(t[j]) {
            while j < t.count, isASCIIDigit(t[j]) { num = min(num * 10 + UInt64(t[j].value - 0x30), 0x7FFF_FFFF); j += 1 }
        } else if j + 1 < t.count, t[j] == "x" || t[j] == "X", hexValue(t[j + 1]) != nil {
            j += 1
            while j < t.count, let h = hexValue(t[j]) { num = min(num * 16 + UInt64(h), 0x7FFF_FFFF); j += 1 }
        } else {
            return nil
        }
        if j < t.count, t[j] == ";" { j += 1 }
        return (numericCharref(num), j)
    }
    // [^\t\n\f <&#;]{1,32};?
    var k = j
    while k < t.count, k - j < 32, !"\t\n\u{0C} <&#;".unicodeScalars.contains(t[k]) { k += 1 }
    guard k > j else { return nil }
    if k < t.count, t[k] == ";" { k += 1 }
    let name = t[j..<k]
    let table = HTMLEntities.shared.html5
    if let key = asciiKey(name), let value = table[key] { return (value, k) }
    // The longest prefix (at least two characters) that is an entity, as the HTML5 standard defines.
    var x = name.count - 1
    while x > 1 {
        let prefix = name.prefix(x)
        if let key = asciiKey(prefix), let value = table[key] { return (value + name.dropFirst(x), k) }
        x -= 1
    }
    return nil
}

/// _replace_charref for numbers: cp1252 remapping of 0x80–0x9F, U+FFFD for NUL, surrogates and > U+10FFFF,
/// nothing for the code points HTML5 calls invalid.
private func numericCharref(_ num: UInt64) -> Scalars {
    switch num {
    case 0x00: return ["\u{FFFD}"]
    case 0x0D: return ["\r"]
    case 0x80...0x9F: return [Unicode.Scalar(windows1252C1[Int(num - 0x80)])!]
    case 0xD800...0xDFFF, 0x110000...: return ["\u{FFFD}"]
    case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0xFDD0...0xFDEF: return []
    default:
        if num & 0xFFFE == 0xFFFE { return [] }  // U+FFFE, U+FFFF, U+1FFFE … U+10FFFF
        return [Unicode.Scalar(UInt32(num))!]
    }
}

/// ftfy.fixes.unescape_html: only `&#?[0-9A-Za-z]{1,24};`, and a match is replaced only when ftfy's table knows
/// the name or, for "&#…;", when html.unescape leaves no ';' behind.
func ftfyUnescapeHTML(_ text: Scalars) -> Scalars {
    guard text.contains("&") else { return text }
    var out = Scalars()
    out.reserveCapacity(text.count)
    var i = 0
    while i < text.count {
        guard text[i] == "&" else { out.append(text[i]); i += 1; continue }
        var j = i + 1
        if j < text.count, text[j] == "#" { j += 1 }
        var k = j
        while k < text.count, k - j <= 24, isASCIIAlnum(text[k]) { k += 1 }
        guard k > j, k - j <= 24, k < text.count, text[k] == ";" else { out.append(text[i]); i += 1; continue }
        let match = Array(text[i...k])
        i = k + 1
        if let key = asciiKey(match[1...]), let value = HTMLEntities.shared.ftfy[key] {
            out.append(contentsOf: value)
        } else if match[1] == "#" {
            let unescaped = htmlUnescape(match)
            out.append(contentsOf: unescaped.contains(";") ? match : unescaped)
        } else {
            out.append(contentsOf: match)
        }
    }
    return out
}
