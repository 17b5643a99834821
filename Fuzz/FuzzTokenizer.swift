// libFuzzer target over the tokenizer: text-file splitting (UTF-8 validation), cleaning (ftfy, HTML unescape,
// NFC), word splitting, BPE, clip.tokenize's row, and decode. The vocabulary comes from CLIPWB_BPE_VOCAB
// (run.sh sets it to Sources/ClipTokenizer/Resources/bpe_simple_vocab_48894.txt).
import ClipCore
import ClipTokenizer

private let tokenizer: CLIPTokenizer = {
    do { return try CLIPTokenizer.shared() } catch { fatalError("cannot load the BPE vocabulary: \(error)") }
}()

func fuzzSeeds() throws -> [String: [UInt8]] {
    let texts = ["a photo of a cat", "Ünïcödé &amp; <b>HTML</b>", "cafÃ© mojibake", "emoji 👩‍👩‍👧 ‼️",
                 "   spaced\t\ttabs\r\nlines\n", "I'll've it's 123,456.7", "日本語のテキスト", String(repeating: "long ", count: 100)]
    var out: [String: [UInt8]] = [:]
    for (i, t) in texts.enumerated() { out["text-\(i).txt"] = Array(t.utf8) }
    out["invalid-utf8.txt"] = [0x61, 0xFF, 0xC3, 0x28, 0x0A, 0xE2, 0x82]
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let ids = tokenizer.encode(text)
        precondition(ids.allSatisfy { $0 >= 0 && Int($0) < CLIPTokenizer.vocabularySize }, "an id outside the vocabulary")
        let row = try tokenizer.tokenize(text)
        precondition(row.count == CLIPTokenizer.contextLength && row[0] == CLIPTokenizer.startOfText)
        _ = tokenizer.decode(ids)
        _ = try TextFile.lines(of: bytes, name: "fuzz input")
    }
}
