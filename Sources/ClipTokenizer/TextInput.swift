// Where the vocabulary lives, and reading texts from a file: one text per line, strict UTF-8.
import ClipCore
import Foundation

/// The merges file: $CLIPWB_BPE_VOCAB, else the SwiftPM resource bundle beside the executable, else the source tree.
/// (Bundle.module would end the process when the bundle is missing; this throws a message instead.)
func locateVocabulary() throws -> String {
    let name = "bpe_simple_vocab_48894.txt"
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["CLIPWB_BPE_VOCAB"], !env.isEmpty { candidates.append(env) }
    var dirs: [URL] = []
    if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() { dirs.append(exe.deletingLastPathComponent()) }
    dirs.append(Bundle.main.bundleURL)
    for dir in dirs {
        candidates.append(dir.appendingPathComponent("clipwb_ClipTokenizer.resources/\(name)").path)
        candidates.append(dir.appendingPathComponent("clipwb_ClipTokenizer.bundle/Contents/Resources/\(name)").path)
        candidates.append(dir.appendingPathComponent("clipwb_ClipTokenizer.bundle/\(name)").path)
    }
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    candidates.append(source.appendingPathComponent("Resources/\(name)").path)
    if let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return found }
    throw TokenizerError("tokenizer.vocab-missing", "cannot find CLIP's BPE vocabulary \(name) (looked in "
        + "\(candidates.joined(separator: ", "))); set CLIPWB_BPE_VOCAB to its path", kind: .system)
}

public enum TextFile {
    /// The texts of a file, one per line ('\n'; a final newline does not start another text; a '\r' before
    /// it stays in the text, where cleaning removes it). Bytes that are not UTF-8 are an error naming the
    /// line and the byte offset, since Python would refuse to decode them too.
    public static func readLines(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists else {
            throw TokenizerError("texts.missing", "the texts file \(path) does not exist; pass a file with one text per line")
        }
        guard !isDirectory.boolValue else {
            throw TokenizerError("texts.directory", "\(path) is a directory; pass a file with one text per line")
        }
        let bytes: [UInt8]
        do { bytes = try RegularFile.contents(path) } catch let e as CoreError {
            guard e.code == "file.not-regular" else {
                throw TokenizerError("texts.unreadable", "cannot read the texts file \(path); check its permissions")
            }
            throw TokenizerError("texts.not-regular", e.message)  // a FIFO would block the read forever
        }
        return try lines(of: bytes, name: path)
    }

    /// Splits and validates bytes as `readLines` does; `name` names the source in errors.
    public static func lines(of bytes: [UInt8], name: String) throws -> [String] {
        if let bad = firstInvalidUTF8(bytes) {
            let line = bytes[..<bad].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            let lineStart = bytes[..<bad].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            throw TokenizerError("texts.invalid-utf8", "\(name) is not valid UTF-8: line \(line), byte offset \(bad) "
                + "(column \(bad - lineStart + 1) in bytes), byte 0x\(String(format: "%02X", bytes[bad])); "
                + "convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8)")
        }
        if bytes.isEmpty { return [] }
        var texts = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if bytes.last == 0x0A { texts.removeLast() }
        return texts
    }

    /// Offset of the first byte that strict UTF-8 (Python's "utf-8" codec) rejects: stray continuation bytes,
    /// overlong forms, surrogates, values above U+10FFFF, truncated sequences.
    public static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let n: Int, lo: UInt8, hi: UInt8  // length, and the allowed range of the second byte
            switch c {
            case 0xC2...0xDF: (n, lo, hi) = (2, 0x80, 0xBF)
            case 0xE0: (n, lo, hi) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (n, lo, hi) = (3, 0x80, 0xBF)
            case 0xED: (n, lo, hi) = (3, 0x80, 0x9F)
            case 0xF0: (n, lo, hi) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (n, lo, hi) = (4, 0x80, 0xBF)
            case 0xF4: (n, lo, hi) = (4, 0x80, 0x8F)
            default: return i
            }
            guard i + 1 < b.count, (lo...hi).contains(b[i + 1]) else { return i }
            for k in 2..<n where i + k >= b.count || b[i + k] & 0xC0 != 0x80 { return i }
            i += n
        }
        return nil
    }
}
