// Issue 12, item 10: outputs never replace a device or FIFO; a private copy outlives its file.
// (FIFO inputs of every library are tested in ClipServerTests/NonRegularInputTests, which sees them all.)
import Testing
import Foundation
@testable import ClipCore

@Suite struct FileSafetyTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-files-\(UUID())").path

    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

    func fileType(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    @Test func writingOverAFIFOIsRefusedAndLeavesIt() throws {
        let out = dir + "/out.npy"
        #expect(mkfifo(out, 0o600) == 0)
        do {
            try NPY.write(Matrix(rows: 1, cols: 2, data: [1, 2]), to: out)
            Issue.record("the FIFO was replaced")
        } catch let e as CoreError {
            #expect(e.code == "file.not-regular")
            #expect(e.message == "'\(out)' is not a regular file (it is a named pipe (FIFO)); clipwb writes its output by replacing a regular file; choose another output path")
        }
        #expect(fileType(out) == S_IFIFO)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.npy"])  // no temporary left
    }

    @Test func writingOverAFolderIsRefused() throws {
        let out = dir + "/folder"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        #expect(throws: CoreError.self) { try AtomicFile.write(out, chunks: [[1, 2, 3]]) }
        #expect(fileType(out) == S_IFDIR)
    }

    @Test func regularFilesAndLinksAreStillReplaced() throws {
        let out = dir + "/x.bin", link = dir + "/link.bin"
        try AtomicFile.write(out, chunks: [[1]])
        try AtomicFile.write(out, chunks: [[2, 3]])
        #expect(try RegularFile.contents(out) == [2, 3])
        #expect(symlink(out, link) == 0)
        try AtomicFile.write(link, chunks: [[4]])  // the link itself is replaced, never its target
        #expect(fileType(link) == S_IFREG)
        #expect(try RegularFile.contents(out) == [2, 3])
    }

    @Test func devicesAreNotInputs() {
        for backing in [MappedFile.Backing.mapping, .privateCopy] {
            do { _ = try MappedFile(path: "/dev/null", backing: backing); Issue.record("mapped /dev/null") } catch let e as CoreError {
                #expect(e.message == "'/dev/null' is not a regular file (it is a character device); pass a regular file")
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func privateCopyOutlivesTruncation() throws {
        let path = dir + "/data.bin"
        let bytes = (0..<10_000).map { UInt8($0 % 251) }
        try AtomicFile.write(path, chunks: [bytes])
        let copy = try MappedFile(path: path, backing: .privateCopy)
        #expect(truncate(path, 0) == 0)
        #expect(copy.withBytes { Array($0) } == bytes)
        #expect(copy.count == 10_000)
        #expect(try MappedFile(path: path, backing: .privateCopy).count == 0)
    }
}
