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
