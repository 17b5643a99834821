// Issue 12, item 8: an index whose trees share nodes (a DAG) is refused at open, while every file
// Annoy itself writes (root copies, a root listed twice, bucket roots) still loads; and issue 12,
// item 10c: an index read into private memory survives its file being truncated.
import Testing
import Foundation
@testable import AnnoyIndex
import ClipCore

@Suite struct ForestTests {
    let dir: String
    init() throws { dir = try Fixture.tempDir() }

    /// Angular, dimension 1 (16-byte nodes, K = 3): four items, a bucket of three, then a chain of
    /// `depth` splits whose two children are both the node below, under one root. Every split's plane
    /// is zero, so all 2^depth paths tie and Annoy's search expands them all.
    func dag(depth: Int) throws -> String {
        let layout = NodeLayout(metric: .angular, f: 1)
        let store = NodeStore(layout: layout, capacity: 16)
        for i in 0..<4 {
            let n = store[store.append()]
            n.nDescendants = 1
            n.v[0] = Float(i + 1)
            initNode(.angular, n, f: 1)
        }
        let bucket = store[store.append()]
        bucket.nDescendants = 3
        for c in 0..<3 { bucket.children[c] = Int32(c) }
        for level in 0...depth {
            let i = store.append()
            let n = store[i]
            n.nDescendants = level == depth ? 4 : 5  // the root holds n_items; inner splits anything > K
            n.children[0] = Int32(i - 1)
            n.children[1] = Int32(i - 1)
        }
        let path = dir + "/dag-\(depth).ann"
        try AtomicFile.write(path, chunks: [Array(store.bytes)])
        return path
    }

    @Test func sharedChildrenAreRefusedAtOpen() throws {
        let path = try dag(depth: 40)
        let m = Fixture.message { _ = try AnnoyIndex(path: path, metric: .angular, dimension: 1) }
        #expect(m?.hasPrefix("'\(path)' is corrupt: node 44 is reached twice (again from split node 45)") == true)
        #expect(m?.contains("not an Annoy forest") == true)
    }

    /// Builds 2 trees over 300 items and appends `extra` more copies of the first root copy: Annoy's
    /// load then keeps the original of the last root too (its "hacky fix" compares other roots).
    func withRootCopies(_ extra: Int) throws -> (String, Matrix) {
        let x = Fixture.vectors(300, 16)
        let path = dir + "/copies-\(extra).ann"
        try AnnoyBuilder.build(x, metric: .angular, options: BuildOptions(trees: 2, seed: 3)).write(to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let size = NodeLayout(metric: .angular, f: 16).size
        let firstCopy = bytes.subdata(in: (bytes.count - 2 * size)..<(bytes.count - size))
        for _ in 0..<extra { bytes.append(firstCopy) }
        try bytes.write(to: URL(fileURLWithPath: path))
        return (path, x)
    }

    @Test func rootsListedTwiceLoadAndAreSearchedAsAnnoyDoes() throws {
        let (path, x) = try withRootCopies(1)
        let ix = try AnnoyIndex(path: path, metric: .angular, dimension: 16)
        let nodes = Int32(ix.nodeCount)
        // copy', copy 2, copy 1, original 2: Annoy's _roots for this file
        #expect(ix.roots == [nodes - 1, nodes - 2, nodes - 3, nodes - 4])
        let q = Array(x.data[0..<16])
        let all = Fixture.bruteForce(ix, q, k: 300)
        #expect(all.count == 300 && Set(all).count == 300)
    }

    @Test func aThirdCopyOfARootIsRefused() throws {
        let (path, _) = try withRootCopies(2)
        let m = Fixture.message { _ = try AnnoyIndex(path: path, metric: .angular, dimension: 16) }
        #expect(m?.contains("is a third copy of root") == true)
    }

    @Test func bucketRootsRepeatAndStillLoad() throws {
        // 5 items ≤ K = 18: every tree is one bucket naming all items, and load keeps copies and originals.
        let x = Fixture.vectors(5, 16)
        let ix = try Fixture.index(x, metric: .angular, trees: 3, dir: dir)
        #expect(ix.treeCount == 5)
        #expect(Fixture.bruteForce(ix, Array(x.data[0..<16]), k: 5).first == 0)
    }

    @Test func builtForestsStillLoad() throws {
        let x = Fixture.vectors(500, 8)
        for metric in Metric.allCases {
            for threads in [1, 2] {
                let ix = try Fixture.index(x, metric: metric, trees: 4, threads: threads, dir: dir)
                #expect(ix.treeCount == 4)
            }
        }
    }

    @Test func privateCopySurvivesTruncation() throws {
        let x = Fixture.vectors(300, 16)
        let path = dir + "/copy.ann"
        try AnnoyBuilder.build(x, metric: .euclidean, options: BuildOptions(trees: 3, seed: 5)).write(to: path)
        let ix = try AnnoyIndex(path: path, metric: .euclidean, dimension: 16, backing: .privateCopy)
        let before = ix.search(x, k: 5).ids
        #expect(truncate(path, 0) == 0)  // what `cp other.ann` over the file does first
        #expect(ix.search(x, k: 5).ids == before)
        #expect(before[7].first == 7)
    }

    /// The negative control: the same truncation under a mapping kills the process, which is why the
    /// server reads its index (and weights) into private memory.
    @Test func mappedIndexDiesWhenTruncated() async {
        await #expect(processExitsWith: .signal(SIGBUS)) {
            let dir = try Fixture.tempDir()
            let x = Fixture.vectors(300, 16)
            try AnnoyBuilder.build(x, metric: .euclidean, options: BuildOptions(trees: 3, seed: 5)).write(to: dir + "/m.ann")
            let ix = try AnnoyIndex(path: dir + "/m.ann", metric: .euclidean, dimension: 16, backing: .mapping)
            _ = truncate(dir + "/m.ann", 0)
            _ = ix.search(x, k: 5)
        }
    }
}
