// POST /api/images: the bearer token, storing + embedding + committing, searches answered during
// the background rebuild, the new index swapped in, duplicates recognised.
import ClipCore
import ClipSearch
import ClipServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct AdditionTests {
    @Test func addWhileServing() async throws {
        let (cat, _, _) = try Fixtures.catalog(count: 20)
        let service = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        let newImage = try Fixtures.sample(60)
        let token = "s3cret-token-for-tests"
        try await withServer(service, token: token) { client in
            let missing = try await client.execute(uri: "/api/images", method: .post, body: ByteBuffer(bytes: newImage))
            #expect(missing.status == .unauthorized)
            #expect(missing.errorCode == "auth.required")
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            let wrong = try await client.execute(uri: "/api/images", method: .post,
                                                 headers: [.authorization: "Bearer nope"], body: ByteBuffer(bytes: newImage))
            #expect(wrong.status == .unauthorized)
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            let notImage = try await client.execute(uri: "/api/images", method: .post, headers: auth, body: ByteBuffer(string: "hello"))
            #expect(notImage.status == .unsupportedMediaType)
            #expect(notImage.errorCode == "image.unsupported-type")

            let added = try await client.execute(uri: "/api/images", method: .post, headers: auth, body: ByteBuffer(bytes: newImage))
            #expect(added.status == .accepted)
            #expect(added.object["id"] as? Int == 20)
            #expect(added.object["created"] as? Bool == true)
            // Searchable at once (exact search over the not-yet-indexed tail), rebuild or not.
            for _ in 0..<5 {
                let r = try await client.execute(uri: "/api/search/image?k=1", method: .post, body: ByteBuffer(bytes: newImage))
                #expect(r.status == .ok)
                #expect(r.resultIDs == [20])
                let t = try await client.execute(uri: "/api/search?q=a+lamp", method: .get)
                #expect(t.status == .ok)
            }
            await service.waitForRebuilds()
            #expect(service.indexedCount == 21)
            let stats = try await client.execute(uri: "/api/stats", method: .get)
            #expect((stats.object["index"] as? [String: Any])?["generation"] as? Int == 2)
            let similar = try await client.execute(uri: "/api/images/20/similar?k=20", method: .get)
            #expect(similar.resultIDs.count == 20)
            let file = try await client.execute(uri: "/images/20", method: .get)
            #expect(Array(file.body.readableBytesView) == newImage)
            let again = try await client.execute(uri: "/api/images", method: .post, headers: auth, body: ByteBuffer(bytes: newImage))
            #expect(again.status == .ok)
            #expect(again.object["created"] as? Bool == false)
            #expect(again.object["id"] as? Int == 20)
        }
        // The addition is committed: a fresh open sees it, indexed, consistent.
        let reopened = try Catalog(directory: cat.directory, create: false)
        let state = try reopened.state()
        #expect(state.imageCount == 21)
        #expect(state.indexCount == 21)
        #expect(try reopened.loadEmbeddings(state).rows == 21)
        #expect(try reopened.loadIndex(state)?.index.count == 21)
        #expect(try reopened.image(id: 20)?.root == "uploads")
    }
}

@Suite struct ConcurrentWriterTests {
    /// `clipwb ingest` appends to a catalog the server has open; an upload answered after that gets
    /// an id past the server's snapshot, and that id must be searchable at once.
    @Test func uploadAfterAnotherWriterIsSearchableAtOnce() async throws {
        let (cat, _, _) = try Fixtures.catalog(count: 10)
        let service = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        let more = Fixtures.tempDir("more")
        for f in try Fixtures.sampleFiles()[50..<53] {
            try FileManager.default.copyItem(atPath: Fixtures.samples + "/" + f, toPath: more + "/" + f)
        }
        let other = try Catalog(directory: cat.directory, create: false)
        var options = IngestOptions()
        options.progress = false
        _ = try Ingestion(catalog: other, embedder: Fixtures.embedder, options: options, log: { _ in }).run(folders: [more])
        let token = "s3cret-token-for-tests"
        try await withServer(service, token: token) { client in
            let added = try await client.execute(uri: "/api/images", method: .post, headers: [.authorization: "Bearer \(token)"],
                                                 body: ByteBuffer(bytes: try Fixtures.sample(60)))
            #expect(added.status == .accepted)
            let id = try #require(added.object["id"] as? Int)
            #expect(id == 13)
            let similar = try await client.execute(uri: "/api/images/\(id)/similar?k=5", method: .get)
            #expect(similar.status == .ok, "\(similar.text)")
            #expect(similar.resultIDs.count == 5)
            let ingested = try await client.execute(uri: "/api/images/11/similar?k=5", method: .get)
            #expect(ingested.status == .ok)
        }
        await service.waitForRebuilds()
    }
}

@Suite struct FailedAdditionTests {
    /// An addition whose commit fails leaves no upload file behind (and no row): nothing half-added.
    @Test func failedCommitRemovesTheUploadedFile() async throws {
        let (cat, _, _) = try Fixtures.catalog(count: 6)
        let service = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        let bytes = try Fixtures.sample(70)
        try FileManager.default.removeItem(atPath: cat.shardsDirectory)  // the shard write will fail
        let token = "s3cret-token-for-tests"
        try await withServer(service, token: token) { client in
            let r = try await client.execute(uri: "/api/images", method: .post, headers: [.authorization: "Bearer \(token)"],
                                             body: ByteBuffer(bytes: bytes))
            #expect(r.status == .internalServerError || r.status == .badRequest, "\(r.status) \(r.text)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: cat.uploadsDirectory)
        #expect(left.isEmpty, "upload files left behind: \(left)")
        #expect(try cat.state().imageCount == 6)
    }
}
