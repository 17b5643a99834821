// The catalog's index files: built over the committed embeddings, written durably under a fresh
// name, then named in one transaction (index_file, index_count, index_generation); the previous
// file is removed only after that commit. Also the clean-up of files no transaction names.
import ClipCore
import ClipEval
import Foundation
import GRDB

/// What answers the catalog's nearest-neighbour queries.
public enum IndexKind: String, Sendable, Codable, CaseIterable {
    /// An Annoy forest (the default): trees, seed; search_k at query time.
    case annoy
    /// An HNSW graph (hnswlib): M, ef_construction, seed; ef at query time.
    case hnsw
    /// No index: brute-force BLAS search over all embeddings (ClipEval.ExactSearch, what `clipwb eval` measures).
    case exact
}

/// How the catalog's index is built and searched.
public struct IndexParameters: Sendable, Codable, Equatable {
    public var kind: IndexKind = .annoy
    public var trees: Int
    public var seed: UInt64
    /// Annoy's search_k: nodes to inspect per query; -1 is Annoy's default, n × trees (n = the
    /// deepest result a page may reach, 1,001, so paging walks one list).
    public var searchK: Int
    /// HNSW's parameters (hnswlib's names); ef is read at query time (hnswlib searches with max(ef, n)).
    public var m: Int = 16
    public var efConstruction: Int = 200
    public var ef: Int = 10
    /// Where the setting came from ("ingest --trees", "recommendation.json k=10 …"); shown by /api/stats, not part
    /// of what the index is.
    public var origin: String = ""

    public init(trees: Int = 10, seed: UInt64 = 42, searchK: Int = -1) {
        self.trees = trees
        self.seed = seed
        self.searchK = searchK
    }

    public init(kind: IndexKind, trees: Int = 10, seed: UInt64 = 42, searchK: Int = -1, m: Int = 16, efConstruction: Int = 200, ef: Int = 10) {
        self.init(trees: trees, seed: seed, searchK: searchK)
        self.kind = kind
        self.m = m
        self.efConstruction = efConstruction
        self.ef = ef
    }

    /// Whether an index built with `self` is the one `other` asks for (search_k and ef are read at query time).
    public func sameIndex(as other: IndexParameters) -> Bool {
        guard kind == other.kind else { return false }
        switch kind {
        case .annoy: return trees == other.trees && seed == other.seed
        case .hnsw: return m == other.m && efConstruction == other.efConstruction && seed == other.seed
        case .exact: return true
        }
    }

    /// The index in words: "Annoy, 10 trees, seed 42", "HNSW, M 16, ef_construction 200, seed 100", "exact search".
    public var describe: String {
        switch kind {
        case .annoy: return "Annoy, \(trees) trees, seed \(seed)"
        case .hnsw: return "HNSW, M \(m), ef_construction \(efConstruction), seed \(seed)"
        case .exact: return "exact search (no index)"
        }
    }

    /// The catalog's meta rows for these parameters.
    var meta: [String: String] {
        ["index_kind": kind.rawValue, "index_origin": origin, "index_trees": String(trees), "index_seed": String(seed), "index_search_k": String(searchK),
         "index_m": String(m), "index_ef_construction": String(efConstruction), "index_ef": String(ef)]
    }

    /// Parameters from the catalog's meta rows (a catalog from before index kinds holds an Annoy index).
    init?(meta: [String: String]) {
        guard let trees = Int(meta["index_trees"] ?? ""), let seed = UInt64(meta["index_seed"] ?? "") else { return nil }
        self.init(kind: IndexKind(rawValue: meta["index_kind"] ?? "annoy") ?? .annoy, trees: trees, seed: seed,
                  searchK: Int(meta["index_search_k"] ?? "") ?? -1, m: Int(meta["index_m"] ?? "") ?? 16,
                  efConstruction: Int(meta["index_ef_construction"] ?? "") ?? 200, ef: Int(meta["index_ef"] ?? "") ?? 10)
        origin = meta["index_origin"] ?? ""
    }

    /// The setting `clipwb eval --target-recall` recommends, as the catalog builds it (angular metric). Annoy's
    /// search_k is the number the sweep queried with (auto resolved to k × trees), so the first k results are
    /// searched as measured.
    public init(recommended s: IndexSetting, origin: String) throws {
        switch s.family {
        case "annoy":
            guard let trees = s.trees, let searchK = s.searchK else { throw Self.incomplete(s) }
            self.init(kind: .annoy, trees: trees, seed: s.seed ?? 42, searchK: searchK)
        case "hnsw":
            guard let m = s.m, let efc = s.efConstruction, let ef = s.ef else { throw Self.incomplete(s) }
            self.init(kind: .hnsw, seed: s.seed ?? 100, m: m, efConstruction: efc, ef: ef)
        case "exact": self.init(kind: .exact)
        default:
            throw SearchError("index-config.family", "the recommended family '\(s.family)' is not one the catalog builds (annoy, hnsw, exact)")
        }
        self.origin = origin
    }

    static func incomplete(_ s: IndexSetting) -> SearchError {
        SearchError("index-config.incomplete", "the recommended \(s.family) setting lacks its parameters; re-run `clipwb eval --target-recall` to write a complete recommendation.json")
    }
}

/// A loaded index and what it covers.
public struct LoadedIndex: Sendable {
    public let index: any NeighborIndex
    public let file: String
    public let generation: Int
    public let parameters: IndexParameters
}

extension Catalog {
    /// Builds an index over `vectors` (ids 0 ..< rows), writes it and commits it as the catalog's index. Exact
    /// search writes no file: its "index" is the embeddings, and the name `exact` stands for it.
    /// `threads` nil: min(2, trees) build threads (the forest depends on the count; the sidecar records it).
    public func commitIndex(vectors: Matrix, parameters: IndexParameters, threads: Int? = nil) throws -> LoadedIndex {
        let file = parameters.kind == .exact ? NeighborIndexFiles.exactName : "index-\(Self.stamp()).\(parameters.kind == .hnsw ? "hnsw" : "ann")"
        let index = try NeighborIndexFiles.buildAndSave(vectors, parameters: parameters, to: indexDirectory + "/" + file,
                                                        source: "clipwb catalog \(directory)", threads: threads,
                                                        backing: indexBacking)
        let (old, generation): (String?, Int) = try db.write { db in
            let meta = try Row.fetchAll(db, sql: "SELECT key, value FROM meta WHERE key IN ('index_file', 'index_generation')")
            var old: String?
            var gen = 0
            for r in meta {
                if (r["key"] as String) == "index_file" { old = r["value"] } else { gen = Int(r["value"] as String) ?? 0 }
            }
            try CatalogDatabase.setMeta(parameters.meta.merging(["index_file": file, "index_count": String(vectors.rows),
                                                                 "index_generation": String(gen + 1)]) { $1 }, db)
            return (old, gen + 1)
        }
        if let old, old != file { NeighborIndexFiles.remove(indexDirectory + "/" + old) }
        return LoadedIndex(index: index, file: file, generation: generation, parameters: parameters)
    }

    /// Records a new search_k (Annoy) and ef (HNSW) for the committed index (no rebuild: both are read at query time).
    public func recordQueryParameters(_ p: IndexParameters) throws {
        try db.write { db in
            try CatalogDatabase.setMeta(["index_search_k": String(p.searchK), "index_ef": String(p.ef), "index_origin": p.origin], db)
        }
    }

    /// The parameters the committed index was built with, or nil when there is none.
    public func recordedIndexParameters(_ state: CatalogState) -> IndexParameters? {
        guard state.meta["index_file"] != nil else { return nil }
        return IndexParameters(meta: state.meta)
    }

    /// The committed index, or nil when none was committed yet. Exact search needs the embeddings (`vectors`,
    /// all committed rows; it covers the first index_count of them); without them it loads them itself.
    public func loadIndex(_ state: CatalogState, vectors: Matrix? = nil) throws -> LoadedIndex? {
        guard let file = state.meta["index_file"] else { return nil }
        let dim = Int(state.meta["dimension"] ?? "") ?? 0
        guard let params = IndexParameters(meta: state.meta) else { throw inconsistent("its index settings are missing") }
        let index: any NeighborIndex
        if params.kind == .exact {
            let all = try vectors ?? loadEmbeddings(state)
            guard state.indexCount <= all.rows else {
                throw inconsistent("exact search covers \(state.indexCount) items, there are \(all.rows) embeddings")
            }
            index = ExactIndex(Matrix(rows: state.indexCount, cols: all.cols, data: Array(all.data.prefix(state.indexCount * all.cols))))
        } else {
            do { index = try NeighborIndexFiles.load(indexDirectory + "/" + file, parameters: params, dimension: dim, backing: indexBacking) } catch let e as ClipwbError {
                throw inconsistent("its index '\(file)' cannot be loaded: \(e.message)")
            }
        }
        guard index.count == state.indexCount, index.count <= state.imageCount else {
            throw inconsistent("its index holds \(index.count) items, the database says \(state.indexCount) of \(state.imageCount)")
        }
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
