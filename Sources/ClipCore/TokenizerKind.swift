// Which library's CLIP tokenizer a model was trained and referenced with. Both use the same BPE vocabulary
// and ids; they differ in the special-token strings they recognise inside the text (docs/formats.md).

public enum TokenizerKind: String, Codable, CaseIterable, Sendable {
    /// OpenAI `clip.tokenize`: a literal `<|startoftext|>` / `<|endoftext|>` in the text is that special token.
    case openai
    /// open_clip's `SimpleTokenizer`: its own special-token strings, so OpenAI's spellings are ordinary text.
    case openClip = "open_clip"
}
