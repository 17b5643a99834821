"""The recommendation `clipwb eval --target-recall` wrote, against a brute-force pick over the recorded grid.

    python eval/check_recommendation.py RESULTS.json RECOMMENDATION.json...
For each recommendation and k: every setting at k reaching the target, the least by the objective's own figure
(ties to the lower p50), compared with the recommended one. Prints one line per k; exit 1 on any disagreement.
"""
import json
import sys

COSTS = {  # the objective's own figure, ties to the lower p50
    "p50": lambda r: (r["p50_us"],),
    "qps": lambda r: (-r["qps_batched"], r["p50_us"]),
    "memory": lambda r: (r["index_resident_bytes"], r["p50_us"]),
}


def brute_force(runs, k, target, objective):
    reaching = [r for r in runs if r["k"] == k and r["recall"] >= target]
    return min(reaching, key=COSTS[objective]) if reaching else None


def same_setting(pick, run):
    if pick is None or run is None:
        return pick is None and run is None
    keys = {"annoy": ["trees", "search_k"], "hnsw": ["m", "ef_construction", "ef"], "exact": []}[run["family"]]
    want = dict(run, search_k=run.get("effective_search_k"))
    return pick["family"] == run["family"] and all(pick.get(x) == want.get(x) for x in keys) and pick["recall"] == run["recall"]


def describe(r):
    if r is None:
        return "none"
    f = r["family"]
    if f == "annoy":
        return f"annoy trees {r['trees']} search_k {r.get('effective_search_k', r.get('search_k'))}"
    if f == "hnsw":
        return f"hnsw M {r['m']} efc {r['ef_construction']} ef {r['ef']}"
    return "exact"


def main():
    results = json.load(open(sys.argv[1]))
    ok = True
    for path in sys.argv[2:]:
        rec = json.load(open(path))
        for pick in rec["picks"]:
            want = brute_force(results["runs"], pick["k"], rec["target_recall"], rec["optimize"])
            same = same_setting(pick["setting"], want)
            ok &= same
            exact = next(r for r in results["runs"] if r["k"] == pick["k"] and r["family"] == "exact")
            print(f"target {rec['target_recall']} {rec['optimize']} k={pick['k']}: recommended {describe(pick['setting'])}, "
                  f"brute force {describe(want)}: {'same' if same else 'DIFFERENT'}; exact wins: {pick['exact_wins']} "
                  f"(exact p50 {exact['p50_us']:.1f} µs; pick p50 {pick['setting']['p50_us'] if pick['setting'] else float('nan'):.1f} µs)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
