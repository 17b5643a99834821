// Cores a build may lend to a large split. A build with T threads starts with T minus its busy tree
// threads spare; a tree thread that finishes its share of trees gives its core back. A split over many
// points runs its margins on `marginPool` only while a core is spare, so a one-tree build, or the last
// tree of an uneven share, still uses every core, and a build whose tree threads are all busy never
// oversubscribes. (GCD's concurrentPerform, called from a concurrentPerform worker, ran everything on the
// calling thread here; threads started per split arrived too late to help: the pool's workers spin
// between the splits' jobs.)
import ClipCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class SpareCores: Sendable {
    private let spare: Atomic<Int>

    init(_ count: Int) { spare = Atomic(max(0, count)) }

    /// Gives one core back (a tree thread finished its share).
    func release() { spare.add(1, ordering: .releasing) }

    /// Takes up to `wanted` spare cores; returns how many were taken.
    func borrow(_ wanted: Int) -> Int {
        var have = spare.load(ordering: .acquiring)
        while have > 0 {
            let take = min(have, wanted)
            let (done, now) = spare.compareExchange(expected: have, desired: have - take, ordering: .acquiringAndReleasing)
            if done { return take }
            have = now
        }
        return 0
    }

    func giveBack(_ n: Int) { if n > 0 { spare.add(n, ordering: .releasing) } }

    /// Where large splits compute their margins.
    static let marginPool = WorkerPool(threads: WorkerPool.defaultThreads())

    /// Runs `body(c)` for c in 0..<chunks: on `marginPool` when a core is spare, else on this thread.
    func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if borrow(1) == 1 {
            Self.marginPool.parallelFor(chunks, body)
            giveBack(1)
        } else {
            for c in 0..<chunks { body(c) }
        }
    }

    /// Runs `body(c)` for every c in 0..<chunks on the calling thread and up to `threads − 1` borrowed
    /// cores (each a new thread), chunks claimed one at a time; returns when all have run.
    func run(chunks: Int, threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let helpers = threads > 1 ? borrow(min(threads - 1, chunks - 1)) : 0
        let next = ChunkCounter()
        let work = { @Sendable in
            while true {
                let c = next.value.add(1, ordering: .relaxed).oldValue
                if c >= chunks { return }
                body(c)
            }
        }
        guard helpers > 0 else { work(); return }
        var tids = [pthread_t](repeating: pthread_t(), count: helpers)
        var started = 0
        for h in 0..<helpers {
            let box = Unmanaged.passRetained(Job(work)).toOpaque()
            if pthread_create(&tids[h], nil, { arg in
                Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue().body()
                return nil
            }, box) == 0 {
                started += 1
            } else {
                Unmanaged<Job>.fromOpaque(box).release()
                break
            }
        }
        work()
        for h in 0..<started { pthread_join(tids[h], nil) }
        giveBack(helpers)
    }
}

private final class ChunkCounter: Sendable {
    let value = Atomic<Int>(0)
}

private final class Job {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
