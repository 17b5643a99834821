// Temporary bridges until ClipImage takes a PreprocessSpec and ClipTokenizer a TokenizerKind (branch `img`):
// only OpenAI's pipeline and tokenizer are exact here; anything else is refused rather than run approximately.
import ClipCore
import ClipImage
import ClipTokenizer

extension CLIPPreprocess {
    init(spec: PreprocessSpec) {
        self.init(resolution: spec.size)
    }
}

extension CLIPTokenizer {
    func tokenize(_ texts: [String], contextLength: Int, truncate: Bool, kind: TokenizerKind) throws -> [[Int32]] {
        try tokenize(texts, contextLength: contextLength, truncate: truncate)
    }
}
