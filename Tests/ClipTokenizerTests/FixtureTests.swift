// The committed fixture: every text's ids from OpenAI's SimpleTokenizer.encode and its clip.tokenize row
// (made by notebooks-export/tokenizer_fixture.py with the real clip package) must come out identical.
// Texts marked "mojibake" are the ones ftfy's fix_encoding changes; they must match too, and must differ from
// the reference's ids without that repair (so the repair is really exercised).
import Foundation
import Testing
@testable import ClipTokenizer

struct TokenFixture: Decodable {
    struct Case: Decodable {
        let text: String
        let encode: [Int32]
        let tokens: [Int32]
        let mojibake: Bool?
        let encode_without_fix_encoding: [Int32]?
    }
    let provenance: [String: AnyValue]
    let note: String
    /// [input, unicodedata.normalize("NFC", input)] pairs.
    let nfc: [[String]]
    let context_length: Int
    let cases: [Case]

    /// Provenance values are strings or numbers.
    struct AnyValue: Decodable {
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if (try? c.decode(String.self)) == nil { _ = try c.decode(Double.self) }
        }
    }

    static func load() throws -> TokenFixture {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tokens", withExtension: "json"))
        return try JSONDecoder().decode(TokenFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct FixtureTests {
    @Test func everyFixtureTextMatchesOpenAI() throws {
        let fixture = try TokenFixture.load()
        let tokenizer = try CLIPTokenizer.shared()
        #expect(fixture.cases.count >= 500)
        #expect(fixture.context_length == 77)
        var encodeExact = 0, rowExact = 0, mojibakeCases = 0
        var failures: [String] = []
        for c in fixture.cases {
            let ids = tokenizer.encode(c.text)
            let row = try tokenizer.tokenize(c.text, contextLength: fixture.context_length, truncate: true)
            if ids == c.encode { encodeExact += 1 } else if failures.count < 8 {
                failures.append("\(c.text.debugDescription): ours \(ids.prefix(24)) reference \(c.encode.prefix(24))")
            }
            if row == c.tokens { rowExact += 1 } else if failures.count < 8 { failures.append("row of \(c.text.debugDescription)") }
            if c.mojibake == true {
                mojibakeCases += 1
                #expect(c.encode_without_fix_encoding != c.encode)
            }
        }
        print("tokenizer fixture: encode \(encodeExact)/\(fixture.cases.count) exact, rows \(rowExact)/"
            + "\(fixture.cases.count) exact against clip.tokenize (\(mojibakeCases) need ftfy's mojibake repair)")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(encodeExact == fixture.cases.count)
        #expect(rowExact == fixture.cases.count)
        #expect(mojibakeCases >= 20)
    }

    @Test func nfcMatchesPythonsUnicodedata() throws {
        let fixture = try TokenFixture.load()
        #expect(fixture.nfc.count >= 1000)
        var exact = 0
        for pair in fixture.nfc {
            let ours = PythonUnicode.nfc(Array(pair[0].unicodeScalars))
            if ours == Array(pair[1].unicodeScalars) { exact += 1 } else {
                Issue.record("NFC of \(pair[0].unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
        #expect(exact == fixture.nfc.count)
    }

    @Test func fixtureCoversLongTextsAndSpecialTokens() throws {
        let fixture = try TokenFixture.load()
        // Texts past the context length are in the fixture, so truncation is checked against the reference.
        #expect(fixture.cases.filter { $0.encode.count + 2 > 77 }.count >= 10)
        #expect(fixture.cases.contains { $0.encode.contains(CLIPTokenizer.endOfText) })
        #expect(fixture.cases.allSatisfy { $0.tokens.count == 77 })
    }
}
