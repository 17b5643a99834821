// A catalog built from embeddings whose image files are not all there (`ingest --embeddings` with synthetic
// names, or a photo removed since): the page shows a placeholder for those, an <img> for the others, and the
// export lists every row in id order with its size (0 × 0 where no file was read).
import ClipCore
import ClipSearch
import ClipServer
import Foundation
import HummingbirdTesting
import Testing

@Suite struct PlaceholderTests {
    /// 12 rows: even ids are sample photos, odd ids synthetic names with no file; then the photo of id 4 is removed.
    static func catalog() throws -> (SearchService, images: String) {
        let images = try Fixtures.imageFolder(count: 6)
        let photos = try Fixtures.sampleFiles().prefix(6).map { images + "/" + $0 }
        var names: [String] = []
        for i in 0..<6 { names += [photos[i], images + "/absent/synthetic-\(i).jpg"] }
        let p = try Fixtures.embedder.prepareImage(Fixtures.sample(0))
        var m = try Fixtures.embedder.embedImages([p])
        m = Matrix(rows: 12, cols: m.cols, data: (0..<12).flatMap { i in m.data.enumerated().map { $0.element + Float(($0.offset * 7 + i * 13) % 11) * 0.01 } })
        let cat = try Catalog(directory: Fixtures.tempDir("placeholder"), create: true)
        try cat.bindModel(name: Fixtures.embedder.modelName, dimension: Fixtures.embedder.dimension, weights: Fixtures.weights)
        var options = IngestOptions()
        options.progress = false
        _ = try Ingestion(catalog: cat, embedder: Fixtures.embedder, options: options, log: { _ in }).run(embeddings: m, names: names)
        try FileManager.default.removeItem(atPath: photos[2])  // id 4: a file removed after ingestion
        return (try SearchService(catalog: cat, embedder: Fixtures.embedder), images)
    }

    func ids(_ html: String, _ pattern: String) -> Set<Int> {
        let re = try! NSRegularExpression(pattern: pattern)
        return Set(re.matches(in: html, range: NSRange(html.startIndex..., in: html)).compactMap {
            Range($0.range(at: 1), in: html).flatMap { Int(html[$0]) }
        })
    }

    @Test func absentImageFilesShowAPlaceholder() async throws {
        let (service, _) = try Self.catalog()
        try await withServer(service) { client in
            let home = try await client.execute(uri: "/", method: .get)
            #expect(home.status == .ok)
            let html = home.text
            let missing = ids(html, #"data-id="(\d+)"><div class="thumb missing" role="img""#)
            let shown = ids(html, #"<img src="/images/(\d+)""#)
            // Negative control: before the placeholder, every result had an <img> (shown would be all 12).
            #expect(missing == [1, 3, 4, 5, 7, 9, 11])
            #expect(shown == [0, 2, 6, 8, 10])
            #expect(html.contains("aria-label=\"no image file for synthetic-1.jpg\""))
            // The image route still answers 404 for them, with the reason.
            let gone = try await client.execute(uri: "/images/1", method: .get)
            #expect(gone.status == .notFound)
            #expect(gone.errorCode == "image.file-missing")
            // The similar page of an absent image shows the placeholder as its query image.
            let similar = try await client.execute(uri: "/similar/3", method: .get)
            #expect(similar.status == .ok)
            #expect(similar.text.contains("class=\"query missing\""))
            #expect(!similar.text.contains("<img class=\"query\""))
            let present = try await client.execute(uri: "/similar/2", method: .get)
            #expect(present.text.contains("<img class=\"query\" src=\"/images/2\""))
        }
    }

    @Test func exportListsEveryRowInIDOrder() throws {
        let (service, _) = try Self.catalog()
        let out = Fixtures.tempDir("export") + "/cat"
        let manifest = try service.catalog.export(to: out)
        #expect(manifest.rows == 12 && manifest.dimension == Fixtures.embedder.dimension && manifest.metric == "cosine")
        let m = try NPY.readMatrix(out + ".npy")
        #expect(m == (try service.catalog.loadEmbeddings(service.catalog.state())))
        let lines = try String(contentsOfFile: out + ".jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 12)
        let rows = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.map { $0["id"] as? Int } == (0..<12).map { $0 })
        #expect(rows[1]["name"] as? String == "synthetic-0.jpg" && rows[1]["width"] as? Int == 0)
        #expect((rows[0]["width"] as? Int ?? 0) > 0 && rows[0]["added_at"] != nil && (rows[0]["sha256"] as? String)?.count == 64)
    }
}
