// Ingestion through the library: what it adds, skips and lists; re-runs add nothing; the catalog's
// refusals (wrong model, not a catalog) say what to do.
import ClipCore
import ClipSearch
import Foundation
import Testing

@Suite struct IngestTests {
    @Test func summaryCountsAndIncrementalRerun() throws {
        let (cat, first, images) = try Fixtures.catalog(count: 24)
        #expect(first.found == 25)  // 24 photos + the corrupt JPEG (notes.txt has no image magic)
        #expect(first.added == 24)
        #expect(first.ignored == 1)
        #expect(first.unreadable.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["zz-broken.jpg"])
        #expect(first.unreadable.first?.reason.contains("JPEG") == true)
        #expect(first.total == 24 && first.indexed == 24)
        let state = try cat.state()
        #expect(state.shards.map(\.rows) == [16, 8])  // commitEvery 16, batches of 16
        let rec = try #require(try cat.image(id: 3))
        #expect(rec.path == (try Fixtures.sampleFiles())[3])
        #expect(rec.sha256 == (try SHA256.hexDigest(ofFile: images + "/" + rec.path)))
        #expect(rec.width > 0 && rec.height > 0)

        // A copy of a known photo under a new name, and one new photo: only the new one is added.
        let files = try Fixtures.sampleFiles()
        try FileManager.default.copyItem(atPath: Fixtures.samples + "/" + files[2], toPath: images + "/copy-of-2.jpg")
        try FileManager.default.copyItem(atPath: Fixtures.samples + "/" + files[100], toPath: images + "/new.jpg")
        var options = IngestOptions()
        options.progress = false
        let again = try Ingestion(catalog: cat, embedder: Fixtures.embedder, options: options, log: { _ in }).run(folders: [images])
        #expect(again.added == 1)
        #expect(again.alreadyPresent == 25)
        #expect(again.total == 25 && again.indexed == 25)
        #expect(try cat.image(id: 24)?.path == "new.jpg")
    }

    @Test func catalogRefusals() throws {
        let missing = Fixtures.tempDir("nocatalog")
        #expect(throws: SearchError.self) { try Catalog(directory: missing, create: false) }
        do { _ = try Catalog(directory: missing, create: false) } catch let e as SearchError {
            #expect(e.code == "catalog.missing")
            #expect(e.message.contains("clipwb ingest"))
        }
        let cat = try Catalog(directory: Fixtures.tempDir("bound"), create: true)
        try cat.bindModel(name: "ViT-B/32", dimension: 512, weights: "/w/full.h5")
        do {
            try cat.bindModel(name: Fixtures.embedder.modelName, dimension: 64, weights: Fixtures.weights)
            Issue.record("a second model was accepted")
        } catch let e as SearchError {
            #expect(e.code == "catalog.model-mismatch")
            #expect(e.message.contains("/w/full.h5"))
        }
        #expect(throws: SearchError.self) { try SearchService(catalog: cat, embedder: Fixtures.embedder) }
        var options = IngestOptions()
        options.progress = false
        let images = try Fixtures.imageFolder(count: 2)
        do {
            _ = try Ingestion(catalog: cat, embedder: Fixtures.embedder, options: options, log: { _ in }).run(folders: [images])
            Issue.record("ingestion into a catalog of another model was accepted")
        } catch let e as SearchError {
            #expect(e.code == "catalog.model-mismatch")
        }
        let fresh = try Catalog(directory: Fixtures.tempDir("fresh"), create: true)
        do {
            _ = try Ingestion(catalog: fresh, embedder: Fixtures.embedder, options: options, log: { _ in })
                .run(folders: [Fixtures.tempDir("x") + "/nope"])
            Issue.record("a missing folder was accepted")
        } catch let e as SearchError {
            #expect(e.code == "ingest.not-a-folder")
            #expect(e.message.contains("nope"))
        }
    }
}

@Suite struct IndexSettingTests {
    func ingest(_ cat: Catalog, _ images: String, _ index: IndexParameters?) throws -> [String] {
        var options = IngestOptions()
        options.progress = false
        options.index = index
        var lines: [String] = []
        _ = try Ingestion(catalog: cat, embedder: Fixtures.embedder, options: options, log: { lines.append($0) }).run(folders: [images])
        return lines
    }

    /// Re-ingesting with another forest rebuilds the index (never silently keeps the old one); no
    /// setting keeps the catalog's; a new search_k is recorded without a rebuild and served.
    @Test func reingestingWithAnotherSettingChangesTheIndex() async throws {
        let (cat, _, images) = try Fixtures.catalog(count: 12)
        var state = try cat.state()
        #expect(cat.recordedIndexParameters(state) == IndexParameters(trees: 10, seed: 42, searchK: -1))
        #expect(state.indexGeneration == 1)

        let rebuilt = try ingest(cat, images, IndexParameters(trees: 3, seed: 42))
        state = try cat.state()
        #expect(rebuilt.contains { $0.contains("Annoy, 10 trees, seed 42 → Annoy, 3 trees, seed 42") })
        #expect(state.indexGeneration == 2)
        #expect(cat.recordedIndexParameters(state)?.trees == 3)

        _ = try ingest(cat, images, nil)  // no setting: the catalog's stays
        state = try cat.state()
        #expect(state.indexGeneration == 2)
        #expect(cat.recordedIndexParameters(state)?.trees == 3)

        let recorded = try ingest(cat, images, IndexParameters(trees: 3, seed: 42, searchK: 50))
        state = try cat.state()
        #expect(recorded.contains { $0.contains("search_k -1 → 50") })
        #expect(state.indexGeneration == 2)  // search_k needs no rebuild
        let service = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        #expect(service.searchK == 50 && service.parameters.trees == 3)
        let overridden = try SearchService(catalog: cat, embedder: Fixtures.embedder, searchK: 7)
        try await withServer(overridden) { client in
            let s = try await client.execute(uri: "/api/stats", method: .get)
            let index = s.object["index"] as? [String: Any]
            #expect(index?["search_k"] as? Int == 7)
            #expect(index?["trees"] as? Int == 3)
        }
    }

    /// Exact search and HNSW as the catalog's index: built (or, for exact, no file), served, shown in /api/stats, and
    /// re-ingesting with another kind changes the index.
    @Test func exactAndHNSWIndexesAreServed() async throws {
        let (cat, _, images) = try Fixtures.catalog(count: 12)
        let vectors = try cat.loadEmbeddings(try cat.state())
        let truth = try ExactNeighbors(vectors).nearest(to: Array(vectors.row(3)), n: 12).map(\.id)

        var exact = IndexParameters(kind: .exact)
        exact.origin = "test exact"
        let toExact = try ingest(cat, images, exact)
        var state = try cat.state()
        #expect(toExact.contains { $0.contains("→ exact search (no index)") } && state.indexGeneration == 2)
        #expect(state.meta["index_file"] == "exact" && cat.recordedIndexParameters(state)?.kind == .exact)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cat.indexDirectory).isEmpty)  // the Annoy file is gone
        let served = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        #expect(try served.similar(to: 3, offset: 0, limit: 11).results.map(\.id) == Array(truth.dropFirst()))
        try await withServer(served) { client in
            let index = try await client.execute(uri: "/api/stats", method: .get).object["index"] as? [String: Any]
            #expect(index?["kind"] as? String == "exact" && index?["origin"] as? String == "test exact" && index?["trees"] == nil)
        }

        let graph = IndexParameters(kind: .hnsw, seed: 100, m: 8, efConstruction: 50, ef: 20)
        _ = try ingest(cat, images, graph)
        state = try cat.state()
        #expect(state.indexGeneration == 3 && cat.recordedIndexParameters(state)?.kind == .hnsw)
        let hnsw = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        // 12 items, ef ≥ 12: the graph search is exhaustive.
        #expect(try hnsw.similar(to: 3, offset: 0, limit: 11).results.map(\.id) == Array(truth.dropFirst()))
        try await withServer(hnsw) { client in
            let index = try await client.execute(uri: "/api/stats", method: .get).object["index"] as? [String: Any]
            #expect(index?["kind"] as? String == "hnsw" && index?["m"] as? Int == 8 && index?["ef"] as? Int == 20)
        }
        _ = try ingest(cat, images, IndexParameters(kind: .hnsw, seed: 100, m: 8, efConstruction: 50, ef: 40))
        #expect(try cat.state().indexGeneration == 3 && cat.recordedIndexParameters(try cat.state())?.ef == 40)  // ef: no rebuild
        _ = try ingest(cat, images, IndexParameters(trees: 4, seed: 42))
        #expect(try cat.state().indexGeneration == 4 && cat.recordedIndexParameters(try cat.state())?.kind == .annoy)
    }
}
