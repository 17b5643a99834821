// Texts files: one text per line, strict UTF-8, errors that name the line and the byte offset.
import Foundation
import Testing
@testable import ClipTokenizer

@Suite struct TextFileTests {
    func error(_ bytes: [UInt8]) -> TokenizerError? {
        do { _ = try TextFile.lines(of: bytes, name: "t.txt"); return nil } catch let e as TokenizerError { return e } catch {
            return nil
        }
    }

    @Test func splitsLines() throws {
        #expect(try TextFile.lines(of: Array("a\nb c\n".utf8), name: "t") == ["a", "b c"])
        #expect(try TextFile.lines(of: Array("a\n\nb".utf8), name: "t") == ["a", "", "b"])
        #expect(try TextFile.lines(of: Array("café 😀\r\n".utf8), name: "t") == ["café 😀\r"])
        #expect(try TextFile.lines(of: [], name: "t") == [])
    }

    @Test func invalidUTF8NamesLineAndOffset() throws {
        let cases: [([UInt8], line: Int, offset: Int)] = [
            (Array("ok\nbad ".utf8) + [0xFF] + Array(" x\n".utf8), 2, 7),   // not a lead byte
            (Array("a".utf8) + [0x80], 1, 1),                               // stray continuation
            ([0xC0, 0xAF], 1, 0),                                           // overlong '/'
            (Array("x\ny\nz".utf8) + [0xED, 0xA0, 0x80], 3, 5),             // UTF-8 encoded surrogate
            ([0xF4, 0x90, 0x80, 0x80], 1, 0),                               // above U+10FFFF
            (Array("é".utf8) + [0xE2, 0x82], 1, 2),                         // truncated at end of file
            ([0xE2, 0x28, 0xA1], 1, 0),                                     // bad second byte
        ]
        for c in cases {
            let e = try #require(error(c.0), "no error for \(c.0)")
            #expect(e.code == "texts.invalid-utf8")
            #expect(e.message.contains("line \(c.line), byte offset \(c.offset)"), "\(e.message)")
            #expect(e.message.contains("t.txt"))
        }
        #expect(TextFile.firstInvalidUTF8(Array("ascii, é, 日本, 😀, \u{10FFFF}".utf8)) == nil)
    }

    @Test func missingFileIsAClearError() {
        do {
            _ = try TextFile.readLines("/nonexistent/texts.txt")
            Issue.record("no error")
        } catch let e as TokenizerError {
            #expect(e.code == "texts.missing")
            #expect(e.message.contains("/nonexistent/texts.txt"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func directoryIsAClearError() {
        do {
            _ = try TextFile.readLines(FileManager.default.temporaryDirectory.path)
            Issue.record("no error")
        } catch let e as TokenizerError {
            #expect(e.code == "texts.directory")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func readsAFileFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-texts-\(UUID()).txt").path
        try Data("red shoes\nblue hat\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try TextFile.readLines(path) == ["red shoes", "blue hat"])
    }

    @Test func missingVocabularyIsAClearError() {
        do {
            _ = try CLIPTokenizer(vocabularyPath: "/nonexistent/vocab.txt")
            Issue.record("no error")
        } catch let e as TokenizerError {
            #expect(e.code == "tokenizer.vocab-missing")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func truncatedVocabularyIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-vocab-\(UUID()).txt").path
        try Data("#version: 0.2\ni n\nt h\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try CLIPTokenizer(vocabularyPath: path)
            Issue.record("no error")
        } catch let e as TokenizerError {
            #expect(e.code == "tokenizer.vocab-corrupt")
            #expect(e.message.contains("2 merges"))
        } catch { Issue.record("unexpected \(error)") }
    }
}
