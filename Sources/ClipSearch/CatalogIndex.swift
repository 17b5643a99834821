// The catalog's index files: built over the committed embeddings, written durably under a fresh
// name, then named in one transaction (index_file, index_count, index_generation); the previous
// file is removed only after that commit. Also the clean-up of files no transaction names.
import ClipCore
import Foundation
import GRDB

/// How the catalog's index is built and searched.
public struct IndexParameters: Sendable, Codable, Equatable {
    public var trees: Int
    public var seed: UInt64
    /// Annoy's search_k: nodes to inspect per query; -1 is Annoy's default, n × trees (n = the
    /// deepest result a page may reach, 1,001, so paging walks one list).
    public var searchK: Int

    public init(trees: Int = 10, seed: UInt64 = 42, searchK: Int = -1) {
        self.trees = trees
        self.seed = seed
        self.searchK = searchK
    }

    /// Whether an index built with `self` is the one `other` asks for (search_k is read at query time).
    public func sameForest(as other: IndexParameters) -> Bool { trees == other.trees && seed == other.seed }
}

/// A loaded index and what it covers.
public struct LoadedIndex: Sendable {
    public let index: any NeighborIndex
    public let file: String
    public let generation: Int
    public let parameters: IndexParameters
}

extension Catalog {
    /// Builds an index over `vectors` (ids 0 ..< rows), writes it and commits it as the catalog's index.
    /// `threads` nil: min(2, trees) build threads (the forest depends on the count; the sidecar records it).
    public func commitIndex(vectors: Matrix, parameters: IndexParameters, threads: Int? = nil) throws -> LoadedIndex {
        let file = "index-\(Self.stamp()).ann"
        let index = try NeighborIndexFiles.buildAndSave(vectors, parameters: parameters, to: indexDirectory + "/" + file,
                                                        source: "clipwb catalog \(directory)", threads: threads)
        let (old, generation): (String?, Int) = try db.write { db in
            let meta = try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE key IN ('index_file', 'index_generation')")
            var old: String?
            var gen = 0
            for r in meta {
                if (r["key"] as String) == "index_file" { old = r["value"] } else { gen = Int(r["value"] as String) ?? 0 }
            }
            try CatalogDatabase.setMeta(["index_file": file, "index_count": String(vectors.rows),
                                         "index_generation": String(gen + 1), "index_trees": String(parameters.trees),
                                         "index_seed": String(parameters.seed), "index_search_k": String(parameters.searchK)], db)
            return (old, gen + 1)
        }
        if let old, old != file { NeighborIndexFiles.remove(indexDirectory + "/" + old) }
        return LoadedIndex(index: index, file: file, generation: generation, parameters: parameters)
    }

    /// Records a new search_k for the committed index (no rebuild: it is read at query time).
    public func recordSearchK(_ searchK: Int) throws {
        try db.write { db in try CatalogDatabase.setMeta(["index_search_k": String(searchK)], db) }
    }

    /// The parameters the committed index was built with, or nil when there is none.
    public func recordedIndexParameters(_ state: CatalogState) -> IndexParameters? {
        guard state.meta["index_file"] != nil, let trees = Int(state.meta["index_trees"] ?? ""),
              let seed = UInt64(state.meta["index_seed"] ?? "") else { return nil }
        return IndexParameters(trees: trees, seed: seed, searchK: Int(state.meta["index_search_k"] ?? "") ?? -1)
    }

    /// The committed index, or nil when none was committed yet.
    public func loadIndex(_ state: CatalogState) throws -> LoadedIndex? {
        guard let file = state.meta["index_file"] else { return nil }
        let dim = Int(state.meta["dimension"] ?? "") ?? 0
        let index: any NeighborIndex
        do { index = try NeighborIndexFiles.load(indexDirectory + "/" + file, dimension: dim) } catch let e as ClipwbError {
            throw inconsistent("its index '\(file)' cannot be loaded: \(e.message)")
        }
        guard index.count == state.indexCount, index.count <= state.imageCount else {
            throw inconsistent("its index holds \(index.count) items, the database says \(state.indexCount) of \(state.imageCount)")
        }
        let params = IndexParameters(trees: Int(state.meta["index_trees"] ?? "") ?? 0,
                                     seed: UInt64(state.meta["index_seed"] ?? "") ?? 0,
                                     searchK: Int(state.meta["index_search_k"] ?? "") ?? -1)
        return LoadedIndex(index: index, file: file, generation: state.indexGeneration, parameters: params)
    }

    /// Removes files that no committed transaction names (left by a killed writer) and that are older
    /// than `minimumAge` seconds, so a file another live writer is about to commit is never touched.
    /// Returns the removed names.
    @discardableResult
    public func removeOrphans(minimumAge: Double = 120) throws -> [String] {
        let state = try db.state()
        let named = Set(state.shards.map(\.file))
        let index = state.meta["index_file"]
        var removed: [String] = []
        let fm = FileManager.default
        let cutoff = Date().addingTimeInterval(-minimumAge)
        func old(_ path: String) -> Bool {
            ((try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date).map { $0 < cutoff } ?? false
        }
        for name in (try? fm.contentsOfDirectory(atPath: shardsDirectory)) ?? [] where !named.contains(name) {
            guard old(shardsDirectory + "/" + name) else { continue }
            try? fm.removeItem(atPath: shardsDirectory + "/" + name)
            removed.append("shards/" + name)
        }
        for name in (try? fm.contentsOfDirectory(atPath: indexDirectory)) ?? [] {
            guard let index, name == index || NeighborIndexFiles.belongs(name, to: index) else {
                guard old(indexDirectory + "/" + name) else { continue }
                try? fm.removeItem(atPath: indexDirectory + "/" + name)
                removed.append("index/" + name)
                continue
            }
        }
        for name in (try? fm.contentsOfDirectory(atPath: uploadsDirectory)) ?? [] where name.contains(".tmp-") {
            guard old(uploadsDirectory + "/" + name) else { continue }
            try? fm.removeItem(atPath: uploadsDirectory + "/" + name)
            removed.append("uploads/" + name)
        }
        return removed
    }
}
