// One anonymous mapping of floats, 2 MiB-aligned and marked for transparent huge pages: a loader fills
// hundreds of MB at once, and 4 KiB page faults would cost more than the copy itself.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class FloatArena: @unchecked Sendable {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>
    private let mapping: UnsafeMutableRawPointer
    private let mappedBytes: Int

    public init(count: Int) throws {
        self.count = count
        let huge = 2 << 20
        let bytes = max(count * 4, 1)
        mappedBytes = (bytes + huge - 1) / huge * huge + huge
        guard let p = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            throw CoreError("memory.exhausted", "cannot allocate \(bytes >> 20) MiB for weights", kind: .system)
        }
        mapping = p
        let aligned = (Int(bitPattern: p) + huge - 1) / huge * huge
        let start = UnsafeMutableRawPointer(bitPattern: aligned)!
        #if os(Linux)
        madvise(start, mappedBytes - huge, 14 /* MADV_HUGEPAGE */)
        #endif
        base = start.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { munmap(mapping, mappedBytes) }

    /// A slice of the arena, `count` floats from `offset`.
    public func slice(_ offset: Int, _ n: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(offset >= 0 && offset + n <= count, "arena slice out of range")
        return UnsafeMutableBufferPointer(start: base + offset, count: n)
    }
}
