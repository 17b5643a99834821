// The server against clumsy and hostile clients: HEAD, token handling, empty parameters, refused
// bodies, slow headers and too many connections, over raw sockets where the client library would
// hide the behaviour.
import ClipCore
import ClipSearch
@testable import ClipServer
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOEmbedded
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client on loopback with a receive bound, so a test that waits for the server to
/// close the connection ends either way.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int, receiveTimeout seconds: Int = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw CocoaError(.fileReadUnknown) }
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ s: String) { _ = Array(s.utf8).withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

    enum Outcome: Equatable { case closed(String), stillOpen(String) }

    /// Reads until the server closes (recv 0 or a reset) or the receive bound passes. The blocking
    /// reads run on a thread of their own: the server under test answers on this process's
    /// cooperative threads, which a blocked test would starve.
    func readUntilClosed() async -> Outcome {
        await withCheckedContinuation { c in
            Thread { c.resume(returning: self.blockingRead()) }.start()
        }
    }

    private func blockingRead() -> Outcome {
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { got += buf[0..<n]; continue }
            let text = String(decoding: got, as: UTF8.self)
            if n == 0 || errno == ECONNRESET { return .closed(text) }
            return .stillOpen(text)  // EAGAIN: the bound passed with the connection open
        }
    }
}

func withLimitedServer(_ service: SearchService, token: String? = nil, limits: ConnectionLimits,
                       _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let app = buildApplication(service: service, configuration: ServerConfiguration(port: 0, uploadToken: token, limits: limits))
    try await app.test(.live, body)
}

@Suite struct HardeningTests {
    let service = Fixtures.shared.service

    @Test func headAnswersLikeGetWithoutABody() async throws {
        try await withServer(service) { client in
            for uri in ["/images/7", "/healthz", "/", "/api/search?q=shoe"] {
                let get = try await client.execute(uri: uri, method: .get)
                let head = try await client.execute(uri: uri, method: .head)
                #expect(head.status == .ok, "\(uri)")
                #expect(head.body.readableBytes == 0, "\(uri)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(uri)")
                if uri == "/images/7" { #expect(head.headers[.contentLength] == String(get.body.readableBytes)) }
            }
            let missing = try await client.execute(uri: "/images/9999", method: .head)
            #expect(missing.status == .notFound)
            #expect(missing.body.readableBytes == 0)
        }
    }

    @Test func emptyParametersAreRefused() async throws {
        try await withServer(service) { client in
            for uri in ["/api/search?q=shoe&k=", "/api/search?q=shoe&page=", "/api/images/1/similar?k="] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .badRequest, "\(uri)")
                #expect(r.errorCode == "query.bad-parameter", "\(uri)")
            }
        }
    }

    @Test func bearerSchemeIsCaseInsensitiveAndWrongTokensAreThrottled() async throws {
        let (cat, _, _) = try Fixtures.catalog(count: 4)
        let writable = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        let bytes = try Fixtures.sample(30)
        try await withServer(writable, token: "s3cret-token") { client in
            let lower = try await client.execute(uri: "/api/images", method: .post,
                                                 headers: [.authorization: "bearer s3cret-token", .contentType: "image/jpeg"],
                                                 body: ByteBuffer(bytes: bytes))
            #expect(lower.status == .accepted, "\(lower.text)")
            var statuses: [HTTPResponse.Status] = []
            for i in 0..<11 {
                let r = try await client.execute(uri: "/api/images", method: .post,
                                                 headers: [.authorization: "Bearer guess-\(i)", .contentType: "image/jpeg"],
                                                 body: ByteBuffer(bytes: bytes))
                statuses.append(r.status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
            // While throttled even the right token is not checked: guessing cannot continue.
            let right = try await client.execute(uri: "/api/images", method: .post,
                                                 headers: [.authorization: "Bearer s3cret-token", .contentType: "image/jpeg"],
                                                 body: ByteBuffer(bytes: bytes))
            #expect(right.status == .tooManyRequests)
            #expect(right.headers[.retryAfter] != nil)
        }
        await writable.waitForRebuilds()
    }

    @Test func throttleForgetsFailuresOutsideItsWindow() {
        let t = FailureThrottle(budget: 3, window: 60)
        for s in [0.0, 1, 2] { t.recordFailure(now: s) }
        #expect(t.refusal(now: 2.5) == 58)
        #expect(t.refusal(now: 60.5) == nil)  // the first failure aged out
    }

    @Test func refusedBodyClosesTheConnection() async throws {
        try await withServer(service) { client in
            let port = try #require(client.port)
            let c = try RawConnection(port: port)
            c.send("POST /api/search/image HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: \(ServerLimits.maxBodyBytes + 1)\r\n\r\nabc")
            let outcome = await c.readUntilClosed()
            guard case .closed(let text) = outcome else {
                Issue.record("the connection stayed open after the 413: \(outcome)")
                return
            }
            #expect(text.hasPrefix("HTTP/1.1 413"))
            #expect(text.contains("\"code\":\"request.too-large\""))
        }
    }

    @Test func slowHeadersAndIdleConnectionsAreClosed() async throws {
        let limits = ConnectionLimits(headerTimeout: .milliseconds(500), bodyTimeout: .milliseconds(500), maxConnections: 64)
        try await withLimitedServer(service, limits: limits) { client in
            let port = try #require(client.port)
            let slow = try RawConnection(port: port)
            slow.send("GET /healthz HTTP/1.1\r\nHo")  // never finishes its head
            #expect(await slow.readUntilClosed() == .closed(""))
            let idle = try RawConnection(port: port)
            idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  // one request, then silence
            guard case .closed(let text) = await idle.readUntilClosed() else { Issue.record("idle connection kept open"); return }
            #expect(text.hasPrefix("HTTP/1.1 200"))
            let stalled = try RawConnection(port: port)
            stalled.send("POST /api/search/image HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
            guard case .closed = await stalled.readUntilClosed() else { Issue.record("stalled body kept open"); return }
        }
        // Negative control: with serve's default (20 s) bound the same slow head is still open after 2 s.
        try await withLimitedServer(service, limits: ConnectionLimits()) { client in
            let port = try #require(client.port)
            let slow = try RawConnection(port: port, receiveTimeout: 2)
            slow.send("GET /healthz HTTP/1.1\r\nHo")
            #expect(await slow.readUntilClosed() == .stillOpen(""))
        }
    }

    @Test func atTheCapTheLongestWaitingConnectionMakesRoom() async throws {
        let limits = ConnectionLimits(headerTimeout: .seconds(600), bodyTimeout: .seconds(600), maxConnections: 3)
        try await withLimitedServer(service, limits: limits) { client in
            let port = try #require(client.port)
            _ = try await client.execute(uri: "/healthz", method: .get)  // the test client's connection: slot 1
            let slow1 = try RawConnection(port: port, receiveTimeout: 60)
            slow1.send("GET /healthz HTTP/1.1\r\nHo")  // slot 2, waiting for its head from now on
            _ = try await client.execute(uri: "/healthz", method: .get)  // slot 1 waits again, since later
            let slow2 = try RawConnection(port: port, receiveTimeout: 2)
            slow2.send("GET /healthz HTTP/1.1\r\nHo")  // slot 3
            _ = try await client.execute(uri: "/healthz", method: .get)  // all three open and counted
            let fresh = try RawConnection(port: port, receiveTimeout: 60)
            fresh.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            guard case .closed(let text) = await fresh.readUntilClosed() else { Issue.record("the new connection got no answer"); return }
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(await slow1.readUntilClosed() == .closed(""))  // the longest-waiting one made room
            #expect(await slow2.readUntilClosed() == .stillOpen(""))
        }
    }
}

@Suite struct ConnectionCounterTests {
    @Test func newcomersAreRefusedOnlyWhenNoConnectionIsWaiting() async throws {
        let counter = ConnectionCounter()
        let channels = (0..<3).map { _ in EmbeddedChannel() }
        for c in channels { try await c.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get() }
        let a = try #require(counter.enter(limit: 2, channel: channels[0]))
        let b = try #require(counter.enter(limit: 2, channel: channels[1]))
        counter.setWaiting(a, false, channel: channels[0])
        counter.setWaiting(b, false, channel: channels[1])
        #expect(counter.enter(limit: 2, channel: channels[2]) == nil)  // both busy: refused
        #expect(counter.refused == 1)
        counter.setWaiting(b, true, channel: channels[1])
        let c = counter.enter(limit: 2, channel: channels[2])
        #expect(c != nil)
        #expect(counter.evicted == 1)
        #expect(!channels[1].isActive)  // b made room
        #expect(channels[0].isActive)
        #expect(counter.current == 2)
        counter.leave(b)  // the evicted connection's own leave does not free a second slot
        #expect(counter.current == 2)
    }
}

@Suite struct DecodeQueueTests {
    /// Decoding runs below the request threads' priority: a job sees its thread's nice value 10 above the
    /// process's (at most 19), and the caller's thread is untouched.
    @Test func jobsRunAtALowerPriority() async throws {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let own = getpriority(which, 0)
        let q = BoundedQueue(label: "test-nice", concurrency: 1, maxWaiting: 1)
        let seen = try await q.run { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
        #expect(seen == min(19, own + 10))
        #expect(getpriority(which, 0) == own)
    }

    /// Past `concurrency` running and `maxWaiting` waiting, a job is refused at once (503 server.busy);
    /// once one finishes, the next is admitted again.
    @Test func refusesPastItsBoundAndAdmitsAgainAfter() async throws {
        let q = BoundedQueue(label: "test-decode", concurrency: 1, maxWaiting: 1)
        let gate = DispatchSemaphore(value: 0)
        let first = Task { try await q.run { gate.wait(); return 1 } }
        let second = Task { try await q.run { 2 } }
        for _ in 0..<10_000 where q.queued < 2 { try await Task.sleep(nanoseconds: 1_000_000) }
        #expect(q.queued == 2)
        do {
            _ = try await q.run { 3 }
            Issue.record("a third job was admitted past the bound")
        } catch let e as SearchError {
            #expect(e.code == "server.busy")
        }
        #expect(q.refused == 1)
        gate.signal()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(try await q.run { 4 } == 4)  // room again
    }
}
