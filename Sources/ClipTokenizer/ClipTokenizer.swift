// ClipTokenizer reproduces OpenAI CLIP's clip/simple_tokenizer.py (SimpleTokenizer.encode/bpe/decode) and
// clip.tokenize(texts, context_length=77, truncate=...): byte-level BPE over 49,408 tokens, exact to the id;
// with kind .openClip, open_clip 3.3.0's SimpleTokenizer (clean='lower', no reduction mask) instead.
import ClipCore
import Foundation

public enum TokenizerErrors: ErrorDomain { public static let library = "ClipTokenizer" }
public typealias TokenizerError = LibraryError<TokenizerErrors>

extension LibraryError where Domain == TokenizerErrors {
    static func corruptVocabulary(_ why: String) -> TokenizerError {
        TokenizerError("tokenizer.vocab-corrupt", "the BPE vocabulary file is not CLIP's: \(why); "
            + "restore Sources/ClipTokenizer/Resources/bpe_simple_vocab_48894.txt and rebuild", kind: .system)
    }
}

public final class CLIPTokenizer: @unchecked Sendable {
    public static let contextLength = 77
    public static let startOfText: Int32 = Vocabulary.startOfText
    public static let endOfText: Int32 = Vocabulary.endOfText
    public static let vocabularySize = Vocabulary.size

    let vocabulary: Vocabulary
    /// The merges file this tokenizer was loaded from.
    public let vocabularyPath: String
    /// self.cache: BPE result per byte-encoded word (it only saves time). Guarded by `lock`.
    private var cache: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()

    /// The tokenizer over CLIP's vocabulary, loaded once on first use (about 10 ms in a release build).
    public static func shared() throws -> CLIPTokenizer { try loaded.get() }
    private static let loaded = Result<CLIPTokenizer, Error> { try CLIPTokenizer(vocabularyPath: try locateVocabulary()) }

    /// Loads the merges file (bpe_simple_vocab_16e6.txt's header plus 48,894 merge lines).
    public init(vocabularyPath path: String) throws {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch {
            throw TokenizerError("tokenizer.vocab-missing", "cannot read the BPE vocabulary at \(path) (\(error)); "
                + "set CLIPWB_BPE_VOCAB to bpe_simple_vocab_48894.txt or reinstall clipwb", kind: .system)
        }
        vocabulary = try file.withBytes { try Vocabulary(mergesFile: $0.bindMemory(to: UInt8.self)) }
        vocabularyPath = path
    }

    /// SimpleTokenizer.encode(text): token ids without the start and end tokens. `kind` chooses whose
    /// SimpleTokenizer: which special-token strings in the text are special, and open_clip's whitespace_clean.
    public func encode(_ text: String, kind: TokenizerKind = .openai) -> [Int32] {
        if kind == .hf { return encodeHF(Array(text.unicodeScalars)) }
        let cleaned = cleanText(Array(text.unicodeScalars), kind: kind)
        let specials = kind == .openai ? Self.openaiSpecials : Self.openClipSpecials
        var ids: [Int32] = []
        var utf8: [UInt8] = []
        for word in splitWords(cleaned, kind: kind) {
            utf8.removeAll(keepingCapacity: true)
            for s in cleaned[word] { utf8.append(contentsOf: UTF8.encode(s)!) }
            if utf8.first == 0x3C, let special = specials[utf8] { ids.append(contentsOf: special); continue }
            ids.append(contentsOf: bpe(utf8))
        }
        return ids
    }

    /// Hugging Face CLIPTokenizer: the special tokens are found in the raw text as written (case-sensitive, not
    /// normalized), and each piece between them is normalized (NFC, spaces, lowercase), split by CLIP's pattern
    /// without IGNORECASE and byte-pair encoded. Rows are zero-padded as OpenAI's (HF pads with 49407 under an
    /// attention mask; the text features are read at the first end token either way).
    func encodeHF(_ text: Scalars) -> [Int32] {
        let specials: [(Scalars, Int32)] = [(Array("<|startoftext|>".unicodeScalars), Self.startOfText),
                                            (Array("<|endoftext|>".unicodeScalars), Self.endOfText)]
        var ids: [Int32] = []
        var start = 0, i = 0
        func flush(_ end: Int) {
            guard start < end else { return }
            let cleaned = cleanText(Array(text[start..<end]), kind: .hf)
            var utf8: [UInt8] = []
            for word in splitWords(cleaned, kind: .hf) {
                utf8.removeAll(keepingCapacity: true)
                for s in cleaned[word] { utf8.append(contentsOf: UTF8.encode(s)!) }
                ids.append(contentsOf: bpe(utf8))
            }
        }
        while i < text.count {
            if text[i] == "<", let (literal, id) = specials.first(where: { i + $0.0.count <= text.count && Array(text[i..<(i + $0.0.count)]) == $0.0 }) {
                flush(i)
                ids.append(id)
                i += literal.count
                start = i
            } else {
                i += 1
            }
        }
        flush(text.count)
        return ids
    }

    /// clip.tokenize for one text: [SOT] + encode(text) + [EOT], zero-padded to `contextLength`. Too long:
    /// with `truncate`, the first `contextLength` ids with the last replaced by EOT; without, an error.
    /// open_clip's tokenizer always truncates that way (its EOT stays at position 76).
    public func tokenize(_ text: String, kind: TokenizerKind = .openai, contextLength: Int = CLIPTokenizer.contextLength,
                         truncate: Bool = true) throws -> [Int32] {
        try row(encode(text, kind: kind), of: text, contextLength: contextLength, truncate: truncate)
    }

    /// The row clip.tokenize makes from `ids` = encode(text); `text` only names it in the error.
    public func row(_ ids: [Int32], of text: String, contextLength: Int = CLIPTokenizer.contextLength,
                    truncate: Bool = true) throws -> [Int32] {
        guard contextLength >= 1 else {
            throw TokenizerError("tokenizer.context-length", "context length must be at least 1 (CLIP uses 77)")
        }
        var tokens = [Self.startOfText] + ids + [Self.endOfText]
        if tokens.count > contextLength {
            guard truncate else {
                throw TokenizerError("tokenizer.too-long", "text \(index: text) is \(tokens.count) tokens, longer "
                    + "than the context length \(contextLength); shorten it or allow truncation")
            }
            tokens.removeLast(tokens.count - contextLength)
            tokens[contextLength - 1] = Self.endOfText
        }
        return tokens + [Int32](repeating: 0, count: contextLength - tokens.count)
    }

    /// clip.tokenize(texts, context_length, truncate) (or open_clip's tokenizer(texts)): one row per text.
    public func tokenize(_ texts: [String], kind: TokenizerKind = .openai, contextLength: Int = CLIPTokenizer.contextLength,
                         truncate: Bool = true) throws -> [[Int32]] {
        try texts.map { try tokenize($0, kind: kind, contextLength: contextLength, truncate: truncate) }
    }

    /// SimpleTokenizer.decode: ids back to bytes through the byte decoder, UTF-8 with U+FFFD for bad
    /// sequences, then '</w>' → ' '. Ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where id >= 0 && Int(id) < Self.vocabularySize {
            for c in String(decoding: vocabulary.string(id), as: UTF8.self).unicodeScalars {
                bytes.append(ByteEncoder.byte(of: c))
            }
        }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "</w>", with: " ")
    }

    /// The entries each SimpleTokenizer puts in its cache up front: these two words are never split.
    private static let openaiSpecials: [[UInt8]: [Int32]] = [
        Array("<|startoftext|>".utf8): [startOfText], Array("<|endoftext|>".utf8): [endOfText],
    ]
    private static let openClipSpecials: [[UInt8]: [Int32]] = [
        Array("<start_of_text>".utf8): [startOfText], Array("<end_of_text>".utf8): [endOfText],
    ]

    /// SimpleTokenizer.bpe on one byte-encoded word (not a special token), with its cache.
    func bpe(_ word: [UInt8]) -> [Int32] {
        lock.lock()
        let hit = cache[word]
        lock.unlock()
        if let hit { return hit }
        let ids = bpeUncached(word)
        lock.lock()
        if cache.count >= 100_000 { cache.removeAll(keepingCapacity: true) }  // bounded; results are unchanged
        cache[word] = ids
        lock.unlock()
        return ids
    }

    /// The merge loop: repeatedly join every left-to-right occurrence of the lowest-ranked adjacent pair.
    func bpeUncached(_ bytes: [UInt8]) -> [Int32] {
        var word = bytes.map { ByteEncoder.id[Int($0)] }
        word[word.count - 1] += 256  // the last character carries '</w>'
        var next: [Int32] = []
        next.reserveCapacity(word.count)
        while word.count > 1 {
            var best: (rank: UInt32, first: Int32, second: Int32, merged: Int32)?
            for k in 0..<(word.count - 1) {
                if let m = vocabulary.merge(word[k], word[k + 1]), m.rank < (best?.rank ?? .max) {
                    best = (m.rank, word[k], word[k + 1], m.merged)
                }
            }
            guard let best else { break }
            next.removeAll(keepingCapacity: true)
            var k = 0
            while k < word.count {
                if k + 1 < word.count && word[k] == best.first && word[k + 1] == best.second {
                    next.append(best.merged)
                    k += 2
                } else {
                    next.append(word[k])
                    k += 1
                }
            }
            swap(&word, &next)
        }
        return word
    }
}

extension String.StringInterpolation {
    /// A text in an error message: quoted with escapes (newlines show as \n), cut to 60 characters.
    mutating func appendInterpolation(index text: String) {
        let shown = String(text.prefix(60)).debugDescription
        appendLiteral(text.count > 60 ? String(shown.dropLast()) + "…\"" : shown)
    }
}
