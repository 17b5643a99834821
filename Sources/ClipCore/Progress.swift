// A progress bar on stderr: count, rate and ETA. On a terminal it redraws one line; otherwise (a log,
// a pipe) it writes a plain line at most every `logEvery` seconds and one at the end, never a
// carriage return, so long runs show progress in logs too. CLIPWB_PROGRESS=0 silences both.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class ProgressBar: @unchecked Sendable {
    public let total: Int
    public let label: String
    public let unit: String
    private let enabled: Bool
    /// Redraw in place (a terminal) or append plain lines (a log).
    private let inPlace: Bool
    public static let logEvery = 5.0
    private let start: Double
    private var done = 0
    private var lastDraw: Double = 0
    private let lock = NSLockLike()

    /// `enabled: nil` reports unless CLIPWB_PROGRESS=0: a bar on a terminal, log lines otherwise.
    public init(total: Int, label: String, unit: String = "items", enabled: Bool? = nil) {
        self.total = total
        self.label = label
        self.unit = unit
        let env = getenv("CLIPWB_PROGRESS").map { String(cString: $0) }
        self.enabled = enabled ?? (env != "0")
        self.inPlace = isatty(2) != 0
        self.start = Clock.now()
        self.lastDraw = start
    }

    public func advance(by n: Int = 1) {
        lock.locked {
            done += n
            let now = Clock.now()
            guard enabled else { return }
            if inPlace ? (now - lastDraw > 0.1 || done >= total) : now - lastDraw >= Self.logEvery {
                lastDraw = now
                draw(now: now)
            }
        }
    }

    public func finish() {
        lock.locked {
            guard enabled else { return }
            draw(now: Clock.now())
            if inPlace { fputs("\n", stderr) }
        }
    }

    private func draw(now: Double) {
        let elapsed = max(now - start, 1e-9)
        let rate = Double(done) / elapsed
        let frac = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 28
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let text = "\(label) \(bar) \(done)/\(total) \(unit)  \(Self.fmt(rate))/s  ETA \(Self.duration(eta))"
        fputs(inPlace ? "\r" + text + " " : text + "\n", stderr)
        fflush(stderr)
    }

    static func fmt(_ r: Double) -> String {
        r >= 100 ? String(Int(r.rounded())) : String(Double(Int(r * 10)) / 10)
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}

/// Monotonic seconds.
public enum Clock {
    @inline(__always)
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// A tiny pthread mutex wrapper (Foundation-free).
public final class NSLockLike: @unchecked Sendable {
    private var m = pthread_mutex_t()
    public init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    @inline(__always)
    public func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}
