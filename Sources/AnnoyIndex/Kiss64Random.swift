// Kiss64Random from spotify/annoy's kissrandom.h (1.17): the RNG every split decision draws from.
// Reproduced bit for bit so a seed picks the same centroids, sides and tie-breaks as Annoy.

public struct Kiss64Random: Sendable {
    public var x: UInt64
    public var y: UInt64
    public var z: UInt64
    public var c: UInt64

    /// Annoy's default seed (`Kiss64Random::default_seed`), used when no seed is set.
    public static let defaultSeed: UInt64 = 1_234_567_890_987_654_321

    /// `seed` must be nonzero (as in Annoy).
    public init(seed: UInt64 = Kiss64Random.defaultSeed) {
        x = seed
        y = 362_436_362_436_362_436
        z = 1_066_149_217_761_810
        c = 123_456_123_456_123_456
    }

    @inline(__always)
    public mutating func kiss() -> UInt64 {
        // Linear congruence generator
        z = 6_906_969_069 &* z &+ 1_234_567
        // Xor shift
        y ^= y << 13
        y ^= y >> 17
        y ^= y << 43
        // Multiply-with-carry: t = (2^58 + 1) * x + c
        let t = (x << 58) &+ c
        c = x >> 6
        x = x &+ t
        c = c &+ (x < t ? 1 : 0)
        return x &+ y &+ z
    }

    /// A random 0 or 1 (`flip()`).
    @inline(__always)
    public mutating func flip() -> Int { Int(kiss() & 1) }

    /// A random integer in 0..<n (`index(n)`, plain modulo as in Annoy).
    @inline(__always)
    public mutating func index(_ n: Int) -> Int { Int(kiss() % UInt64(n)) }
}
