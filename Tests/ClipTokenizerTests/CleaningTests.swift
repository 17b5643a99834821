// Text cleaning pieces against values Python 3.11 / ftfy 6.3.1 / regex give (printed from the exporter venv).
import Foundation
import Testing
@testable import ClipTokenizer

private func s(_ text: String) -> Scalars { Array(text.unicodeScalars) }
private func str(_ scalars: Scalars) -> String { String(String.UnicodeScalarView(scalars)) }
private func same(_ a: Scalars, _ b: String) -> Bool { a == s(b) }  // code points, not canonical equivalence

@Suite struct CleaningTests {
    @Test func htmlUnescapeMatchesPython() {
        let cases: [(String, String)] = [
            ("&notit;", "¬it;"), ("&amp", "&"), ("&#128;", "€"), ("&#x110000;", "\u{FFFD}"), ("&#1;", ""),
            ("&ampx", "&x"), ("&Kappa;", "Κ"), ("&\u{212A}appa;", "&\u{212A}appa;"), ("&#65abc;", "Aabc;"),
            ("&#0;", "\u{FFFD}"), ("&#13;", "\r"), ("&#xD800;", "\u{FFFD}"), ("&#xFFFF;", ""), ("&#x10FFFE;", ""),
            ("&#129;", "\u{81}"), ("&#159;", "Ÿ"), ("&#;", "&#;"), ("&#x;", "&#x;"), ("& amp;", "& amp;"),
            ("&amp;amp;", "&amp;"), ("&bne;", "=\u{20E5}"), ("&unknown;", "&unknown;"),
            ("&#99999999999999999999;", "\u{FFFD}"), ("&lt&gt", "<>"), ("x&#x41", "xA"),
        ]
        for (input, expected) in cases {
            #expect(same(htmlUnescape(s(input)), expected), "html.unescape(\(input))")
        }
    }

    @Test func ftfyUnescapeIsStricterThanPython() {
        // Only `&#?[0-9A-Za-z]{1,24};` names; no legacy names without ';'; all-caps variants allowed.
        #expect(same(ftfyUnescapeHTML(s("&amp x &amp; y")), "&amp x & y"))
        #expect(same(ftfyUnescapeHTML(s("P&EACUTE;REZ")), "PÉREZ"))
        #expect(same(ftfyUnescapeHTML(s("&ntilde; &Ntilde; &NTILDE; &nTILDE;")), "ñ Ñ Ñ &nTILDE;"))
        #expect(same(ftfyUnescapeHTML(s("&#65abc; &#x27; &#1;")), "&#65abc; ' "))
        #expect(same(ftfyUnescapeHTML(s("&notit;")), "&notit;"))
    }

    @Test func fixTextReproducesFtfyFixers() {
        #expect(same(fixText(s("ＬＯＵＤ　ＮＯＩＳＥＳ")), "LOUD NOISES"))
        #expect(same(fixText(s("ﬂuﬃeﬆ")), "fluffiest"))
        #expect(same(fixText(s("“here’s a test”")), "\"here's a test\""))
        #expect(same(fixText(s("a\r\nb\rc\u{2028}d")), "a\nb\nc\nd"))
        #expect(same(fixText(s("\u{1B}[36;44mblue\u{1B}[0m")), "blue"))
        #expect(same(fixText(s("\u{0091}q\u{0092} \u{0085}")), "'q' …"))      // C1 → windows-1252, uncurled
        #expect(same(fixText(s("\u{FEFF}a\u{0}b\u{7F}c")), "abc"))
        #expect(same(fixText(s("e\u{301}")), "é"))
        #expect(same(fixText(s("&amp;amp;amp;")), "&"))                        // repeated until stable
        // Once a line has '<', unescaping stops for it and every later line.
        #expect(same(fixText(s("a &amp; b\n<x> &amp;\n&amp;")), "a & b\n<x> &amp;\n&amp;"))
    }

    @Test func pythonLowerAndStrip() {
        let u = PythonUnicode.shared
        #expect(same(u.lower(s("İSTANBUL")), "i\u{307}stanbul"))
        #expect(same(u.lower(s("ΟΔΟΣ Σ ΑΣ.")), "οδος σ ας."))
        #expect(same(u.lower(s("ǅ ẞ Ⅻ")), "ǆ ß ⅻ"))
        #expect(same(u.strip(s("\u{1C}\u{3000} x \u{85}")), "x"))
        #expect(same(whitespaceClean(s(" a \t\n b\u{1C}c ")), "a b\u{1C}c"))  // \x1c is not regex \s but strips
    }

    @Test func splitFollowsThePattern() {
        let text = s("it's <|endoftext|>a1,2!? ßx \u{345}y")
        let words = splitWords(text).map { str(Array(text[$0])) }
        #expect(words == ["it", "'s", "<|endoftext|>", "a", "1", ",", "2", "!?", "ßx", "y"])
    }
}
