"""Writes the clipwb-vs-annoy comparison table (docs/benchmarks-index.md) from `clipwb eval`'s
results.json and eval/annoy_sweep.py's JSON.

    python eval/compare_index.py --ours results.json --annoy annoy.json --title "..." --out docs/benchmarks-index.md
"""
import argparse
import json
import os


def sk(v):
    return "default" if v == -1 else str(v)


def table(ours, theirs, k):
    mine = {(r["trees"], r["search_k"]): r for r in ours["runs"] if r["k"] == k}
    rows = [
        f"| trees | search_k | recall@{k} clipwb | recall@{k} annoy | Δ | p50 µs clipwb | p50 µs annoy | ratio | "
        "build s clipwb 1 thr | build s clipwb 2 thr | build s annoy 1 thr | build s annoy 2 thr | clipwb 2 thr / annoy 1 thr | "
        "file MB clipwb | file MB annoy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    worst = {"recall": 0.0, "latency": 0.0, "build": 0.0}
    for t in theirs["runs"]:
        m = mine.get((t["trees"], t["search_k"]))
        if m is None:
            continue
        dr = m["recall"] - t["recall"]
        lat = m["p50_us"] / t["p50_us"]
        b1, b2 = m["build_seconds"].get("1", float("nan")), m["build_seconds"].get("2", float("nan"))
        a1, a2 = t["build_seconds"].get("1", float("nan")), t["build_seconds"].get("2", float("nan"))
        worst["recall"] = max(worst["recall"], abs(dr))
        worst["latency"] = max(worst["latency"], lat)
        worst["build"] = max(worst["build"], b2 / a1)
        rows.append(
            f"| {t['trees']} | {sk(t['search_k'])} | {m['recall']:.4f} | {t['recall']:.4f} | {dr:+.4f} | "
            f"{m['p50_us']:.1f} | {t['p50_us']:.1f} | {lat:.2f} | {b1:.2f} | {b2:.2f} | {a1:.2f} | {a2:.2f} | {b2 / a1:.2f} | "
            f"{m['index_bytes'] / 1e6:.1f} | {t['index_bytes'] / 1e6:.1f} |")
    return rows, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--annoy", required=True)
    ap.add_argument("--title", default="Annoy-compatible index: clipwb vs Python annoy 1.17.3")
    ap.add_argument("--note", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--append", action="store_true")
    a = ap.parse_args()
    ours, theirs = json.load(open(a.ours)), json.load(open(a.annoy))
    k = theirs["runs"][0]["k"]
    rows, worst = table(ours, theirs, k)
    c = ours["config"]
    text = [
        f"## {a.title}", "",
        f"{ours['items']} × {ours['dimension']} {c['metric']} vectors, {ours['query_count']} queries, k={k}, seed {c['seed']}; "
        f"clipwb commit `{c['commit']}` ({c['build_configuration']} build), annoy {theirs['version']} from the light venv.",
        "p50: one query at a time on one thread (annoy timed around `get_nns_by_vector` from Python). "
        "recall: ann-benchmarks' tie-tolerant recall against exact BLAS search. Both sides are queried on their 2-thread "
        "build: clipwb's `--threads 2` forest is the one annoy's n_jobs=2 builds (thread t: floor((trees + t) / 2) trees "
        "from seed + t), so recall compares like with like.",
        "",
        *rows, "",
        f"Worst |Δ recall| {worst['recall']:.4f} (goal ≤ 0.01); worst p50 ratio {worst['latency']:.2f} (goal ≤ 1, aim ≤ 0.6); "
        f"worst build ratio clipwb 2 threads / annoy 1 thread {worst['build']:.2f} (goal ≤ 0.6).",
    ]
    prep = [r.get("prepare_seconds", {}).get("2") for r in ours["runs"] if r.get("prepare_seconds")]
    if prep:
        text += ["", f"build s is the tree building that annoy's `build()` times. Making clipwb's item nodes (copy, "
                 f"norms, NaN check: what annoy's `add_item` loop does before `build()`) took "
                 f"{min(prep):.2f}–{max(prep):.2f} s with 2 threads, on top."]
    if a.note:
        text += ["", a.note]
    mode = "a" if a.append and os.path.exists(a.out) else "w"
    with open(a.out, mode) as f:
        if mode == "w":
            f.write("# Index benchmarks (`make bench-index`)\n\n")
        f.write("\n".join(text) + "\n\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
