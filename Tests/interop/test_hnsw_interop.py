"""Interop with the real Python `hnswlib` (0.8.0): clipwb loads its files and answers as it does, and the
other way round; the same parameters and seed build the same file.

Identical distances need both sides to run the same distance kernels with the same rounding: the test venv
builds hnswlib with HNSWLIB_NO_NATIVE=1 CFLAGS="-mavx2 -mfma -ffp-contract=off" (Makefile), as CHNSW is
compiled (Package.swift). A wheel built with -march=native on an AVX-512 machine uses other kernels
(docs/index.md).
"""
import json
import pathlib
import subprocess

import hnswlib
import numpy as np
import pytest
from conftest import clipwb_path

N, QUERIES, M, EFC, SEED = 2000, 100, 12, 80, 7


def run(*args, ok=True):
    p = subprocess.run([clipwb_path(), *map(str, args)], capture_output=True, text=True, timeout=600)
    if ok:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture(scope="module", params=[32, 20], ids=["dim32", "dim20"])
def data(request, tmp_path_factory):
    dim = request.param
    d = tmp_path_factory.mktemp(f"hnsw{dim}")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((N, dim)).astype(np.float32)
    q = rng.standard_normal((QUERIES, dim)).astype(np.float32)
    np.save(d / "x.npy", x)
    np.save(d / "q.npy", q)
    return d, x, q, dim


def python_index(space, x, path=None):
    p = hnswlib.Index(space=space, dim=x.shape[1])
    p.init_index(max_elements=len(x), M=M, ef_construction=EFC, random_seed=SEED)
    p.add_items(x, np.arange(len(x)), num_threads=1)
    if path is not None:
        p.save_index(str(path))
    return p


def clipwb_query(index, queries, k, *extra):
    kind = [] if pathlib.Path(str(index) + ".json").exists() else ["--kind", "hnsw"]  # else the sidecar says so
    out = run("index", "query", *kind, "--index", index, "--vectors", queries, "--k", k, "--json", *extra).stdout
    res = json.loads(out)
    return np.array(res["ids"], np.uint64), np.array(res["distances"], np.float32)


def assert_same_answers(p, path, d, q, k, ef, *extra):
    p.set_ef(ef)
    labels, dists = p.knn_query(q, k=k, num_threads=1)
    ids, ours = clipwb_query(path, d / "q.npy", k, "--ef", ef, *extra)
    assert (ids == labels).all(), f"{(ids != labels).any(axis=1).sum()} queries differ"
    assert np.array_equal(ours, dists), f"max distance difference {np.abs(ours - dists).max()}"


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("ef", [10, 50, 200])
def test_hnswlib_built_index_queried_by_clipwb(data, space, ef):
    d, x, q, dim = data
    path = d / f"py-{space}.bin"
    p = python_index(space, x, path)
    assert_same_answers(p, path, d, q, 10, ef, "--dim", dim, "--metric", space)


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_clipwb_built_index_loads_in_hnswlib(data, space):
    d, x, q, dim = data
    path = d / f"clipwb-{space}.bin"
    run("index", "build", "--kind", "hnsw", "--vectors", d / "x.npy", "--metric", space, "--m", M,
        "--ef-construction", EFC, "--seed", SEED, "--out", path)
    side = json.loads(open(str(path) + ".json").read())
    assert (side["dimension"], side["space"], side["m"], side["items"]) == (dim, space, M, N)
    p = hnswlib.Index(space=space, dim=dim)
    p.load_index(str(path))
    assert p.get_current_count() == N and p.M == M and p.ef_construction == EFC
    for ef in [10, 100]:
        assert_same_answers(p, path, d, q, 10, ef)  # the sidecar gives dimension and space


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_same_parameters_build_hnswlibs_file(data, space):
    """One thread, same M, ef_construction, seed and space: the graph, and so the file, is hnswlib's, byte for byte."""
    d, x, _, _ = data
    ours, theirs = d / f"ours-{space}.bin", d / f"theirs-{space}.bin"
    python_index(space, x, theirs)
    run("index", "build", "--kind", "hnsw", "--vectors", d / "x.npy", "--metric", space, "--m", M,
        "--ef-construction", EFC, "--seed", SEED, "--out", ours)
    assert ours.read_bytes() == theirs.read_bytes()


def test_clipwb_metric_names_map_to_hnswlib_spaces(data):
    d, x, q, dim = data
    path = d / "angular.bin"
    run("index", "build", "--kind", "hnsw", "--vectors", d / "x.npy", "--metric", "angular", "--m", M,
        "--ef-construction", EFC, "--seed", SEED, "--out", path)
    assert json.loads(open(str(path) + ".json").read())["space"] == "cosine"


def test_no_sidecar_asks_for_dim_and_metric(data):
    d, x, _, _ = data
    path = d / "nosidecar.bin"
    python_index("l2", x, path)
    p = run("index", "query", "--kind", "hnsw", "--index", path, "--vectors", d / "q.npy", "--k", 3, ok=False)
    assert p.returncode == 2 and "--dim" in p.stderr and "--metric" in p.stderr


def test_damaged_files_are_refused(data, tmp_path):
    d, x, _, dim = data
    path = d / "py-damaged-src.bin"
    python_index("l2", x, path)
    raw = path.read_bytes()
    cases = {
        "truncated": raw[:-7],
        "header only": raw[:96],
        "wrong count": raw[:16] + (10 ** 12).to_bytes(8, "little") + raw[24:],
        "bad neighbour": raw[:96 + 4] + (N + 5).to_bytes(4, "little") + raw[96 + 8:],
    }
    for name, blob in cases.items():
        bad = tmp_path / "bad.bin"
        bad.write_bytes(blob)
        p = run("index", "query", "--kind", "hnsw", "--index", bad, "--dim", dim, "--metric", "l2",
                "--vectors", d / "q.npy", "--k", 3, ok=False)
        assert p.returncode == 2 and "hnswlib index" in p.stderr, f"{name}: {p.stderr}"
    wrong_dim = run("index", "query", "--kind", "hnsw", "--index", path, "--dim", dim + 1, "--metric", "l2",
                    "--vectors", d / "q.npy", "--k", 3, ok=False)
    assert wrong_dim.returncode == 2 and f"holds {dim}-dimensional vectors" in wrong_dim.stderr
