// A read-only memory mapping that owns its file descriptor and unmaps in deinit.
// Views are lent through `withBytes`; callers never keep the pointer past the owner.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Maps `path` read-only. An empty file maps to zero bytes (no mmap call).
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw CoreError(errno == ENOENT ? "file.missing" : "file.unreadable",
                            "cannot open '\(path)': \(reason)")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw CoreError("file.unreadable", "cannot stat '\(path)': \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw CoreError("file.not-regular", "'\(path)' is not a regular file")
        }
        count = Int(st.st_size)
        if count == 0 {
            base = nil
            return
        }
        let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw CoreError("file.mmap", "cannot map '\(path)': \(String(cString: strerror(errno)))", kind: .system)
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Lends the mapped bytes. Empty files lend an empty buffer.
    @inline(__always)
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The base address, for views whose lifetime is tied to this object (they must retain it).
    public var baseAddress: UnsafeRawPointer? { base }

    /// Asks the kernel to read the whole file ahead (used before a full scan).
    public func adviseWillNeed() {
        if let base { madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_WILLNEED) }
    }
}
