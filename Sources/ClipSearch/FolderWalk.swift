// Finding the images under folders: regular files whose first bytes are the magic of a format clipwb decodes (ImageDecoder.format),
// in sorted order (so ids are reproducible), skipping hidden files and the catalog itself.
import ClipCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum FolderWalk {
    struct File: Sendable {
        /// The folder as given, made absolute and standardized.
        var root: String
        /// The path below `root`.
        var relative: String
        var absolute: String { root + "/" + relative }
    }

    static func imageFiles(in folders: [String], skipping catalogDir: String, ignored: inout Int) throws -> [File] {
        let fm = FileManager.default
        let skip = absolute(catalogDir)
        var out: [File] = []
        for folder in folders {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
                throw SearchError("ingest.not-a-folder", "'\(folder)' is not a folder; pass folders of images")
            }
            let root = absolute(folder)
            guard let walker = fm.enumerator(atPath: root) else {
                throw SearchError("ingest.unreadable-folder", "cannot list the folder '\(folder)'")
            }
            var names: [String] = []
            while let rel = walker.nextObject() as? String {
                let full = root + "/" + rel
                if full == skip || full.hasPrefix(skip + "/") { walker.skipDescendants(); continue }
                if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                var st = stat()
                guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                names.append(rel)
            }
            for rel in names.sorted() {
                if ImageFormat(magic: head(root + "/" + rel)) != nil {
                    out.append(File(root: root, relative: rel))
                } else {
                    ignored += 1
                }
            }
        }
        return out
    }

    static func absolute(_ path: String) -> String {
        let p = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: p).standardizedFileURL.path
    }

    /// The first 8 bytes of a file (fewer if it is shorter or unreadable).
    static func head(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // lstat said regular; if it changed, never block
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var b = [UInt8](repeating: 0, count: 8)
        let n = b.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 8) }
        return Array(b.prefix(max(n, 0)))
    }

    static func read(_ path: String) throws -> [UInt8] {
        do { return try RegularFile.contents(path) } catch let e as CoreError {
            throw SearchError("ingest.unreadable-file", "cannot read an image: \(e.message)")
        }
    }
}
