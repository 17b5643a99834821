// ftfy's mojibake repair, piece by piece, against values ftfy 6.3.1 gives (printed from the exporter venv).
import Foundation
import Testing
@testable import ClipTokenizer

private func cps(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }

@Suite struct MojibakeTests {
    @Test func badnessHeuristic() {
        #expect(Mojibake.isBad(cps("cafÃ©")))
        #expect(!Mojibake.isBad(cps("café")))
        #expect(!Mojibake.isBad(cps("naïve")))
        #expect(Mojibake.isBad(cps("a\u{80}")))     // any C1 control
        #expect(Mojibake.isBad(cps("Î©")))
    }

    @Test func fixEncodingMatchesFtfy() {
        #expect(Mojibake.fixEncoding(cps("sÃ³")) == cps("só"))
        #expect(Mojibake.fixEncoding(cps("voilÃ le travail")) == cps("voilà le travail"))   // restore_byte_a0
        #expect(Mojibake.fixEncoding(cps("â€œ like this â€\u{FFFD}")) == cps("\u{201C} like this \u{FFFD}"))
        #expect(Mojibake.fixEncoding(cps("&ATILDE;&SUP3;")) == cps("&ATILDE;&SUP3;"))
        #expect(Mojibake.decodeInconsistentUTF8(cps("Σ\u{9E} and cafÃ©")) == cps("\u{4DE} and café"))
    }

    @Test func restoreByteA0() {
        #expect(Mojibake.restoreByteA0(Array("voil\u{C3} le".unicodeScalars.map { UInt8($0.value) }))
            == [0x76, 0x6F, 0x69, 0x6C, 0xC3, 0xA0, 0x20, 0x6C, 0x65])
        #expect(Mojibake.restoreByteA0([0xC3, 0x20, 0x73, 0x20, 0x78]) == [0xC3, 0xA0, 0x73, 0x20, 0x78])
    }

    @Test func utf8VariantsDecoder() {
        let bytes: [UInt8] = [0x61, 0xC0, 0x80, 0x62, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]
        #expect(Mojibake.decodeUTF8Variants(bytes) == [0x61, 0x00, 0x62, 0x1F600])
        #expect(Mojibake.decodeUTF8Variants([0xED, 0xA0, 0x80]) == nil)  // a lone surrogate is still an error
        #expect(Mojibake.decodeUTF8([0xC0, 0x80]) == nil)
    }

    @Test func mojibakeIsRepairedBeforeTokenizing() throws {
        let tokenizer = try CLIPTokenizer.shared()
        #expect(tokenizer.encode("cafÃ© crÃ¨me mojibake") == tokenizer.encode("café crème mojibake"))
    }
}
