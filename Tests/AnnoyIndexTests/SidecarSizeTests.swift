// Issue 12, item 6: a dimension from a sidecar or --dim is checked before node sizes are computed from it.
import Foundation
import Testing
@testable import AnnoyIndex
import ClipCore

@Suite struct SidecarSizeTests {
    let dir: String
    init() throws { dir = try Fixture.tempDir() }

    func index() throws -> String {
        let path = dir + "/s.ann"
        try AnnoyBuilder.build(Fixture.vectors(20, 4), metric: .angular, options: BuildOptions(trees: 1, seed: 1, threads: 1)).write(to: path)
        return path
    }

    @Test func hugeDimensionFromTheSidecar() throws {
        let path = try index()
        try IndexSidecar(dimension: 1 << 61, metric: .angular, trees: 1, seed: 1, threads: 1, items: 20, source: "test").write(for: path)
        let m = Fixture.message { _ = try AnnoyIndex.open(path: path) }
        #expect(m?.contains("dimension 2305843009213693952") == true, "\(m ?? "no error")")
        #expect(m?.contains("bytes") == true)
    }

    /// A sidecar of another format or a version this build does not know is refused by name; version 1 opens
    /// (the control).
    @Test func sidecarFormatAndVersionAreChecked() throws {
        let path = try index()
        var side = IndexSidecar(dimension: 4, metric: .angular, trees: 1, seed: 1, threads: 1, items: 20, source: "test")
        try side.write(for: path)
        #expect(Fixture.message { _ = try AnnoyIndex.open(path: path) } == nil)
        side.version = 2
        try side.write(for: path)
        let m = Fixture.message { _ = try AnnoyIndex.open(path: path) }
        #expect(m?.contains("version 2") == true && m?.contains("reads version 1") == true, "\(m ?? "no error")")
        side.version = 1
        side.format = "something-else"
        try side.write(for: path)
        #expect(Fixture.message { _ = try AnnoyIndex.open(path: path) }?.contains("format 'something-else'") == true)
    }

    @Test func hugeDimensionFromDim() throws {
        let path = try index()
        for d in [1 << 61, Int.max] {
            let m = Fixture.message { _ = try AnnoyIndex.open(path: path, dimension: d) }
            #expect(m?.contains("dimension \(d)") == true, "\(m ?? "no error")")
        }
        #expect(Fixture.message { _ = try AnnoyIndex.open(path: path, dimension: 4) } == nil)
    }
}
