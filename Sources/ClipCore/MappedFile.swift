// A read-only view of a whole regular file that owns its memory and releases it in deinit: either a
// mapping of the file (pages read lazily, shared with the page cache) or a private copy read at open
// (for long-running processes: a file truncated under a live mapping kills the process with SIGBUS).
// Views are lent through `withBytes`; callers never keep the pointer past the owner.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class MappedFile: @unchecked Sendable {
    /// How the bytes are held.
    public enum Backing: Sendable {
        /// mmap of the file: no copy, but touching a page the file no longer has raises SIGBUS.
        case mapping
        /// Anonymous memory filled by read(2) at open: later changes to the file cannot reach it.
        case privateCopy
    }

    public let path: String
    public let count: Int
    public let backing: Backing
    private let base: UnsafeRawPointer?

    /// Maps (or copies) `path` read-only. Anything but a regular file is refused (a FIFO would block
    /// forever, a device has no size). An empty file gives zero bytes (no mmap call).
    public init(path: String, backing: Backing = .mapping) throws {
        self.path = path
        self.backing = backing
        let (fd, size) = try RegularFile.open(path)
        defer { close(fd) }
        count = size
        if count == 0 {
            base = nil
            return
        }
        switch backing {
        case .mapping:
            let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let p, p != MAP_FAILED else {
                throw CoreError("file.mmap", "cannot map '\(path)': \(String(cString: strerror(errno)))", kind: .system)
            }
            base = UnsafeRawPointer(p)
        case .privateCopy:
            guard let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
                throw CoreError("file.memory", "cannot allocate \(count) bytes to read '\(path)': \(String(cString: strerror(errno)))", kind: .system)
            }
            // Huge pages where the kernel offers them (transparent_hugepage "madvise" or "always"): a search touches
            // thousands of scattered 2 KB nodes, and with 4 KB pages each is a TLB miss. Advice only; no error.
            #if os(Linux)
            if count >= 1 << 21 { _ = madvise(p, count, Int32(MADV_HUGEPAGE)) }
            #endif
            do { try RegularFile.read(fd, into: p, count: count, path: path) } catch {
                munmap(p, count)
                throw error
            }
            mprotect(p, count, PROT_READ)
            base = UnsafeRawPointer(p)
        }
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Lends the bytes. Empty files lend an empty buffer.
    @inline(__always)
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The base address, for views whose lifetime is tied to this object (they must retain it).
    public var baseAddress: UnsafeRawPointer? { base }

    /// Asks the kernel to read the whole file ahead (used before a full scan).
    public func adviseWillNeed() {
        if let base, backing == .mapping { madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_WILLNEED) }
    }
}

/// The one way clipwb opens an input file: never blocking, never anything but a regular file.
public enum RegularFile {
    /// Throws unless `path` opens as a regular file: for inputs handed to C libraries that open by path (libhdf5).
    public static func require(_ path: String) throws {
        close(try open(path).fd)
    }

    /// The whole file, read (not mapped): for bytes that are copied anyway (images served or ingested).
    public static func contents(_ path: String) throws -> [UInt8] {
        let (fd, size) = try open(path)
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: size)
        if size > 0 { try out.withUnsafeMutableBytes { try read(fd, into: $0.baseAddress!, count: size, path: path) } }
        return out
    }

    /// Opens read-only with O_NONBLOCK (so a FIFO without a writer cannot block the open) and refuses
    /// anything fstat does not call a regular file. Returns the descriptor and the size.
    static func open(_ path: String) throws -> (fd: Int32, size: Int) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw CoreError(errno == ENOENT ? "file.missing" : "file.unreadable", "cannot open '\(path)': \(reason)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw CoreError("file.unreadable", "cannot stat '\(path)': \(reason)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw notRegular(path, mode: st.st_mode)
        }
        return (fd, Int(st.st_size))
    }

    /// "'x' is not a regular file (it is a named pipe); …", the error of every file input and output.
    static func notRegular(_ path: String, mode: mode_t, doing what: String = "pass a regular file") -> CoreError {
        let kind: String
        switch mode & S_IFMT {
        case S_IFIFO: kind = "a named pipe (FIFO)"
        case S_IFCHR: kind = "a character device"
        case S_IFBLK: kind = "a block device"
        case S_IFDIR: kind = "a directory"
        case S_IFSOCK: kind = "a socket"
        default: kind = "not a file"
        }
        return CoreError("file.not-regular", "'\(path)' is not a regular file (it is \(kind)); \(what)")
    }

    /// Reads `out.count` bytes at byte `offset` of the regular file `path` (a piece of a file another library
    /// describes, e.g. an HDF5 dataset's contiguous data).
    public static func read(_ path: String, at offset: Int, into out: UnsafeMutableRawBufferPointer) throws {
        let (fd, size) = try open(path)
        defer { close(fd) }
        guard offset >= 0, offset <= size, out.count <= size - offset else {
            throw CoreError("file.unreadable", "cannot read '\(path)': bytes \(offset)..<\(offset + out.count) are past its end (\(size) bytes)")
        }
        if let base = out.baseAddress, out.count > 0 { try read(fd, into: base, count: out.count, path: path, at: offset) }
    }

    /// Reads exactly `count` bytes from byte `at` (the start unless given) of `fd` into `p`.
    static func read(_ fd: Int32, into p: UnsafeMutableRawPointer, count: Int, path: String, at start: Int = 0) throws {
        var off = 0
        while off < count {
            let n = pread(fd, p + off, count - off, off_t(start + off))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let reason = n < 0 ? String(cString: strerror(errno)) : "it shrank to \(off) bytes while being read"
                throw CoreError("file.unreadable", "cannot read '\(path)' (\(count) bytes): \(reason); retry once it is no longer being written")
            }
            off += n
        }
    }
}
