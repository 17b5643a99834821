// open_clip 3.3.0's SimpleTokenizer (open_clip.get_tokenizer("ViT-B-32"): clean='lower', no reduction mask,
// context 77): ids printed by the real open_clip/tokenizer.py (exporter venv, 2026-12-07), with OpenAI's
// clip.simple_tokenizer ids for the same texts as the negative control.
import ClipCore
import Testing
@testable import ClipTokenizer

@Suite struct OpenClipTokenizerTests {
    let tokenizer: CLIPTokenizer
    init() throws { tokenizer = try CLIPTokenizer.shared() }

    /// (text, open_clip ids, OpenAI ids)
    static let cases: [(String, [Int32], [Int32])] = [
        ("a photo of <|endoftext|> and <end_of_text>",
         [320, 1125, 539, 27, 347, 40786, 4160, 91, 285, 537, 49407],
         [320, 1125, 539, 49407, 537, 283, 806, 318, 539, 318, 4160, 285]),
        ("<START_OF_TEXT>x", [49406, 343], [283, 1572, 318, 539, 318, 4160, 285, 343]),
        ("hello<|endoftext|>world", [3306, 27, 347, 40786, 4160, 91, 285, 1002], [3306, 49407, 1002]),
        ("hello<end_of_text>world", [3306, 49407, 1002], [3306, 283, 806, 318, 539, 318, 4160, 285, 1002]),
    ]

    @Test func specialSpellingsAreOpenClips() {
        for (text, openClip, openai) in Self.cases {
            #expect(tokenizer.encode(text, kind: .openClip) == openClip, "\(text)")
            // negative control: OpenAI's tokenizer on the same text
            #expect(tokenizer.encode(text, kind: .openai) == openai, "\(text)")
            #expect(openClip != openai)
        }
    }

    @Test func aPunctuationRunSwallowsTheBracketInBoth() {
        // '<<' is one [^\s\p{L}\p{N}]+ match, so neither library sees its special token here
        let ids: [Int32] = [16482, 1572, 318, 539, 318, 4160, 2988]
        #expect(tokenizer.encode("<<start_of_text>>", kind: .openClip) == ids)
        #expect(tokenizer.encode("<<start_of_text>>", kind: .openai) == ids)
    }

    @Test func longSMatchesThePatternButNotTheCache() throws {
        // IGNORECASE lets 'ſ' (U+017F) match the 's' of <start_of_text>, so the regex keeps the word whole,
        // but the cache holds only the exact spelling: the word is BPE'd (open_clip 3.3.0's ids)
        #expect(tokenizer.encode("<ſtart_of_text>", kind: .openClip) == [27, 129, 123, 16707, 62, 684, 62, 18169, 285])
        // a special token inside a text ends it early in the row: [sot, "a", eot, eot, 0, …]
        let rows = try tokenizer.tokenize(["A <END_OF_TEXT>"], kind: .openClip)
        #expect(rows.count == 1 && Array(rows[0].prefix(5)) == [49406, 320, 49407, 49407, 0])
        // negative control: OpenAI's tokenizer reads the same text as ordinary pieces
        #expect(try tokenizer.tokenize("A <END_OF_TEXT>", kind: .openai)[2] != 49407)
    }

    @Test func truncationKeepsEndOfTextAt76() throws {
        let row = try tokenizer.tokenize(String(repeating: "word ", count: 100), kind: .openClip)
        #expect(row.count == 77 && row[0] == 49406 && row[75] == 2653 && row[76] == 49407)
    }

    @Test func whitespaceCleanSplitsOnStrIsspace() {
        // " ".join(text.split()): the same words as OpenAI's re.sub(r'\s+', ' ') once ftfy has run
        let text = "a\u{a0}b\u{2003}c\u{3000}d\u{1c}e"
        #expect(tokenizer.encode(text, kind: .openClip) == tokenizer.encode(text, kind: .openai))
        #expect(splitJoinClean(Array("  a \u{1c} b  ".unicodeScalars)) == Array("a b".unicodeScalars))
        // negative control: the regex module's \s does not include U+001C
        #expect(whitespaceClean(Array("  a \u{1c} b  ".unicodeScalars)) == Array("a \u{1c} b".unicodeScalars))
    }
}
