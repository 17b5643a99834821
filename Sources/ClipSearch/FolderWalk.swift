// Finding the images under folders: regular files whose first bytes are the magic of a format clipwb decodes (ImageDecoder.format),
// in sorted order (so ids are reproducible), skipping hidden files and the catalog itself.
import ClipCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The image inputs of `embed --images` and `ingest`, walked the same way.
public enum ImageInputs {
    /// Files as given (they must exist and be regular files); a folder becomes every image file
    /// below it (by magic bytes, hidden files skipped), sorted, named `FOLDER/relative/path`.
    /// `ignored` counts files in folders that are not images.
    public static func expand(_ inputs: [String], ignored: inout Int) throws -> [String] {
        var out: [String] = []
        for p in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                throw SearchError("images.missing", "'\(p)' does not exist; pass image files or folders of them")
            }
            guard isDir.boolValue else { out.append(p); continue }
            let found = try FolderWalk.imageFiles(in: [p], skipping: nil, ignored: &ignored)
            if found.isEmpty {
                throw SearchError("images.empty-folder", "the folder '\(p)' holds no images clipwb reads (JPEG, PNG, GIF, BMP, TIFF, WebP, PPM; judged by their first bytes)")
            }
            let prefix = p.hasSuffix("/") ? String(p.dropLast()) : p
            out += found.map { prefix + "/" + $0.relative }
        }
        return out
    }
}

enum FolderWalk {
    struct File: Sendable {
        /// The folder as given, made absolute and standardized.
        var root: String
        /// The path below `root`.
        var relative: String
        var absolute: String { root + "/" + relative }
    }

    static func imageFiles(in folders: [String], skipping catalogDir: String?, ignored: inout Int) throws -> [File] {
        let fm = FileManager.default
        let skip = catalogDir.map(absolute)
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
                if let skip, full == skip || full.hasPrefix(skip + "/") { walker.skipDescendants(); continue }
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
