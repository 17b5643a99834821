"""clipwb's HNSW (CHNSW over hnswlib 0.6.2) against Python hnswlib at equal parameters, interleaved.

Each round runs `clipwb eval --trees none --hnsw-m M --hnsw-ef-construction EFC --hnsw-ef EFS` (build on one
thread, each query alone on one thread) and then Python hnswlib on the same files with the same M,
ef_construction, seed and space (add_items num_threads=1; knn_query of one row, num_threads=1, timed per call).
Recall is ann-benchmarks' tie-tolerant recall@k against the eval's ground truth for both.

    python eval/hnsw_vs_hnswlib.py --clipwb .build/release/clipwb --base B.npy --queries Q.npy --rounds 2
"""
import argparse
import json
import subprocess
import tempfile
import time

import hnswlib
import numpy as np


def recall(x, q, gt, ids, k, metric):
    def dist(a, b):
        if metric == "angular":
            return 1 - (b @ a) / (np.linalg.norm(b, axis=1) * np.linalg.norm(a))
        return np.linalg.norm(b - a, axis=1) if metric == "euclidean" else -(b @ a)
    out = []
    for i in range(len(q)):
        a = q[i].astype(np.float64)
        thr = dist(a, x[gt[i, k - 1:k]].astype(np.float64))[0] + 1e-3
        out.append(np.sum(dist(a, x[ids[i, :k]].astype(np.float64)) <= thr) / k)
    return float(np.mean(out))


def python_run(x, q, gt, args, ef, index):
    index.set_ef(ef)
    times, ids = [], np.empty((len(q), args.k), np.int64)
    for i in range(len(q)):
        t0 = time.perf_counter()
        lab, _ = index.knn_query(q[i:i + 1], k=args.k, num_threads=1)
        times.append((time.perf_counter() - t0) * 1e6)
        ids[i] = lab[0]
    return recall(x, q, gt, ids, args.k, args.metric), float(np.percentile(times, 50, method="inverted_cdf"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clipwb", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--metric", default="angular")
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--efs", default="10,50,100")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    space = {"angular": "cosine", "euclidean": "l2", "dot": "ip"}[args.metric]
    x, q = np.load(args.base), np.load(args.queries)
    efs = [int(e) for e in args.efs.split(",")]
    rows = []
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([args.clipwb, "eval", "--vectors", args.base, "--queries", args.queries, "--metric", args.metric,
                            "--trees", "none", "--k", str(args.k), "--hnsw-m", str(args.m), "--hnsw-ef-construction",
                            str(args.ef_construction), "--hnsw-ef", args.efs, "--hnsw-seed", str(args.seed),
                            "--out", out], check=True, capture_output=True)
            res = json.load(open(out + "/results.json"))
            gt = np.load(out + "/ground_truth.npy")
        for run in res["runs"]:
            rows.append(("clipwb", r, run["ef"], run["recall"], run["p50_us"], run["build_seconds"]["1"]))
        t0 = time.perf_counter()
        p = hnswlib.Index(space=space, dim=x.shape[1])
        p.init_index(max_elements=len(x), M=args.m, ef_construction=args.ef_construction, random_seed=args.seed)
        p.add_items(x, np.arange(len(x)), num_threads=1)
        build = time.perf_counter() - t0
        for ef in efs:
            rec, p50 = python_run(x, q, gt, args, ef, p)
            rows.append(("python hnswlib", r, ef, rec, p50, build))
    print(f"| implementation | round | ef | recall@{args.k} | p50 µs | build s (1 thread) |")
    print("|---|---:|---:|---:|---:|---:|")
    for impl, r, ef, rec, p50, build in rows:
        print(f"| {impl} | {r + 1} | {ef} | {rec:.4f} | {p50:.1f} | {build:.2f} |")


if __name__ == "__main__":
    main()
