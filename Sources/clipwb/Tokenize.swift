// `clipwb tokenize`: CLIP token ids for texts, as clip.tokenize(texts, context_length, truncate) gives them.
import ArgumentParser
import ClipCore
import ClipTokenizer
import Foundation

extension TokenizerKind: ExpressibleByArgument {}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print CLIP's token ids for texts (clip.tokenize, exact).",
        discussion: """
        Each text becomes [<|startoftext|>] + BPE ids + [<|endoftext|>]. Plain output prints one line per text \
        with the ids up to the end token; --json prints every row zero-padded to the context length, plus the \
        un-truncated ids SimpleTokenizer.encode gives. Texts longer than the context length are cut keeping the \
        end token last, as clip.tokenize(truncate=True) does; with --no-truncate they are an error. \
        --tokenizer open_clip gives open_clip's SimpleTokenizer instead: its special tokens are spelled \
        <start_of_text> / <end_of_text> (same ids), so OpenAI's spellings are ordinary text, and it always truncates.
        """
    )

    @Argument(help: "Texts to tokenize (or use --texts).")
    var texts: [String] = []

    @Option(name: .customLong("texts"), help: ArgumentHelp("A UTF-8 file with one text per line.", valueName: "file"))
    var textsFile: String?

    @Option(help: "Whose tokenizer: openai (clip.tokenize) or open_clip (open_clip.tokenizer.SimpleTokenizer).")
    var tokenizer: TokenizerKind = .openai

    @Option(help: "Tokens per row (CLIP uses 77).")
    var contextLength: Int = CLIPTokenizer.contextLength

    @Flag(inversion: .prefixedNo, help: "Cut long texts to the context length, keeping the end token.")
    var truncate = true

    @Flag(help: "Print JSON: {context_length, truncate, rows: [{text, ids, tokens}]}.")
    var json = false

    @Option(help: ArgumentHelp("Also encode every text N more times and print timings on stderr.",
                               valueName: "N"))
    var timing: Int = 0

    func validate() throws {
        if texts.isEmpty && textsFile == nil {
            throw ValidationError("pass texts as arguments or a file with --texts FILE")
        }
        if !texts.isEmpty && textsFile != nil {
            throw ValidationError("pass texts either as arguments or with --texts FILE, not both")
        }
        if tokenizer == .openClip && !truncate {
            throw ValidationError("open_clip's tokenizer always truncates long texts; drop --no-truncate or use --tokenizer openai")
        }
        if timing < 0 { throw ValidationError("--timing must be 0 or more, got \(timing)") }
        if contextLength < 1 {
            throw ValidationError("--context-length must be at least 1 (CLIP uses 77), got \(contextLength)")
        }
    }

    struct Row: Encodable {
        let text: String
        let ids: [Int32]
        let tokens: [Int32]
    }

    struct Output: Encodable {
        let context_length: Int
        let truncate: Bool
        let rows: [Row]
    }

    func run() throws {
        try reportingErrors {
            let inputs = try textsFile.map { try TextFile.readLines($0) } ?? texts
            let loadStart = DispatchTime.now().uptimeNanoseconds
            let tokenizer = try CLIPTokenizer.shared()
            let kind = self.tokenizer
            let loadNanos = DispatchTime.now().uptimeNanoseconds - loadStart
            var rows: [Row] = []
            rows.reserveCapacity(inputs.count)
            for text in inputs {
                let ids = tokenizer.encode(text, kind: kind)
                let tokens = try tokenizer.row(ids, of: text, contextLength: contextLength, truncate: truncate)
                rows.append(Row(text: text, ids: json ? ids : [], tokens: tokens))
            }
            if timing > 0 { printTiming(tokenizer, inputs, loadNanos: loadNanos) }
            if json {
                try printJSON(Output(context_length: contextLength, truncate: truncate, rows: rows))
                return
            }
            var out = ""
            for row in rows {
                let end = (row.tokens.lastIndex(of: CLIPTokenizer.endOfText) ?? row.tokens.count - 1) + 1
                out += row.tokens[..<end].map(String.init).joined(separator: " ") + "\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }

    /// Vocabulary load time, first (uncached) and repeated (BPE-cached) encoding time per text.
    func printTiming(_ tokenizer: CLIPTokenizer, _ inputs: [String], loadNanos: UInt64) {
        func perText(_ body: () -> Void) -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3 / Double(max(inputs.count, 1))
        }
        let fresh = try? CLIPTokenizer(vocabularyPath: tokenizer.vocabularyPath)
        let uncached = perText { if let fresh { for text in inputs { _ = fresh.encode(text) } } }
        let cached = perText { for _ in 0..<timing { for text in inputs { _ = tokenizer.encode(text) } } } / Double(timing)
        stderrLine(String(format: "vocabulary load %.1f ms; encode %.2f µs/text first time, %.2f µs/text repeated "
            + "(%ld texts × %ld)", Double(loadNanos) / 1e6, uncached, cached, inputs.count, timing))
    }
}
