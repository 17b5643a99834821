// Sizes read from files, multiplied without trapping. Swift traps on overflow and a file is input, so every
// element count and byte size computed from a header goes through here and an overflow becomes an error.

public enum CheckedSize {
    /// `a · b`, or nil when it overflows `Int`.
    public static func product(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : r
    }

    /// The number of elements of `shape` (1 for a scalar `[]`), or nil when a dimension is negative or the
    /// product overflows `Int`. A zero dimension makes the count 0 whatever the others are.
    public static func elements(_ shape: [Int]) -> Int? {
        guard shape.allSatisfy({ $0 >= 0 }) else { return nil }
        if shape.contains(0) { return 0 }
        var n = 1
        for d in shape {
            guard let p = product(n, d) else { return nil }
            n = p
        }
        return n
    }

    /// Elements of `shape` × `elementSize` bytes, or nil on overflow.
    public static func bytes(_ shape: [Int], elementSize: Int) -> Int? {
        elements(shape).flatMap { product($0, elementSize) }
    }

    /// The sum of `values`, or nil when it overflows `Int`.
    public static func sum(_ values: some Sequence<Int>) -> Int? {
        var s = 0
        for v in values {
            let (r, overflow) = s.addingReportingOverflow(v)
            if overflow { return nil }
            s = r
        }
        return s
    }
}
