// A fork-join pool (the encoders, and large index splits): the calling thread plus (threads − 1) workers that spin briefly
// between jobs, so the many short parallel passes of a forward (GEMM halves, layer norms, attention
// heads) start in microseconds. OpenBLAS itself runs single-threaded; all parallelism is ours.
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class WorkerPool: @unchecked Sendable {
    /// Threads taking part in a job, the caller included.
    public let threads: Int
    /// (job generation << 32) | next unclaimed item; the item half is `setupMark` while a job is being set up.
    /// Claiming an item is one compare-exchange on this word, so a worker that wakes late can never run an
    /// item of a job other than the one whose generation it saw.
    private let state = Atomic<UInt64>(0xFFFF_FFFF)
    private let jobBody = Atomic<Int>(0)
    private let jobCount = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var sleepers = 0
    /// Serialises callers (two models on two threads share the workers one job at a time).
    private let serial = NSLockLike()
    private static let setupMark: UInt64 = 0xFFFF_FFFF

    /// Seconds a worker keeps spinning after a job before it sleeps.
    static let spinSeconds = 0.002

    /// The process-wide pool: `CLIPWB_THREADS` or every core.
    public static let shared = WorkerPool(threads: WorkerPool.defaultThreads())

    public static func defaultThreads() -> Int {
        if let s = getenv("CLIPWB_THREADS"), let n = Int(String(cString: s)), n >= 1 { return min(n, 64) }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    public init(threads: Int) {
        self.threads = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        for worker in 1..<self.threads {
            var tid = pthread_t()
            let box = Unmanaged.passRetained(WorkerStart(pool: self, worker: worker)).toOpaque()
            pthread_create(&tid, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                start.pool.workerLoop(worker: start.worker)
                return nil
            }, box)
            pthread_detach(tid)
        }
    }

    /// Runs `body(i)` for i in 0..<count across the pool; returns when all are done.
    /// Items are claimed dynamically (the caller takes part), so a busy or sleeping worker never
    /// holds a job up beyond the item it is running. Not reentrant.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        parallelFor(count) { i, _ in body(i) }
    }

    /// As `parallelFor`, also passing the worker index (0 = caller, < threads) for per-worker scratch.
    public func parallelFor(_ count: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        if count <= 0 { return }
        if threads == 1 || count == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        serial.locked {
            withoutActuallyEscaping(body) { escaping in
                var holder = JobHolder(body: escaping)
                withUnsafeMutablePointer(to: &holder) { h in
                    let generation = (state.load(ordering: .relaxed) >> 32) &+ 1
                    state.store(generation << 32 | Self.setupMark, ordering: .sequentiallyConsistent)
                    jobBody.store(Int(bitPattern: h), ordering: .relaxed)
                    jobCount.store(count, ordering: .relaxed)
                    completed.store(0, ordering: .relaxed)
                    pthread_mutex_lock(&mutex)
                    state.store(generation << 32, ordering: .releasing)
                    if sleepers > 0 { pthread_cond_broadcast(&wake) }
                    pthread_mutex_unlock(&mutex)
                    while runOne(worker: 0) {}
                    while completed.load(ordering: .acquiring) < count {}
                }
            }
        }
    }

    /// Claims and runs one item of the current job; false when none is left to claim.
    private func runOne(worker: Int) -> Bool {
        let s = state.load(ordering: .acquiring)
        let item = s & Self.setupMark
        if item == Self.setupMark { return false }
        let count = jobCount.load(ordering: .relaxed)
        let body = jobBody.load(ordering: .relaxed)
        if Int(item) >= count { return false }
        guard state.compareExchange(expected: s, desired: s + 1, ordering: .acquiringAndReleasing).exchanged else {
            return true  // lost the race for this item; look again
        }
        UnsafePointer<JobHolder>(bitPattern: body)!.pointee.body(Int(item), worker)
        completed.add(1, ordering: .releasing)
        return true
    }

    private func workerLoop(worker: Int) {
        while true {
            if runOne(worker: worker) { continue }
            // Nothing to claim: spin on the state word a little, then sleep until it changes.
            let seen = state.load(ordering: .acquiring)
            let spinStart = now()
            var spins = 0
            while state.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 255 == 0 && now() - spinStart > Self.spinSeconds {
                    pthread_mutex_lock(&mutex)
                    sleepers += 1
                    while state.load(ordering: .acquiring) == seen { pthread_cond_wait(&wake, &mutex) }
                    sleepers -= 1
                    pthread_mutex_unlock(&mutex)
                    break
                }
            }
        }
    }

    private func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

private struct JobHolder {
    let body: (Int, Int) -> Void
}

private final class WorkerStart {
    let pool: WorkerPool
    let worker: Int
    init(pool: WorkerPool, worker: Int) {
        self.pool = pool
        self.worker = worker
    }
}

/// The calling thread's CPU priority (Linux nice values are per thread).
public enum ThreadPriority {
    /// Lowers the calling thread alone by `increment` nice steps from the process's own (at most 19), so a
    /// server started under `nice` keeps its requests ahead of this thread's work too. No-op elsewhere.
    public static func lowerCurrent(by increment: Int32) {
        #if os(Linux)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        _ = setpriority(which, 0, min(19, getpriority(which, 0) + increment))  // who 0: the calling thread
        #endif
    }
}
