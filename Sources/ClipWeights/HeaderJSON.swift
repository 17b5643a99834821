// A strict JSON reader for safetensors headers (RFC 8259). JSONSerialization keeps one of two duplicate keys
// silently and turns `64.0` or `true` into an Int on request; the safetensors crate (serde) refuses floats
// where it wants integers. So: objects keep their keys in order and a duplicate is an error, integers are kept
// apart from other numbers, and nesting is bounded (a 100 MB header of `[[[[` must not exhaust the stack).

/// One JSON value. Numbers that are not integers fitting `Int` keep their text, for messages.
indirect enum HeaderJSON: @unchecked Sendable {
    case object([(key: String, value: HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    case integer(Int)
    case number(String)
    case bool(Bool)
    case null

    /// The value written back as compact JSON-like text, for error messages.
    var text: String {
        switch self {
        case .object(let members): "{" + members.map { "\"\($0.key)\": \($0.value.text)" }.joined(separator: ", ") + "}"
        case .array(let items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .string(let s): "\"\(s)\""
        case .integer(let n): String(n)
        case .number(let t): t
        case .bool(let b): String(b)
        case .null: "null"
        }
    }

    enum Failure: Error, Equatable {
        /// `key` appears twice in the object reached through `path` (keys from the top, empty at the top).
        case duplicateKey(String, path: [String])
        /// Not JSON: what was wrong and the byte offset.
        case syntax(String, offset: Int)
    }

    static let maxDepth = 64

    /// Parses `bytes` (valid UTF-8 is required) as exactly one JSON value, with only whitespace around it.
    static func parse(_ bytes: [UInt8]) throws -> HeaderJSON {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw Failure.syntax("the header is not valid UTF-8", offset: 0) }
        var p = Parser(b: bytes)
        let v = try p.value(path: [])
        p.skipSpace()
        guard p.i == bytes.count else { throw Failure.syntax("text after the JSON value", offset: p.i) }
        return v
    }

    private struct Parser {
        let b: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
        }

        func fail(_ what: String) -> Failure { .syntax(what, offset: i) }

        mutating func expect(_ literal: String) throws {
            let l = Array(literal.utf8)
            guard i + l.count <= b.count, Array(b[i..<(i + l.count)]) == l else { throw fail("expected \(literal)") }
            i += l.count
        }

        mutating func value(path: [String]) throws -> HeaderJSON {
            guard path.count < HeaderJSON.maxDepth else { throw fail("nesting deeper than \(HeaderJSON.maxDepth) levels") }
            skipSpace()
            guard i < b.count else { throw fail("unexpected end") }
            switch b[i] {
            case UInt8(ascii: "{"): return try object(path: path)
            case UInt8(ascii: "["):
                i += 1
                var items: [HeaderJSON] = []
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value(path: path + ["[]"]))
                    skipSpace()
                    guard i < b.count else { throw fail("unterminated array") }
                    if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    guard b[i] == UInt8(ascii: ",") else { throw fail("expected , or ]") }
                    i += 1
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: return try number()
            }
        }

        mutating func object(path: [String]) throws -> HeaderJSON {
            i += 1
            var members: [(key: String, value: HeaderJSON)] = []
            var seen = Set<String>()
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                let key = try string()
                guard seen.insert(key).inserted else { throw Failure.duplicateKey(key, path: path) }
                skipSpace()
                try expect(":")
                members.append((key, try value(path: path + [key])))
                skipSpace()
                guard i < b.count else { throw fail("unterminated object") }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                guard b[i] == UInt8(ascii: ",") else { throw fail("expected , or }") }
                i += 1
            }
        }

        mutating func string() throws -> String {
            i += 1  // opening quote
            var scalars = String.UnicodeScalarView()
            var run = i  // start of the current unescaped run
            func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: b[run..<end], as: UTF8.self).unicodeScalars) }
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") { flush(i); i += 1; return String(scalars) }
                if c < 0x20 { throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") { i += 1; continue }
                flush(i)
                guard i + 1 < b.count else { break }
                i += 2
                switch b[i - 1] {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"): scalars.append(try unicodeEscape())
                default: throw fail("bad escape in a string")
                }
                run = i
            }
            throw fail("unterminated string")
        }

        /// After `\u`: four hex digits, or a surrogate pair written as two escapes.
        mutating func unicodeEscape() throws -> Unicode.Scalar {
            let hi = try hex4()
            if (0xD800..<0xDC00).contains(hi) {
                try expect("\\u")
                let lo = try hex4()
                guard (0xDC00..<0xE000).contains(lo) else { throw fail("unpaired surrogate") }
                return Unicode.Scalar(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))!
            }
            guard let s = Unicode.Scalar(hi) else { throw fail("unpaired surrogate") }
            return s
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func number() throws -> HeaderJSON {
            let start = i
            func digits() -> Int {
                let s = i
                while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
                return i - s
            }
            if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
            let intStart = i
            guard digits() > 0 else { throw fail("unexpected character") }
            guard b[intStart] != UInt8(ascii: "0") || i - intStart == 1 else { throw fail("leading zero in a number") }
            var integral = true
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                integral = false
                guard digits() > 0 else { throw fail("bad fraction") }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                integral = false
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail("bad exponent") }
            }
            let text = String(decoding: b[start..<i], as: UTF8.self)
            if integral, let n = Int(text) { return .integer(n) }
            return .number(text)
        }
    }
}
