// The one JSON style: snake_case property names, dictionary keys untouched, round trip.
import ClipCore
import Foundation
import Testing

@Suite struct JSONStyleTests {
    struct Row: Codable, Equatable {
        var p50Us: Double
        var blasIsOpenblas: Bool
        var effectiveSearchK: Int
        var buildSeconds: [String: Double]
        var metadata: [String: String]
    }

    @Test func propertyNamesAreSnakeCaseAndDataKeysAreNot() throws {
        let row = Row(p50Us: 1.5, blasIsOpenblas: true, effectiveSearchK: 30, buildSeconds: ["1": 2, "2": 1],
                      metadata: ["modelName": "ViT-B/32", "visual.conv1.weight": "x"])
        let data = try JSONStyle.encoder(pretty: false).encode(row)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"p50_us\":1.5"))
        #expect(text.contains("\"blas_is_openblas\":true"))
        #expect(text.contains("\"effective_search_k\":30"))
        #expect(text.contains("\"modelName\":\"ViT-B/32\""))  // data, not a name
        #expect(text.contains("\"visual.conv1.weight\""))
        #expect(!text.contains("p50Us") && !text.contains("effectiveSearchK"))
        #expect(try JSONStyle.decoder().decode(Row.self, from: data) == row)
    }

    @Test func snakeCaseOfNames() {
        #expect(JSONStyle.snakeCase("peakRssBytes") == "peak_rss_bytes")
        #expect(JSONStyle.snakeCase("indexURL") == "index_url")
        #expect(JSONStyle.snakeCase("already_snake") == "already_snake")
        #expect(JSONStyle.snakeCase("p99Us") == "p99_us")
    }
}
