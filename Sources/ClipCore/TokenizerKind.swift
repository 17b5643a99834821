// Which library's CLIP tokenizer a model was trained and referenced with. All use the same BPE vocabulary
// and ids; they differ in text cleaning and in the special-token strings they recognise inside the text
// (docs/tokenizer.md).

public enum TokenizerKind: String, Codable, CaseIterable, Sendable {
    /// OpenAI `clip.tokenize`: ftfy + HTML unescape + whitespace clean + lowercase; a literal
    /// `<|startoftext|>` / `<|endoftext|>` in the text (any case) is that special token.
    case openai
    /// open_clip's `SimpleTokenizer`: its own special-token strings (`<start_of_text>`, `<end_of_text>`), so
    /// OpenAI's spellings are ordinary text.
    case openClip = "open_clip"
    /// Hugging Face `CLIPTokenizer` (tokenizers-backed): NFC + whitespace collapse + lowercase, no ftfy and no
    /// HTML unescape; `<|startoftext|>` / `<|endoftext|>` are special only as written (case-sensitive).
    case hf
}
