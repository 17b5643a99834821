// Behaviour pinned to values printed by OpenAI's simple_tokenizer.py / Python's html module (Python 3.11).
import Foundation
import Testing
@testable import ClipTokenizer

@Suite struct TokenizerTests {
    let tokenizer: CLIPTokenizer
    init() throws { tokenizer = try CLIPTokenizer.shared() }

    @Test func byteEncoderIsABijection() {
        #expect(Set(ByteEncoder.order).count == 256)
        #expect(ByteEncoder.character[0x21] == "!")
        #expect(ByteEncoder.character[0x00] == "\u{100}")
        #expect(ByteEncoder.character[0x20] == "\u{120}")   // ' ' → 'Ġ'
        #expect(ByteEncoder.character[0xAD] == "\u{143}")   // the last of the 68 remapped bytes
        for b in 0..<256 { #expect(ByteEncoder.byte(of: ByteEncoder.character[b]) == UInt8(b)) }
    }

    @Test func vocabularyHasClipsLayout() {
        #expect(CLIPTokenizer.vocabularySize == 49408)
        let v = tokenizer.vocabulary
        #expect(String(decoding: v.string(0), as: UTF8.self) == "!")
        #expect(String(decoding: v.string(256), as: UTF8.self) == "!</w>")
        #expect(String(decoding: v.string(512), as: UTF8.self) == "in")       // merge 0: "i n"
        #expect(String(decoding: v.string(49405), as: UTF8.self) == "jekyll</w>")
        #expect(String(decoding: v.string(49406), as: UTF8.self) == "<|startoftext|>")
        #expect(String(decoding: v.string(49407), as: UTF8.self) == "<|endoftext|>")
        #expect(v.merge(ByteEncoder.id[0x69], ByteEncoder.id[0x6E])?.rank == 0)
        #expect(v.merge(ByteEncoder.id[0x69], ByteEncoder.id[0x6E])?.merged == 512)
    }

    @Test func encodesLikeSimpleTokenizer() {
        #expect(tokenizer.encode("a photo of a dog") == [320, 1125, 539, 320, 1929])
        #expect(tokenizer.encode("Tom &amp; Jerry") == [2435, 261, 9164])
        #expect(tokenizer.encode("it&#39;s") == [585, 568])
        #expect(tokenizer.encode("ΟΔΟΣ") == [138, 123, 138, 112, 138, 123, 139, 480])   // final sigma
        #expect(tokenizer.encode("İ") == [328, 16384])                                  // 'i' + U+0307
        #expect(tokenizer.encode("&notit;") == [126, 361, 585, 282])
        #expect(tokenizer.encode("ＬＯＵＤ　ＮＯＩＳＥＳ") == [7464, 31575])                   // ftfy width fix
        #expect(tokenizer.encode("hello<|endoftext|>world") == [3306, 49407, 1002])
        #expect(tokenizer.encode("'ſ") == [6, 129, 379])  // 's under IGNORECASE also matches LONG S
        #expect(tokenizer.encode("") == [])
        #expect(tokenizer.encode(" \t\n ") == [])
    }

    @Test func tokenizeTruncatesKeepingTheEndToken() throws {
        let long = String(repeating: "word ", count: 100)
        let row = try tokenizer.tokenize(long)
        #expect(row.count == 77)
        #expect(row[0] == CLIPTokenizer.startOfText)
        #expect(row[76] == CLIPTokenizer.endOfText)
        #expect(row[1...75].allSatisfy { $0 == tokenizer.encode("word")[0] })
        let short = try tokenizer.tokenize("a photo of a dog")
        #expect(short.prefix(7) == [49406, 320, 1125, 539, 320, 1929, 49407])
        #expect(short.dropFirst(7).allSatisfy { $0 == 0 })
        // 75 words fit exactly (75 + SOT + EOT = 77); nothing is cut.
        let exact = try tokenizer.tokenize(String(repeating: "word ", count: 75), truncate: false)
        #expect(exact[76] == CLIPTokenizer.endOfText)
        #expect(try tokenizer.tokenize("a b c", contextLength: 1) == [CLIPTokenizer.endOfText])
    }

    @Test func tooLongWithoutTruncationIsAnError() {
        let long = String(repeating: "word ", count: 76)
        do {
            _ = try tokenizer.tokenize(long, truncate: false)
            Issue.record("no error for 78 tokens")
        } catch let e as TokenizerError {
            #expect(e.code == "tokenizer.too-long")
            #expect(e.message.contains("78 tokens"))
            #expect(e.message.contains("context length 77"))
        } catch { Issue.record("unexpected \(error)") }
        #expect(throws: TokenizerError.self) { try tokenizer.tokenize("x", contextLength: 0) }
    }

    @Test func decodeInvertsEncode() {
        let ids = tokenizer.encode("naïve café 😀 <|endoftext|>")
        #expect(tokenizer.decode(ids) == "naïve café 😀 <|endoftext|>")
        #expect(tokenizer.decode([320, 1125]) == "a photo ")
    }

    @Test func cachedAndUncachedBPEAgree() {
        for word in ["hello", "supercalifragilistic", "x", "ー日本", "😀😀"] {
            let bytes = Array(word.utf8)
            #expect(tokenizer.bpe(bytes) == tokenizer.bpeUncached(bytes))
            #expect(tokenizer.bpe(bytes) == tokenizer.bpeUncached(bytes))
        }
    }
}
