// A progress bar on stderr: count, rate and ETA. Quiet when stderr is not a terminal unless forced,
// so logs and JSON consumers never see carriage returns.
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
    private let start: Double
    private var done = 0
    private var lastDraw: Double = 0
    private let lock = NSLockLike()

    /// `enabled: nil` draws only when stderr is a terminal (or CLIPWB_PROGRESS=1).
    public init(total: Int, label: String, unit: String = "items", enabled: Bool? = nil) {
        self.total = total
        self.label = label
        self.unit = unit
        let forced = getenv("CLIPWB_PROGRESS").map { String(cString: $0) == "1" } ?? false
        self.enabled = enabled ?? (isatty(2) != 0 || forced)
        self.start = Clock.now()
    }

    public func advance(by n: Int = 1) {
        lock.locked {
            done += n
            let now = Clock.now()
            if enabled && (now - lastDraw > 0.1 || done >= total) {
                lastDraw = now
                draw(now: now)
            }
        }
    }

    public func finish() {
        lock.locked {
            if enabled { draw(now: Clock.now()); fputs("\n", stderr) }
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
        let line = "\r\(label) \(bar) \(done)/\(total) \(unit)  \(Self.fmt(rate))/s  ETA \(Self.duration(eta)) "
        fputs(line, stderr)
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
