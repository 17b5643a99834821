// Bounds on each connection, as a NIO handler between HTTP decoding and Hummingbird: a request's
// head must arrive within `headerTimeout` of the connection opening or of the previous response
// (slow headers and idle keep-alive both end there), its body within `bodyTimeout`; a response that
// says `Connection: close` (a 413) closes the connection once written; at most `maxConnections`
// connections are open at once (past that the longest-waiting idle one makes room).
import ClipCore
import HTTPTypes
import NIOCore
import NIOHTTPTypes

public struct ConnectionLimits: Sendable {
    public var headerTimeout: TimeAmount
    public var bodyTimeout: TimeAmount
    public var maxConnections: Int

    public init(headerTimeout: TimeAmount = .seconds(20), bodyTimeout: TimeAmount = .seconds(60), maxConnections: Int = 4096) {
        (self.headerTimeout, self.bodyTimeout, self.maxConnections) = (headerTimeout, bodyTimeout, maxConnections)
    }
}

/// Open connections, shared by every connection's guard. When all slots are taken, a new
/// connection takes the slot of the one that has waited longest for a request head (a slow or
/// idle client), so slow clients cannot lock real ones out; only when every connection is busy
/// with a request is the newcomer closed.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLockLike()
    private var members = Set<Int>()
    private var serial = 0
    /// Connections waiting for a request head: since when, and how to close them.
    private var waiting: [Int: (since: Double, channel: any Channel)] = [:]
    private(set) var refused = 0
    private(set) var evicted = 0

    /// Takes a slot (evicting the longest-waiting connection if none is free), or returns nil.
    func enter(limit: Int, channel: any Channel) -> Int? {
        let (id, victim): (Int?, (any Channel)?) = lock.locked {
            var victim: (any Channel)?
            if members.count >= limit {
                guard let oldest = waiting.min(by: { $0.value.since < $1.value.since }) else { refused += 1; return (nil, nil) }
                waiting[oldest.key] = nil
                members.remove(oldest.key)
                victim = oldest.value.channel
                evicted += 1
            }
            serial += 1
            members.insert(serial)
            return (serial, victim)
        }
        victim?.close(promise: nil)
        return id
    }

    func leave(_ id: Int) {
        lock.locked {
            members.remove(id)
            waiting[id] = nil
        }
    }

    /// Marks a connection as waiting for a request head (true) or busy with one (false).
    func setWaiting(_ id: Int, _ on: Bool, channel: any Channel) {
        lock.locked {
            guard members.contains(id) else { return }
            waiting[id] = on ? (Clock.now(), channel) : nil
        }
    }

    var current: Int { lock.locked { members.count } }
}

final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private let counter: ConnectionCounter
    private var slot: Int?
    private var timer: Scheduled<Void>?
    private var closeAfterResponse = false
    /// Requests whose head arrived and whose response has not ended.
    private var inFlight = 0
    /// A request's body is still arriving.
    private var readingBody = false
    private enum Clock { case none, header, body }
    private var running = Clock.none

    init(limits: ConnectionLimits, counter: ConnectionCounter) {
        (self.limits, self.counter) = (limits, counter)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let id = counter.enter(limit: limits.maxConnections, channel: context.channel) else {
            context.close(promise: nil)
            return
        }
        slot = id
        update(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: (inFlight, readingBody) = (inFlight + 1, true)
        case .end: readingBody = false
        case .body: break
        }
        update(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            if response.headerFields[.connection]?.lowercased() == "close" { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            inFlight = max(0, inFlight - 1)
            guard closeAfterResponse else {
                context.write(data, promise: promise)
                update(context)
                return
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in context.close(promise: nil) }
            if let promise { written.futureResult.cascade(to: promise) }
            context.writeAndFlush(data, promise: written)
        }
    }

    /// One clock at a time: the body's while it arrives; none while the handler works on a request;
    /// the header clock when nothing is in flight (waiting for the first or the next request).
    private func update(_ context: ChannelHandlerContext) {
        let want: Clock = readingBody ? .body : inFlight > 0 ? .none : .header
        guard want != running else { return }
        running = want
        if let slot { counter.setWaiting(slot, want == .header, channel: context.channel) }
        switch want {
        case .none: disarm()
        case .header: arm(context, limits.headerTimeout)
        case .body: arm(context, limits.bodyTimeout)
        }
    }

    private func release() {
        disarm()
        if let id = slot { counter.leave(id); slot = nil }
    }

    private func arm(_ context: ChannelHandlerContext, _ after: TimeAmount) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: after) { channel.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
