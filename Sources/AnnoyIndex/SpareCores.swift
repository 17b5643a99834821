// Cores a build may lend to a large split. A build with T threads starts with T minus its busy tree
// threads spare; a tree thread that finishes its share of trees gives its core back. A split over many
// points runs its margins on `marginPool` only while a core is spare, so a one-tree build, or the last
// tree of an uneven share, still uses every core, and a build whose tree threads are all busy never
// oversubscribes. (GCD's concurrentPerform, called from a concurrentPerform worker, ran everything on the
// calling thread here; threads started per split arrived too late to help: the pool's workers spin
// between the splits' jobs.)
import ClipCore
import Synchronization

final class SpareCores: Sendable {
    private let spare: Atomic<Int>

    init(_ count: Int) { spare = Atomic(max(0, count)) }

    /// Adds one spare core (a tree thread finished its share, or a split is done with a borrowed one).
    func giveBack() { spare.add(1, ordering: .releasing) }

    /// Takes one spare core if there is one.
    func take() -> Bool {
        var have = spare.load(ordering: .acquiring)
        while have > 0 {
            let (done, now) = spare.compareExchange(expected: have, desired: have - 1, ordering: .acquiringAndReleasing)
            if done { return true }
            have = now
        }
        return false
    }

    /// Where large splits compute their margins.
    static let marginPool = WorkerPool(threads: WorkerPool.defaultThreads())

    /// Runs `body(c)` for c in 0..<chunks: on `marginPool` when a core is spare, else on this thread.
    func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if take() {
            Self.marginPool.parallelFor(chunks, body)
            giveBack()
        } else {
            for c in 0..<chunks { body(c) }
        }
    }
}
