// Crash-safe writes: temporary file in the same folder, fsync, rename, fsync the folder. The rename
// would replace whatever `path` is, so an existing destination must be a regular file (or a symbolic
// link, which is replaced itself, never its target): `convert … /dev/null` must not replace /dev/null.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum AtomicFile {
    /// Writes `chunks` in order to `path` so that `path` holds either its old content or all of the new.
    public static func write(_ path: String, chunks: [[UInt8]]) throws {
        try write(path) { fd in
            for chunk in chunks { try writeAll(fd, chunk, path: path) }
        }
    }

    /// Opens a temporary file next to `path`, lets `body` write to its descriptor, then commits it.
    public static func write(_ path: String, _ body: (Int32) throws -> Void) throws {
        try requireReplaceable(path)
        let tmp = path + ".tmp-\(getpid())"
        unlink(tmp)  // a stale leftover of this pid; O_EXCL then never opens a FIFO or follows a link
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CoreError("file.unwritable", "cannot create '\(tmp)': \(String(cString: strerror(errno)))")
        }
        do {
            try body(fd)
            guard fsync(fd) == 0 else {
                throw CoreError("file.unwritable", "cannot flush '\(tmp)': \(String(cString: strerror(errno)))", kind: .system)
            }
            close(fd)
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        do { try requireReplaceable(path) } catch {
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw CoreError("file.unwritable", "cannot rename '\(tmp)' to '\(path)': \(reason)")
        }
        syncDirectory(of: path)
    }

    /// Throws when `path` exists as anything rename(2) should not replace: a device, FIFO, socket or folder.
    static func requireReplaceable(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }  // absent (or unreachable: rename will say why)
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFLNK else {
            throw RegularFile.notRegular(path, mode: st.st_mode, doing: "clipwb writes its output by replacing a regular file; choose another output path")
        }
    }

    /// Writes all of `bytes`, retrying short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw CoreError("file.unwritable", "cannot write '\(path)': \(String(cString: strerror(errno)))", kind: .system)
            }
            off += n
        }
    }

    static func syncDirectory(of path: String) {
        let dir: String
        if let slash = path.lastIndex(of: "/") { dir = slash == path.startIndex ? "/" : String(path[..<slash]) } else { dir = "." }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
