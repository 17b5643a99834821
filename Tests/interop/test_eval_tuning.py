"""Index tuning end to end (issue 13): `clipwb eval` over Annoy, HNSW and exact search on a small synthetic set;
its recommendation against a brute-force pick written here over the recorded grid (results.json), with a negative
control (an edited grid must change the pick); the plot in headless Chromium (labelled points, frontiers, a spread
recall axis; a copy without frontiers must fail the pixel check); `ingest --index-config` then `serve` showing the
setting in /api/stats, and re-ingesting with another recommendation changing the index."""
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES, TINY, clipwb_path, sample_images, served
from test_browser import ARTIFACTS, CHROMIUM, Browser

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval"))
from check_recommendation import brute_force, same_setting  # noqa: E402  (the brute force `make bench-tuning` uses too)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((12, 16)).astype(np.float32)
    def draw(n):
        x = centres[rng.integers(0, 12, n)] + 0.35 * rng.standard_normal((n, 16)).astype(np.float32)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    np.save(d / "base.npy", draw(1500))
    np.save(d / "q.npy", draw(50))
    out = d / "out"
    r = subprocess.run([clipwb_path(), "eval", "--vectors", str(d / "base.npy"), "--queries", str(d / "q.npy"),
                        "--trees", "1,4", "--search-k", "auto,60,300", "--k", "1,10", "--hnsw-m", "4,8",
                        "--hnsw-ef-construction", "40", "--hnsw-ef", "10,40", "--runs", "1", "--target-recall", "0.9",
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return {"out": out, "stdout": r.stdout, "results": json.loads((out / "results.json").read_text())}


def test_recommendation_is_the_brute_force_pick(sweep):
    out, runs = sweep["out"], sweep["results"]["runs"]
    assert {r["family"] for r in runs} == {"annoy", "hnsw", "exact"}
    rec = json.loads((out / "recommendation.json").read_text())
    assert rec["target_recall"] == 0.9 and rec["optimize"] == "p50" and rec["default_k"] == 10
    for pick in rec["picks"]:
        assert same_setting(pick["setting"], brute_force(runs, pick["k"], 0.9, "p50")), pick
    assert "Recommendation: recall ≥ 0.9" in sweep["stdout"] and "k=10:" in sweep["stdout"]
    # Other targets and objectives from the same recorded grid (no new sweep).
    for target, objective in [(0.5, "qps"), (0.95, "memory"), (0.99, "p50"), (1.0, "qps")]:
        r = subprocess.run([clipwb_path(), "eval", "--from-results", str(out / "results.json"), "--target-recall", str(target),
                            "--optimize", objective, "--no-png", "--json", "--out", str(out / f"re-{objective}")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        for pick in json.loads(r.stdout)["picks"]:
            assert same_setting(pick["setting"], brute_force(runs, pick["k"], target, objective)), (target, objective, pick)
            if pick["exact_wins"]:
                assert "exact search wins at this size" in pick["message"]


def test_negative_control_an_edited_grid_changes_the_pick(sweep):
    out, runs = sweep["out"], sweep["results"]["runs"]
    rec = json.loads((out / "recommendation.json").read_text())
    pick = rec["picks"][1]["setting"]
    edited = json.loads(json.dumps(sweep["results"]))
    # Any other setting at k=10, made cheaper than the pick and above the target (timing-independent).
    victim = next(r for r in edited["runs"] if r["k"] == 10 and not same_setting(pick, r))
    victim["recall"], victim["p50_us"] = 0.999, pick["p50_us"] / 2
    assert not same_setting(pick, brute_force(edited["runs"], 10, 0.9, "p50"))  # the check can fail
    (out / "edited.json").write_text(json.dumps(edited))
    r = subprocess.run([clipwb_path(), "eval", "--from-results", str(out / "edited.json"), "--target-recall", "0.9",
                        "--no-png", "--json", "--out", str(out / "edited")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert same_setting(json.loads(r.stdout)["picks"][1]["setting"], brute_force(edited["runs"], 10, 0.9, "p50"))


FRONTIER_BLUE = np.array([64, 133, 191])  # #1f6fb4 at 0.85 opacity over white


def frontier_pixels(png):
    px = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return int((np.abs(px - FRONTIER_BLUE).max(axis=2) <= 10).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is needed")
def test_plot_in_chromium(sweep, tmp_path):
    out = sweep["out"]
    for name in ["plot.svg", "plot-k1.svg", "plot-k10-build.svg", "plot-k10-size.svg", "plot.png", "plot-k10-size.png"]:
        assert (out / name).exists(), name
    assert Image.open(out / "plot.png").size == (1000, 640)  # the PNG rsvg-convert (or Chromium) rendered
    assert "plot-kK.svg" in sweep["stdout"] and "k=1, k=10" in sweep["stdout"]
    ARTIFACTS.mkdir(exist_ok=True)
    b = Browser(tmp_path / "profile")
    try:
        b.goto((out / "plot.svg").as_uri())
        dom = b.js("""({
            points: document.querySelectorAll('g.point').length,
            labels: [...document.querySelectorAll('text.label')].map(t => t.textContent),
            frontiers: [...document.querySelectorAll('polyline.frontier')].map(p => p.dataset.family),
            xticks: [...document.querySelectorAll('text.xtick')].map(t => t.textContent),
            title: document.getElementById('title').textContent,
            subtitle: document.getElementById('subtitle').textContent,
        })""")
        at10 = [r for r in sweep["results"]["runs"] if r["k"] == 10]
        assert dom["points"] == len(at10) + 1  # every setting, plus exact search batched
        assert len(dom["labels"]) == len(at10) + 1
        assert "4t sk300" in dom["labels"] and "M8 efc40 ef40" in dom["labels"] and "exact" in dom["labels"]
        assert sorted(dom["frontiers"]) == ["annoy", "exact", "hnsw"]
        assert {"0.9", "0.99", "0.999"} <= set(dom["xticks"])
        assert dom["title"].startswith("Recall@10 vs queries/s")
        assert "1 thread" in dom["subtitle"] and "batched on 2 threads" in dom["subtitle"]
        b.screenshot(ARTIFACTS / "eval-plot.png", 1000, 640)
        seen = frontier_pixels(ARTIFACTS / "eval-plot.png")
        assert seen > 150, seen
        # Negative control: the same plot without its frontiers must fail the pixel check.
        bare = re.sub(r'<polyline class="frontier"[^>]*/>\n', "", (out / "plot.svg").read_text())
        (tmp_path / "bare.svg").write_text(bare)
        b.goto((tmp_path / "bare.svg").as_uri())
        b.screenshot(tmp_path / "bare.png", 1000, 640)
        assert frontier_pixels(tmp_path / "bare.png") < seen / 10
    finally:
        b.close()


def serve_stats(catalog):
    with served(catalog) as (url, _):
        with urllib.request.urlopen(url + "api/stats", timeout=30) as r:
            return json.loads(r.read())["index"]


def test_index_config_then_serve(sweep, tmp_path):
    rec = json.loads((sweep["out"] / "recommendation.json").read_text())
    imgs = sample_images(tmp_path / "imgs", 6)
    cat = tmp_path / "cat"
    base = [clipwb_path(), "ingest", str(imgs), "--weights", str(TINY), "--catalog", str(cat)]
    variants = {}
    for family, setting in [("annoy", {"family": "annoy", "trees": 3, "search_k": 40, "search_k_setting": "40", "seed": 7}),
                            ("hnsw", {"family": "hnsw", "m": 6, "ef_construction": 30, "ef": 25, "seed": 100}),
                            ("exact", {"family": "exact"})]:
        edited = json.loads(json.dumps(rec))
        cleared = {x: None for x in ["trees", "search_k", "search_k_setting", "m", "ef_construction", "ef", "seed"]}
        edited["picks"][1]["setting"] = {**edited["picks"][1]["setting"], **cleared, **setting}
        variants[family] = tmp_path / f"rec-{family}.json"
        variants[family].write_text(json.dumps(edited))
    first = subprocess.run(base + ["--index-config", str(sweep["out"] / "recommendation.json")], capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "index from" in first.stderr and "(k=10, target recall 0.9, optimize p50)" in first.stderr
    stats = serve_stats(cat)
    assert stats["kind"] == rec["picks"][1]["setting"]["family"] and stats["origin"].startswith("recommendation.json k=10")
    generation = stats["generation"]
    for family, expect in [("annoy", {"trees": 3, "seed": 7, "search_k": 40}), ("hnsw", {"m": 6, "ef_construction": 30, "ef": 25}),
                           ("exact", {})]:
        r = subprocess.run(base + ["--index-config", str(variants[family])], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        stats = serve_stats(cat)
        assert stats["kind"] == family and all(stats[k] == v for k, v in expect.items()), stats
        if family != rec["picks"][1]["setting"]["family"] or family == "annoy":
            assert stats["generation"] > generation and "rebuilding the index" in r.stderr  # another setting: a new index
        generation = stats["generation"]
    assert stats["file"] == "exact" and "trees" not in stats
    # Unreached targets and a wrong k are refused with what to do.
    none = json.loads(json.dumps(rec))
    none["picks"][1]["setting"] = None
    (tmp_path / "none.json").write_text(json.dumps(none))
    bad = subprocess.run(base + ["--index-config", str(tmp_path / "none.json")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "nothing to apply" in bad.stderr
    bad = subprocess.run(base + ["--index-config", str(variants["exact"]), "--index-config-k", "5"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no recommendation for k=5" in bad.stderr
    bad = subprocess.run(base + ["--index-config", str(variants["exact"]), "--trees", "3"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "leave out --trees" in bad.stderr


def test_eval_on_a_folder_of_images(tmp_path):
    """`eval --images` embeds the folder once through the same pipeline as `clipwb embed` (bit-equal rows), caches it
    by weights sha and file list, and queries with held-out images or with texts."""
    imgs = sample_images(tmp_path / "imgs", 10)
    out = tmp_path / "out"
    cmd = [clipwb_path(), "eval", "--images", str(imgs), "--weights", str(TINY), "--trees", "2", "--k", "1,5", "--runs", "1",
           "--no-png", "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "embedded 10 images" in first.stderr and "queries: 1 held-out images" in first.stderr
    cache = list(out.glob("embeddings-*.npy"))
    assert len(cache) == 1
    ref = tmp_path / "ref.npy"
    subprocess.run([clipwb_path(), "embed", "--weights", str(TINY), "--images", str(imgs), "--normalize", "--out", str(ref)],
                   check=True, capture_output=True, timeout=300)
    assert np.array_equal(np.load(cache[0]), np.load(ref))  # one embedding pipeline
    base, queries = np.load(out / "base.npy"), np.load(out / "queries.npy")
    assert base.shape == (9, np.load(ref).shape[1]) and queries.shape[0] == 1
    assert sorted(map(bytes, np.vstack([base, queries]))) == sorted(map(bytes, np.load(ref)))  # a split, nothing lost
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "reused the cached embeddings" in again.stderr
    (tmp_path / "texts.txt").write_text("a red shoe\na wooden chair\na lamp\n")
    texts = subprocess.run(cmd + ["--texts", str(tmp_path / "texts.txt")], capture_output=True, text=True, timeout=300)
    assert texts.returncode == 0 and "reused the cached embeddings" in texts.stderr and "queries: 3 texts" in texts.stderr
    assert np.load(out / "queries.npy").shape[0] == 3 and np.load(out / "base.npy").shape[0] == 10
    (imgs / "extra.jpg").write_bytes(sorted(SAMPLES.glob("*.jpg"))[30].read_bytes())
    changed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert "embedded 11 images" in changed.stderr  # another file list: another cache key
    bad = subprocess.run([clipwb_path(), "eval", "--images", str(imgs), "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "--images needs --weights" in bad.stderr
