"""`clipwb export --format npy+jsonl` read by a vector database: a catalog of 400 rows built by `clipwb ingest
--embeddings` (synthetic names, the committed tiny model's 64-d space), exported, inserted with pymilvus into
milvus-lite (Milvus in-process, a local file), and searched there: Milvus's top 16 ids must be clipwb's exact
(BLAS) top 16 over the catalog's index for every query. The same client code targets a Milvus cluster: only the
MilvusClient URI changes (http://host:19530 instead of a file). Run by `make test-milvus` (own venv)."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

ROOT = Path(__file__).resolve().parents[2]
CLIPWB = os.environ.get("CLIPWB", str(ROOT / ".build/debug/clipwb"))
WEIGHTS = ROOT / "weights/tiny/clip-tiny.h5"
ROWS, DIM, K = 400, 64, 16


def run(*args):
    return subprocess.run([CLIPWB, *map(str, args)], check=True, capture_output=True, text=True)


def load_into_milvus(client, name, vectors, rows):
    """What a user runs against Milvus: one collection, id as primary key, the vector and the row's fields."""
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
    for f in ("name", "path", "sha256"):
        schema.add_field(f, DataType.VARCHAR, max_length=4096)
    schema.add_field("width", DataType.INT64)
    schema.add_field("height", DataType.INT64)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="COSINE")
    client.create_collection(name, schema=schema, index_params=index)
    for start in range(0, len(rows), 100):
        client.insert(name, [{"id": r["id"], "vector": vectors[r["id"]].tolist(), "name": r["name"], "path": r["path"],
                              "sha256": r["sha256"], "width": r["width"], "height": r["height"]}
                             for r in rows[start:start + 100]])
    client.load_collection(name)


def milvus_top(client, name, queries):
    res = client.search(name, data=queries.tolist(), limit=K, output_fields=["name"],
                        search_params={"metric_type": "COSINE"})
    return [[h["id"] for h in hits] for hits in res], [[h["entity"]["name"] for h in hits] for hits in res]


def same_ranking(a, b, vectors, query):
    """Equal id lists, except that two ids whose cosines to the query differ by < 1e-6 may swap places."""
    if a == b:
        return True
    ca, cb = vectors[a] @ query, vectors[b] @ query
    return len(a) == len(b) and bool(np.all(np.abs(np.sort(ca) - np.sort(cb)) < 1e-6))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("milvus")
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((8, DIM)).astype(np.float32)
    x = (centres[rng.integers(0, 8, ROWS)] + 0.6 * rng.standard_normal((ROWS, DIM))).astype(np.float32)
    np.save(tmp / "emb.npy", x)
    (tmp / "emb.names.txt").write_text("".join(f"photos/img-{i:04d}.jpg\n" for i in range(ROWS)))
    run("ingest", "--embeddings", tmp / "emb.npy", "--weights", WEIGHTS, "--catalog", tmp / "cat", "--trees", 4)
    manifest = json.loads(run("export", "--catalog", tmp / "cat", "--format", "npy+jsonl", "--out", tmp / "out/cat",
                              "--json").stdout)
    vectors = np.load(tmp / "out/cat.npy")
    rows = [json.loads(l) for l in (tmp / "out/cat.jsonl").read_text().splitlines()]
    queries = np.concatenate([vectors[rng.choice(ROWS, 10, replace=False)],
                              rng.standard_normal((10, DIM)).astype(np.float32)])
    np.save(tmp / "queries.npy", queries)
    index = next((tmp / "cat/index").glob("*.ann"))
    run("index", "query", "--index", index, "--vectors", tmp / "queries.npy", "--k", K, "--exact",
        "--out", tmp / "exact.npy")
    return tmp, manifest, vectors, rows, queries, np.load(tmp / "exact.npy")


def test_export_files(exported):
    _, manifest, vectors, rows, _, _ = exported
    assert manifest["rows"] == ROWS and manifest["dimension"] == DIM and manifest["metric"] == "cosine"
    assert vectors.shape == (ROWS, DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)  # unit rows: inner product = cosine
    assert [r["id"] for r in rows] == list(range(ROWS))
    assert rows[7]["name"] == "img-0007.jpg" and rows[7]["width"] == 0 and len(rows[7]["sha256"]) == 64


def test_milvus_search_returns_clipwb_exact_top_ids(exported):
    tmp, _, vectors, rows, queries, exact = exported
    client = MilvusClient(str(tmp / "milvus.db"))
    load_into_milvus(client, "photos", vectors, rows)
    assert client.get_collection_stats("photos")["row_count"] == ROWS
    ids, names = milvus_top(client, "photos", queries)
    unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    for q in range(len(queries)):
        assert same_ranking(ids[q], exact[q].tolist(), vectors, unit[q]), (q, ids[q], exact[q].tolist())
        assert names[q] == [rows[i]["name"] for i in ids[q]]
    # Negative control: each row loaded with the next row's vector (a .npy and .jsonl out of step) must fail.
    load_into_milvus(client, "shifted", np.roll(vectors, -1, axis=0), rows)
    bad, _ = milvus_top(client, "shifted", queries)
    assert not all(same_ranking(bad[q], exact[q].tolist(), vectors, unit[q]) for q in range(len(queries)))
    client.close()
