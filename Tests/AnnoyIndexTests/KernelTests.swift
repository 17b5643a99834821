import Testing
@testable import AnnoyIndex
import ClipCore

@Suite struct KernelTests {
    @Test func kiss64MatchesAnnoysSequence() {
        // Values printed by spotify/annoy 1.17.3 kissrandom.h (g++): default seed, then seed 42.
        var r = Kiss64Random()
        #expect([r.kiss(), r.kiss(), r.kiss()] == [8_932_985_056_925_012_148, 5_710_300_428_094_272_059, 18_342_510_866_933_518_593])
        var s = Kiss64Random(seed: 42)
        #expect([s.index(1000), s.index(1000), s.index(1000)] == [661, 266, 438])
        #expect(s.flip() == 0)
    }

    @Test(arguments: [1, 7, 16, 40, 512, 515])
    func dotAndEuclideanAgreeWithNaiveTwins(dim: Int) {
        let x = Fixture.vectors(5, dim)
        for i in 0..<4 {
            let a = Array(x.row(i)), b = Array(x.row(i + 1))
            let fast = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { annoyDot(pa.baseAddress!, $0.baseAddress!, dim) } }
            let naive = NaiveDistance.dot(a, b)
            #expect(abs(Double(fast) - naive) <= 1e-4 * max(1, abs(naive)))
            let fe = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { annoyEuclidean(pa.baseAddress!, $0.baseAddress!, dim) } }
            let ne = NaiveDistance.euclidean(a, b)
            #expect(abs(Double(fe) - ne) <= 1e-4 * max(1, ne))
        }
    }

    @Test(arguments: [7, 40, 512])
    func fourWayKernelsAreBitIdenticalToSingle(dim: Int) {
        let x = Fixture.vectors(5, dim)
        x.data.withUnsafeBufferPointer { p in
            let r = (0..<5).map { p.baseAddress! + $0 * dim }
            let d4 = annoyDot4(r[0], r[1], r[2], r[3], r[4], dim)
            let e4 = annoyEuclidean4(r[0], r[1], r[2], r[3], r[4], dim)
            for l in 0..<4 {
                #expect(d4[l] == annoyDot(r[0], r[l + 1], dim))
                #expect(e4[l] == annoyEuclidean(r[0], r[l + 1], dim))
            }
        }
    }

    @Test func layoutsMatchAnnoylib() {
        #expect(NodeLayout(metric: .angular, f: 40).size == 172)
        #expect(NodeLayout(metric: .angular, f: 40).K == 42)
        #expect(NodeLayout(metric: .euclidean, f: 40).size == 176)
        #expect(NodeLayout(metric: .euclidean, f: 40).K == 42)
        #expect(NodeLayout(metric: .dot, f: 40).size == 176)
        #expect(NodeLayout(metric: .dot, f: 40).K == 43)
    }

    @Test func splitImbalanceIsAnnoys() {
        #expect(TreeBuilder.imbalance(50, 50) == 0.5)
        #expect(TreeBuilder.imbalance(0, 10) > 0.99)
        #expect(TreeBuilder.imbalance(96, 4) > 0.95)
    }
}
