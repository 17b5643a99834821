"""The Python `annoy` side of `make bench-index`: the same sweep as `clipwb eval`, timed the way a
user calls annoy (one get_nns_by_vector per query, from Python).

    python eval/annoy_sweep.py --vectors base.npy --queries q.npy --ground-truth gt.npy \\
        --trees 1,5,10,50,100 --search-k auto,10000 --k 10 --seed 42 --out annoy.json

Recall uses ann-benchmarks' tie-tolerant definition with the metric's true distance, as clipwb does.
"""
import argparse
import json
import os
import tempfile
import time

import annoy
import numpy as np


def true_distances(metric, x, q, ids):
    v = x[ids].astype(np.float64)
    qq = q.astype(np.float64)
    if metric == "angular":
        return 1 - (v @ qq) / (np.linalg.norm(v, axis=1) * np.linalg.norm(qq) + 1e-300)
    if metric == "euclidean":
        return np.linalg.norm(v - qq, axis=1)
    return -(v @ qq)


def recall(metric, x, q, gt, results, k, eps=1e-3):
    hits = []
    for i, res in enumerate(results):
        threshold = true_distances(metric, x, q[i], gt[i, k - 1:k])[0] + eps
        d = true_distances(metric, x, q[i], np.asarray(res[:k], dtype=np.int64)) if res else np.array([])
        hits.append((d <= threshold).sum() / k)
    return float(np.mean(hits))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--ground-truth", required=True)
    ap.add_argument("--metric", default="angular")
    ap.add_argument("--trees", default="1,5,10,50,100")
    ap.add_argument("--search-k", default="auto,10000")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--build-jobs", default="1,2", help="n_jobs values to time; the index queried is the last one's (clipwb's eval queries its last build-threads too)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    x = np.load(a.vectors)
    q = np.load(a.queries)
    gt = np.load(a.ground_truth)
    f = x.shape[1]
    runs = []
    tmp = tempfile.mkdtemp(prefix="annoy-sweep-")
    path = os.path.join(tmp, "index.ann")
    for trees in [int(t) for t in a.trees.split(",")]:
        build = {}
        for jobs in [int(j) for j in a.build_jobs.split(",")]:  # the last one built is queried
            idx = annoy.AnnoyIndex(f, a.metric)
            idx.set_seed(a.seed)
            for i, v in enumerate(x):
                idx.add_item(i, v)
            t0 = time.perf_counter()
            idx.build(trees, n_jobs=jobs)
            build[str(jobs)] = time.perf_counter() - t0
            idx.save(path)
            idx.unload()
        idx = annoy.AnnoyIndex(f, a.metric)
        t0 = time.perf_counter()
        idx.load(path)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        idx.get_nns_by_vector(q[0], a.k)
        cold = (time.perf_counter() - t0) * 1e6
        for sk in a.search_k.split(","):
            skv = -1 if sk == "auto" else int(sk)
            times, results = [], []
            for v in q:
                t0 = time.perf_counter()
                r = idx.get_nns_by_vector(v, a.k, search_k=skv)
                times.append((time.perf_counter() - t0) * 1e6)
                results.append(r)
            times = np.array(times)
            runs.append({
                "trees": trees, "k": a.k, "search_k": skv, "recall": recall(a.metric, x, q, gt, results, a.k),
                "p50_us": float(np.percentile(times, 50, method="inverted_cdf")),
                "p99_us": float(np.percentile(times, 99, method="inverted_cdf")),
                "qps_single": len(q) / times.sum() * 1e6, "build_seconds": build,
                "index_bytes": os.path.getsize(path), "load_seconds": load, "cold_first_query_us": cold,
            })
            print(f"annoy trees={trees} search_k={sk}: recall {runs[-1]['recall']:.4f} p50 {runs[-1]['p50_us']:.1f} µs "
                  f"build {build}", flush=True)
        idx.unload()
    os.remove(path)
    json.dump({"annoy": annoy.__name__, "version": "1.17.3", "metric": a.metric, "seed": a.seed,
               "items": int(x.shape[0]), "dimension": f, "queries": int(q.shape[0]), "runs": runs},
              open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
