// simple_tokenizer.py's text path before BPE: basic_clean, whitespace_clean, .lower(), and re.findall(self.pat);
// open_clip 3.3.0's tokenizer.py (clean='lower') differs only in whitespace_clean and the special-token strings.
import ClipCore

/// basic_clean: ftfy.fix_text, then html.unescape twice, then str.strip().
func basicClean(_ text: Scalars) -> Scalars {
    let fixed = fixText(text)
    return PythonUnicode.shared.strip(htmlUnescape(htmlUnescape(fixed)))
}

/// whitespace_clean: re.sub(r'\s+', ' ', text) with the `regex` module's \s, then str.strip().
func whitespaceClean(_ text: Scalars) -> Scalars {
    PythonUnicode.shared.strip(collapseSpace(text))
}

/// open_clip's whitespace_clean: " ".join(text.split()) — str.split() breaks on str.isspace() runs (which,
/// unlike the `regex` module's \s, include U+001C…U+001F; ftfy has removed those before, so the results agree).
func splitJoinClean(_ text: Scalars) -> Scalars { collapse(text, space: PythonUnicode.pythonSpace, keepEnds: false) }

/// Every run of `space` scalars as one " ". keepEnds: `re.sub(r"\s+", " ", text)` (a run at either end stays one
/// space); otherwise `" ".join(text.split())` (runs at the ends are dropped).
func collapse(_ text: Scalars, space: UInt8, keepEnds: Bool) -> Scalars {
    let unicode = PythonUnicode.shared
    var out = Scalars()
    out.reserveCapacity(text.count)
    var pending = false
    for c in text {
        if unicode.has(c, space) {
            pending = keepEnds || !out.isEmpty
            continue
        }
        if pending { out.append(" ") }
        pending = false
        out.append(c)
    }
    if pending && keepEnds { out.append(" ") }
    return out
}

/// The text encode() splits: whitespace_clean(basic_clean(text)).lower() (open_clip's `_clean_lower`);
/// Hugging Face's normalizer instead: NFC, every \s run to one space (no strip), lowercase (no ftfy, no
/// html.unescape).
func cleanText(_ text: Scalars, kind: TokenizerKind = .openai) -> Scalars {
    switch kind {
    case .openai: return PythonUnicode.shared.lower(whitespaceClean(basicClean(text)))
    case .openClip: return PythonUnicode.shared.lower(splitJoinClean(basicClean(text)))
    case .hf: return PythonUnicode.shared.lowerEach(collapseSpace(PythonUnicode.nfc(text)))
    }
}

/// Replace(Regex("\\s+"), " "): runs of white space become one space, the ends kept.
func collapseSpace(_ text: Scalars) -> Scalars { collapse(text, space: PythonUnicode.regexSpace, keepEnds: true) }

/// The special tokens `self.pat` matches first (and `self.cache` maps to themselves): OpenAI's
/// `<|startoftext|>` / `<|endoftext|>`, open_clip's `<start_of_text>` / `<end_of_text>`; same ids 49406 / 49407.
func specialTokens(_ kind: TokenizerKind) -> (start: String, end: String) {
    kind == .openai ? ("<|startoftext|>", "<|endoftext|>") : ("<start_of_text>", "<end_of_text>")
}

/// re.findall of
/// `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+` (re.IGNORECASE),
/// as ranges of `text` (open_clip: `<start_of_text>|<end_of_text>|…`, the rest alike). Alternatives are tried in order at each position; a position no alternative matches
/// (whitespace, and U+0345, which IGNORECASE keeps out of both \p{L} and its complement) is skipped.
func splitWords(_ text: Scalars, kind: TokenizerKind = .openai) -> [Range<Int>] {
    let unicode = PythonUnicode.shared
    let special = specialTokens(kind)
    var words: [Range<Int>] = []
    var i = 0
    while i < text.count {
        let c = text[i]
        if kind != .hf, c == "<", let n = matchLiteral(text, i, special.start) ?? matchLiteral(text, i, special.end) {
            words.append(i..<(i + n)); i += n; continue
        }
        if c == "'", let n = matchContraction(text, i, exact: kind == .hf) {
            words.append(i..<(i + n)); i += n; continue
        }
        let flags = unicode.flags(c)
        if flags & PythonUnicode.letter != 0 {
            var j = i + 1
            while j < text.count, unicode.has(text[j], PythonUnicode.letter) { j += 1 }
            words.append(i..<j); i = j
        } else if flags & PythonUnicode.number != 0 {
            words.append(i..<(i + 1)); i += 1
        } else if kind == .hf ? unicode.isOtherCaseSensitive(c) : unicode.isOther(c) {
            var j = i + 1
            while j < text.count, kind == .hf ? unicode.isOtherCaseSensitive(text[j]) : unicode.isOther(text[j]) { j += 1 }
            words.append(i..<j); i = j
        } else {
            i += 1
        }
    }
    return words
}

/// The contractions, in the pattern's order: 's|'t|'re|'ve|'m|'ll|'d.
private let contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]

/// `exact`: Hugging Face's pre-tokenizer pattern has no IGNORECASE (its input is lowercased already).
private func matchContraction(_ text: Scalars, _ i: Int, exact: Bool = false) -> Int? {
    for literal in contractions {
        if exact {
            let l = Array(literal.unicodeScalars)
            if i + l.count <= text.count, Array(text[i..<(i + l.count)]) == l { return l.count }
        } else if let n = matchLiteral(text, i, literal) { return n }
    }
    return nil
}

/// A case-insensitive literal as the `regex` module matches it: an ASCII letter matches either case, and
/// 's' also matches U+017F LATIN SMALL LETTER LONG S (their simple case folds agree). Returns its length.
private func matchLiteral(_ text: Scalars, _ i: Int, _ literal: String) -> Int? {
    var j = i
    for l in literal.unicodeScalars {
        guard j < text.count else { return nil }
        let c = text[j].value
        let ok = c == l.value
            || (l.properties.isAlphabetic && c == (l.value ^ 0x20))
            || (l == "s" && c == 0x17F)
        guard ok else { return nil }
        j += 1
    }
    return j - i
}
