"""Interop with the real Python `annoy` (1.17.3): same ids both ways, same trees with one thread and with two.

Run by `make test` with CLIPWB pointing at the clipwb binary.
"""
import json
import subprocess
from collections import Counter

import annoy
import h5py
import numpy as np
import pytest
from conftest import clipwb_path

N, DIM, QUERIES, TREES, SEED = 2000, 40, 100, 5, 42
HEADER = {"angular": 12, "euclidean": 16, "dot": 16}
CHILDREN = {"angular": 4, "euclidean": 8, "dot": 4}


def run(*args, ok=True):
    p = subprocess.run([clipwb_path(), *map(str, args)], capture_output=True, text=True)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("annoy")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, DIM)).astype(np.float32)
    q = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    np.save(d / "x.npy", x)
    np.save(d / "q.npy", q)
    return d, x, q


def annoy_index(metric, x, path, n_jobs=1):
    a = annoy.AnnoyIndex(DIM, metric)
    a.set_seed(SEED)
    for i, v in enumerate(x):
        a.add_item(i, v)
    a.build(TREES, n_jobs=n_jobs)
    a.save(str(path))
    return a


def clipwb_ids(index, queries, k, *extra):
    out = run("index", "query", "--index", index, "--vectors", queries, "--k", k, "--json", *extra).stdout
    return json.loads(out)


@pytest.mark.parametrize("metric", ["angular", "euclidean", "dot"])
@pytest.mark.parametrize("search_k", [-1, 50, 1000])
def test_annoy_built_index_queried_by_clipwb(data, metric, search_k):
    d, x, q = data
    path = d / f"annoy-{metric}.ann"
    a = annoy_index(metric, x, path)
    extra = ["--dim", DIM, "--metric", metric] + ([] if search_k == -1 else ["--search-k", search_k])
    got = clipwb_ids(path, d / "q.npy", 10, *extra)
    for i in range(QUERIES):
        ids, dists = a.get_nns_by_vector(q[i], 10, search_k=search_k, include_distances=True)
        assert got["ids"][i] == ids, f"query {i}"
        np.testing.assert_allclose(got["distances"][i], dists, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["angular", "euclidean", "dot"])
def test_clipwb_built_index_loads_in_annoy(data, metric):
    d, x, q = data
    path = d / f"clipwb-{metric}.ann"
    run("index", "build", "--vectors", d / "x.npy", "--trees", TREES, "--metric", metric, "--seed", SEED,
        "--threads", 2, "--out", path)
    side = json.loads(open(str(path) + ".json").read())
    assert (side["dimension"], side["metric"], side["trees"], side["items"]) == (DIM, metric, TREES, N)
    a = annoy.AnnoyIndex(DIM, metric)
    a.load(str(path))
    assert a.get_n_items() == N and a.get_n_trees() == TREES
    got = clipwb_ids(path, d / "q.npy", 10)
    for i in range(QUERIES):
        assert a.get_nns_by_vector(q[i], 10) == got["ids"][i], f"query {i}"


@pytest.mark.parametrize("metric", ["angular", "euclidean", "dot"])
def test_single_thread_build_has_annoys_trees(data, metric):
    """Same seed, one thread: every item node, bucket and split topology equals Annoy's. Split-plane
    floats may differ in the last bits: the annoy wheel is built with -ffast-math, so GCC normalises
    with rsqrt + one Newton step (hardware-specific) where clipwb divides by sqrt."""
    d, x, _ = data
    ours, theirs = d / f"ours1-{metric}.ann", d / f"theirs1-{metric}.ann"
    annoy_index(metric, x, theirs)
    run("index", "build", "--vectors", d / "x.npy", "--trees", TREES, "--metric", metric, "--seed", SEED,
        "--threads", 1, "--out", ours)
    size = HEADER[metric] + 4 * DIM
    A = np.frombuffer(theirs.read_bytes(), np.uint8).reshape(-1, size)
    C = np.frombuffer(ours.read_bytes(), np.uint8).reshape(-1, size)
    assert A.shape == C.shape
    nd_a, nd_c = A[:, :4].copy().view(np.int32)[:, 0], C[:, :4].copy().view(np.int32)[:, 0]
    assert (nd_a == nd_c).all()
    K = (size - CHILDREN[metric]) // 4
    co = CHILDREN[metric]
    split = nd_a > K
    split[:N] = False
    assert (A[split][:, co:co + 8] == C[split][:, co:co + 8]).all(), "split children differ"
    bucket = nd_a <= K
    bucket[:N] = False
    assert (A[bucket] == C[bucket]).all(), "bucket nodes differ"
    if metric != "dot":  # Dot's extra coordinate goes through the same rsqrt approximation
        assert (A[:N] == C[:N]).all(), "item nodes differ"
    np.testing.assert_allclose(A[split][:, HEADER[metric]:].copy().view(np.float32),
                               C[split][:, HEADER[metric]:].copy().view(np.float32), atol=1e-5)


def forest(path, metric):
    """The trees of an Annoy file as a multiset of nested tuples (split: (left, right); bucket: frozenset of
    items; item: its id), independent of node numbering and root order."""
    size = HEADER[metric] + 4 * DIM
    co = CHILDREN[metric]
    K = (size - co) // 4
    B = np.frombuffer(path.read_bytes(), np.uint8).reshape(-1, size)
    nd = B[:, :4].copy().view(np.int32)[:, 0]
    kids = B[:, co:co + 4 * K].copy().view(np.int32)

    def canon(i):
        if i < N:
            return int(i)
        if nd[i] <= K:
            return frozenset(kids[i, :nd[i]].tolist())
        return (canon(kids[i, 0]), canon(kids[i, 1]))

    return Counter(canon(r) for r in range(len(B) - TREES, len(B)))


@pytest.mark.parametrize("metric", ["angular", "euclidean", "dot"])
def test_two_thread_build_has_annoys_n_jobs_2_trees(data, metric):
    """Two threads follow annoy's n_jobs=2 policy: thread t builds floor((trees + t) / 2) trees from seed + t.
    annoy numbers nodes in whatever order its threads take the lock; the trees themselves are fixed."""
    d, x, _ = data
    ours, theirs = d / f"ours2-{metric}.ann", d / f"theirs2-{metric}.ann"
    annoy_index(metric, x, theirs, n_jobs=2)
    run("index", "build", "--vectors", d / "x.npy", "--trees", TREES, "--metric", metric, "--seed", SEED,
        "--threads", 2, "--out", ours)
    assert ours.stat().st_size == theirs.stat().st_size
    mine, annoys = forest(ours, metric), forest(theirs, metric)
    assert sum(mine.values()) == TREES
    assert mine == annoys
    # and not the n_jobs=1 forest: the thread policy matters
    one = d / f"ours1b-{metric}.ann"
    run("index", "build", "--vectors", d / "x.npy", "--trees", TREES, "--metric", metric, "--seed", SEED,
        "--threads", 1, "--out", one)
    assert forest(one, metric) != mine


def test_dimension_mismatch_is_reported(data):
    d, x, _ = data
    path = d / "annoy-angular-dim.ann"
    annoy_index("angular", x, path)
    np.save(d / "q8.npy", np.ones((2, 8), np.float32))
    p = run("index", "query", "--index", path, "--dim", DIM, "--vectors", d / "q8.npy", "--k", 3, ok=False)
    assert p.returncode == 2
    assert "the query vectors have 8 columns but the index" in p.stderr


def test_missing_sidecar_asks_for_dim(data):
    d, x, _ = data
    path = d / "annoy-nosidecar.ann"
    annoy_index("angular", x, path)
    p = run("index", "query", "--index", path, "--vectors", d / "q.npy", "--k", 3, ok=False)
    assert p.returncode == 2 and "--dim" in p.stderr


def test_eval_reads_ann_benchmarks_hdf5(data, tmp_path):
    _, x, q = data
    path = tmp_path / "tiny-angular.hdf5"
    gt = np.argsort(-(q[:20] @ x[:500].T) / np.linalg.norm(x[:500], axis=1), axis=1)[:, :10].astype(np.int32)
    with h5py.File(path, "w") as f:
        f["train"], f["test"], f["neighbors"] = x[:500], q[:20], gt
    out = tmp_path / "run"
    run("eval", "--vectors", f"{path}:train", "--queries", f"{path}:test", "--ground-truth", f"{path}:neighbors",
        "--trees", "1,3", "--search-k", "auto,5000", "--k", "10", "--build-threads", "1", "--out", out)
    res = json.loads((out / "results.json").read_text())
    assert len([r for r in res["runs"] if r["family"] == "annoy"]) == 4
    assert [r["recall"] for r in res["runs"] if r["family"] == "exact"] == [1.0]  # exact search agrees with the file's truth
    best = [r for r in res["runs"] if r.get("search_k") == 5000]
    assert all(r["recall"] == 1.0 for r in best)
    for f in ["results.csv", "report.md", "plot.svg"]:
        assert (out / f).exists()


def test_eval_images_of_an_empty_folder(tmp_path):
    (tmp_path / "imgs").mkdir()
    p = run("eval", "--images", tmp_path / "imgs", "--weights", tmp_path / "w", "--out", tmp_path / "o", ok=False)
    assert p.returncode == 2 and "holds no images" in p.stderr


# Issue 12, item 8: the forest check at open must accept every file Annoy writes or loads as a forest, and
# search such files exactly as Annoy does (its roots list, duplicates included).

def assert_same_neighbours(a, path, d, q, metric, search_k=-1):
    extra = ["--dim", DIM, "--metric", metric] + ([] if search_k == -1 else ["--search-k", search_k])
    got = clipwb_ids(path, d / "q.npy", 5, *extra)
    for i in range(QUERIES):
        assert got["ids"][i] == a.get_nns_by_vector(q[i], 5, search_k=search_k), f"query {i}"


@pytest.mark.parametrize("search_k", [-1, 1000])
def test_root_listed_twice_is_searched_as_annoy_does(data, search_k):
    """Append one more copy of the first root: Annoy's load then also keeps the last tree's original root
    (its "hacky fix" compares other nodes), so two trees are searched twice — as with an n_jobs build
    whose last-numbered root is not the last in _roots."""
    d, x, q = data
    path = d / "twice.ann"
    annoy_index("angular", x, path)
    size = HEADER["angular"] + 4 * DIM
    raw = path.read_bytes()
    path.write_bytes(raw + raw[-TREES * size:-(TREES - 1) * size])
    a = annoy.AnnoyIndex(DIM, "angular")
    a.load(str(path))
    assert a.get_n_trees() == TREES + 2
    assert_same_neighbours(a, path, d, q, "angular", search_k)


def test_bucket_roots_load_and_match(data):
    """Fewer items than K: each tree is one bucket; load keeps copies and originals alike."""
    d, x, q = data
    path = d / "buckets.ann"
    a = annoy.AnnoyIndex(DIM, "euclidean")
    a.set_seed(SEED)
    for i in range(7):
        a.add_item(i, x[i])
    a.build(3, n_jobs=1)
    a.save(str(path))
    got = clipwb_ids(path, d / "q.npy", 5, "--dim", DIM, "--metric", "euclidean")
    for i in range(QUERIES):
        assert got["ids"][i] == a.get_nns_by_vector(q[i], 5), f"query {i}"


@pytest.mark.parametrize("n_jobs", [2, 4])
def test_threaded_annoy_build_loads_and_matches(data, n_jobs):
    d, x, q = data
    path = d / f"jobs{n_jobs}.ann"
    a = annoy_index("dot", x, path, n_jobs=n_jobs)
    assert_same_neighbours(a, path, d, q, "dot")


def test_shared_children_are_refused_not_searched(tmp_path):
    """A 40-level chain of splits whose two children are the same node: 2^40 paths. clipwb must refuse it
    at open (annoy itself would search forever)."""
    f, K = 1, 3  # angular, dimension 1: 16-byte nodes
    nodes = np.zeros((4 + 1 + 41, 4), np.int32)
    nodes[:4, 0] = 1
    nodes[:4, 3] = np.arange(1, 5, dtype=np.float32).view(np.int32)
    nodes[4, :4] = [3, 0, 1, 2]
    for i in range(5, len(nodes)):
        nodes[i, :3] = [5 if i < len(nodes) - 1 else 4, i - 1, i - 1]
    path = tmp_path / "dag.ann"
    path.write_bytes(nodes.tobytes())
    np.save(tmp_path / "q.npy", np.ones((1, f), np.float32))
    args = ["index", "query", "--index", path, "--dim", f, "--vectors", tmp_path / "q.npy", "--k", 3]
    p = subprocess.run([clipwb_path(), *map(str, args)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "not an Annoy forest" in p.stderr, p.stderr
