import Testing
import Foundation
@testable import AnnoyIndex
import ClipCore

@Suite struct SearchTests {
    @Test(arguments: Metric.allCases)
    func exhaustiveSearchIsExact(metric: Metric) throws {
        let dir = try Fixture.tempDir()
        let x = Fixture.vectors(600, 24)
        let ix = try Fixture.index(x, metric: metric, trees: 4, dir: dir)
        #expect(ix.treeCount == 4 && ix.itemCount == 600)
        let q = Fixture.vectors(10, 24, seed: 99)
        let got = ix.search(q, k: 10, searchK: 600 * 4 * 10, threads: 2)
        for i in 0..<10 {
            let row = Array(q.row(i))
            // Naive twin: double-precision distances, ids by (distance, id).
            let naive: [Int32] = (0..<600).map { j -> (Double, Int32) in
                let v = Array(x.row(j))
                switch metric {
                case .angular: return (1 - NaiveDistance.dot(row, v) / (NaiveDistance.dot(row, row) * NaiveDistance.dot(v, v)).squareRoot(), Int32(j))
                case .euclidean: return (NaiveDistance.euclidean(row, v), Int32(j))
                case .dot: return (-NaiveDistance.dot(row, v), Int32(j))
                }
            }.sorted { $0 < $1 }.prefix(10).map { $0.1 }
            #expect(got.ids[i] == naive)
            #expect(got.distances[i] == got.distances[i].sorted(by: metric == .dot ? (>) : (<)))
        }
    }

    @Test func defaultSearchKIsKTimesTrees() throws {
        let dir = try Fixture.tempDir()
        let x = Fixture.vectors(3000, 16)
        let ix = try Fixture.index(x, metric: .angular, trees: 3, dir: dir)
        let q = Fixture.vectors(20, 16, seed: 5)
        let a = ix.search(q, k: 5, searchK: -1, threads: 1)
        let b = ix.search(q, k: 5, searchK: 15, threads: 1)
        #expect(a.ids == b.ids)
    }

    @Test func batchOnTwoThreadsEqualsOneThread() throws {
        let dir = try Fixture.tempDir()
        let x = Fixture.vectors(2000, 32)
        let ix = try Fixture.index(x, metric: .euclidean, trees: 5, dir: dir)
        let q = Fixture.vectors(50, 32, seed: 3)
        #expect(ix.search(q, k: 10, threads: 1).ids == ix.search(q, k: 10, threads: 2).ids)
    }

    /// A query's distance pass split over threads gives the same items and distances as one thread (ties in
    /// distance included: the clustered duplicates below make many), and the split path really ran.
    @Test(arguments: Metric.allCases)
    func splitDistancePassEqualsOneThread(metric: Metric) throws {
        let dir = try Fixture.tempDir()
        var x = Fixture.vectors(12_000, 16)
        for r in stride(from: 0, to: 12_000, by: 7) { for c in 0..<16 { x.data[r * 16 + c] = x.data[c] } } // ties
        let ix = try Fixture.index(x, metric: metric, trees: 3, dir: dir)
        let q = Fixture.vectors(12, 16, seed: 11)
        let one = Searcher(index: ix), split = Searcher(index: ix)
        split.distanceThreads = 3
        var (ids1, d1, ids2, d2) = ([Int32](), [Float](), [Int32](), [Float]())
        for i in 0..<12 {
            q.data.withUnsafeBufferPointer { qp in
                one.query(qp.baseAddress! + i * 16, k: 25, searchK: 30_000, ids: &ids1, distances: &d1)
                split.query(qp.baseAddress! + i * 16, k: 25, searchK: 30_000, ids: &ids2, distances: &d2)
            }
            #expect(one.lastParts == 1 && split.lastParts == 3)
            #expect(ids1.count == 25 && ids1 == ids2 && d1 == d2)
        }
    }

    @Test func zeroVectorsGiveAnnoysDistanceNotNaN() throws {
        let dir = try Fixture.tempDir()
        var x = Fixture.vectors(100, 8)
        for c in 0..<8 { x.data[3 * 8 + c] = 0 }
        let ix = try Fixture.index(x, metric: .angular, trees: 2, dir: dir)
        let zero = Matrix(rows: 1, cols: 8, data: [Float](repeating: 0, count: 8))
        let r = ix.search(zero, k: 100, searchK: 100_000, threads: 1)
        #expect(r.distances[0].allSatisfy { !$0.isNaN })
        #expect(r.distances[0].allSatisfy { $0 == Float(2).squareRoot() })
    }

    @Test func sameSeedAndThreadsGiveTheSameFile() throws {
        let dir = try Fixture.tempDir()
        let x = Fixture.vectors(5000, 20)
        for threads in [1, 2] {
            let a = dir + "/a\(threads).ann", b = dir + "/b\(threads).ann"
            try AnnoyBuilder.build(x, metric: .angular, options: BuildOptions(trees: 5, seed: 9, threads: threads)).write(to: a)
            try AnnoyBuilder.build(x, metric: .angular, options: BuildOptions(trees: 5, seed: 9, threads: threads)).write(to: b)
            #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
            let ix = try AnnoyIndex(path: a, metric: .angular, dimension: 20)
            #expect(ix.treeCount == 5)
        }
        // Annoy's n_jobs=2 policy: thread 0 builds floor(5/2) = 2 trees from seed 9, thread 1 builds 3 from
        // seed 10. Thread 0's nodes come first, so they are byte for byte a 1-thread, 2-tree, seed-9 build.
        let one = FileManager.default.contents(atPath: dir + "/a1.ann")!, two = FileManager.default.contents(atPath: dir + "/a2.ann")!
        #expect(one != two)
        let t0 = dir + "/t0.ann"
        try AnnoyBuilder.build(x, metric: .angular, options: BuildOptions(trees: 2, seed: 9, threads: 1)).write(to: t0)
        let t0Bytes = FileManager.default.contents(atPath: t0)!
        let nodeSize = NodeLayout(metric: .angular, f: 20).size
        let shared = t0Bytes.count - 2 * nodeSize  // items and thread 0's tree nodes, without the root copies
        #expect(two.prefix(shared) == t0Bytes.prefix(shared))
        // Thread 1's part is a seed-10 build with every tree-node id shifted past thread 0's nodes.
        let t1 = try AnnoyBuilder.build(x, metric: .angular, options: BuildOptions(trees: 3, seed: 10, threads: 1))
        #expect(two.count == shared + (t1.fileSize - 5000 * nodeSize) + 2 * nodeSize)  // + thread 0's 2 root copies
        let ix2 = try AnnoyIndex(path: dir + "/a2.ann", metric: .angular, dimension: 20)
        #expect(ix2.treeCount == 5)
        // Both forests answer like each other: exhaustive search_k finds the same neighbours.
        let q = Fixture.vectors(20, 20, seed: 5)
        let ix1 = try AnnoyIndex(path: dir + "/a1.ann", metric: .angular, dimension: 20)
        #expect(ix1.search(q, k: 10, searchK: 1_000_000, threads: 1).ids == ix2.search(q, k: 10, searchK: 1_000_000, threads: 1).ids)
        // A different seed gives different trees.
        let c = dir + "/c.ann"
        try AnnoyBuilder.build(x, metric: .angular, options: BuildOptions(trees: 5, seed: 10, threads: 1)).write(to: c)
        #expect(FileManager.default.contents(atPath: c) != FileManager.default.contents(atPath: dir + "/a1.ann"))
    }

    @Test func tinyCollectionsFitInOneBucketRoot() throws {
        let dir = try Fixture.tempDir()
        let x = Fixture.vectors(5, 16)
        let ix = try Fixture.index(x, metric: .angular, trees: 3, dir: dir)
        // Annoy's load quirk, reproduced: 3 bucket roots + 3 copies share n_descendants and children[0],
        // so only the last one is dropped and Python annoy also reports 5 trees for this file.
        #expect(ix.itemCount == 5 && ix.treeCount == 5)
        let r = ix.search(Fixture.vectors(1, 16, seed: 2), k: 5, threads: 1)
        #expect(Set(r.ids[0]) == Set(0..<5))
    }
}
