"""`make bench-scale`: a catalog of N (default 1,000,000) × 512 clustered unit vectors, measured end to end.

Steps (each timed; every figure goes to OUT/results.json and the markdown section DOC):
  1. data: eval/make_clustered.py (seeded anisotropic Gaussian mixture, as `make bench-index`) + synthetic names
     (photos/img-0000000.jpg …: no such files, so the page shows placeholders);
  2. the index alone: `clipwb eval` at the catalog's setting (10 trees, seed 42, 2 build threads, search_k
     1,002 × 10 = what `serve` uses for a k=16 page) → build time, file size, recall@16 against exact (BLAS)
     search, exact search's queries/s;
  3. the catalog: `clipwb ingest --embeddings` (time, peak RSS, file sizes);
  4. `serve`: cold start (exec → "serving" line → first /healthz) and RSS, 3 starts;
  5. text search and similar-image search, p50/p99 at 1 and 16 connections (wrk, DUR seconds each);
  6. recall@16 of `/api/images/{id}/similar` against numpy's exact top 16 (the catalog's own rows as queries);
  7. a live addition (POST /api/images of a sample photo): latency until a search by the same photo returns it,
     then the background rebuild's duration, with text and similar requests timed throughout it.

    python scripts/bench_scale.py --clipwb .build/release/clipwb --weights W [--n 1000000] [--out DIR] [--doc FILE]
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("red blue black white green wooden leather metal small large shoe chair lamp table sofa bottle phone case "
         "bag rug bed desk shelf mug watch jacket pillow mirror vase box").split()


def sh(cmd, **kw):
    print("+", " ".join(map(str, cmd)), file=sys.stderr, flush=True)
    return subprocess.run(list(map(str, cmd)), check=True, **kw)


def timed(cmd, **kw):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS bytes, completed process)."""
    t0 = time.time()
    p = sh(["/usr/bin/time", "-f", "MAXRSS_KB %M", *cmd], capture_output=True, text=True, **kw)
    rss = int(re.search(r"MAXRSS_KB (\d+)", p.stderr).group(1)) * 1024
    return time.time() - t0, rss, p


def status(pid):
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[k] = int(v.split()[0]) * 1024
    return out


def get(url, data=None, headers=None, timeout=60):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


class Server:
    def __init__(self, clipwb, catalog, token, log, search_k=None, map_index=False):
        self.t0 = time.time()
        self.log = open(log, "w")
        extra = ["--search-k", str(search_k)] if search_k else []
        # serve's default reads the index into memory (huge pages where offered; issue 12's SIGBUS guard);
        # --map-index maps it instead (starts without reading it, replicas share the pages).
        extra += ["--map-index"] if map_index else []
        self.proc = subprocess.Popen([clipwb, "serve", "--catalog", catalog, "--port", "0", "--token", token, *extra],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        self.ready = time.time() - self.t0
        m = re.search(r"http://[0-9.]+:\d+", line)
        if not m:
            raise SystemExit(f"serve did not start: {line!r}; see {log}")
        self.url = m.group(0)
        get(self.url + "/healthz")
        self.healthy = time.time() - self.t0

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def wrk(url, lua, connections, seconds):
    p = sh(["wrk", "-t", 1 if connections < 2 else 2, "-c", connections, "-d", f"{seconds}s", "--timeout", "10s",
            "--latency", "-s", lua, url], capture_output=True, text=True)
    m = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", p.stdout)
    n, rps, p50, p99, errors = m.groups()
    return {"connections": connections, "requests": int(n), "rps": float(rps), "p50_ms": float(p50),
            "p99_ms": float(p99), "errors": int(errors)}


def lua_scripts(out, n):
    done = """
done = function(s, latency, r)
  local e = s.errors
  io.write(string.format("RESULT %d %.1f %.2f %.2f %d\\n", s.requests, s.requests / (s.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
"""
    words = ", ".join(f'"{w}"' for w in WORDS)
    text = out / "text.lua"
    text.write_text(f"""local words = {{{words}}}
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 1000)
request = function()
  local q = words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "+" .. words[math.random(#words)]
  return wrk.format("GET", "/api/search?q=" .. q .. "&k=16")
end
""" + done)
    similar = out / "similar.lua"
    similar.write_text(f"""math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 1000)
request = function()
  return wrk.format("GET", "/api/images/" .. math.random(0, {n - 1}) .. "/similar?k=16")
end
""" + done)
    return text, similar


def percentile(xs, q):
    return float(np.percentile(np.asarray(xs) * 1000, q)) if xs else float("nan")


def addition_and_rebuild(srv, token, photo, n_before, clients=4):
    """POSTs one photo; times it until a search by the same photo returns its id, then the rebuild, with
    `clients` threads sending text and similar requests the whole time."""
    stop = threading.Event()
    samples = []  # (start, seconds, ok)
    lock = threading.Lock()

    def client(i):
        rng = random.Random(i)
        while not stop.is_set():
            if i % 2:
                path = f"/api/search?q={'+'.join(rng.choice(WORDS) for _ in range(3))}&k=16"
            else:
                path = f"/api/images/{rng.randrange(n_before)}/similar?k=16"
            t = time.time()
            try:
                ok = get(srv.url + path, timeout=30)[0] == 200
            except Exception:
                ok = False
            with lock:
                samples.append((t, time.time() - t, ok))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(3)
    body = photo.read_bytes()
    t0 = time.time()
    _, r = get(srv.url + "/api/images", data=body,
               headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"})
    post_s = time.time() - t0
    added = json.loads(r)
    new_id = added["id"]
    while True:
        sent = time.time()
        _, r = get(srv.url + "/api/search/image?k=16", data=body, headers={"Content-Type": "image/jpeg"})
        top = json.loads(r)["results"][0]["id"]
        if top == new_id:
            break
    # searchable from: when the first search that found it was sent (the confirming search itself encodes the photo
    # again, so its answer comes one image encoding later).
    searchable_from_s = sent - t0
    searchable_s = time.time() - t0
    rebuild_start = None
    while True:
        st = json.loads(get(srv.url + "/api/stats")[1])
        if st["rebuilding"] and rebuild_start is None:
            rebuild_start = time.time()
        if st["indexed"] == st["count"] and not st["rebuilding"]:
            break
        time.sleep(0.1)
    rebuilt_s = time.time() - t0
    rebuild_end = time.time()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    during = [(d, ok) for (t, d, ok) in samples if t0 <= t <= rebuild_end]
    lat = [d for d, _ in during]
    return {"new_id": new_id, "created": added["created"], "post_seconds": post_s, "searchable_from_seconds": searchable_from_s,
            "searchable_seconds": searchable_s,
            "rebuild_seconds_from_post": rebuilt_s, "clients": clients, "requests_during": len(during),
            "errors_during": sum(1 for _, ok in during if not ok), "p50_ms_during": percentile(lat, 50),
            "p99_ms_during": percentile(lat, 99), "max_ms_during": max(lat) * 1000 if lat else float("nan"),
            "slow_over_250ms": sum(1 for d in lat if d > 0.25), "indexed_after": st["indexed"], "count_after": st["count"]}


def similar_recall(srv, base, ids, k=16):
    """recall@k of the server's similar-image results against exact search over the same rows (self excluded)."""
    hits = 0
    for i in ids:
        got = [h["id"] for h in json.loads(get(f"{srv.url}/api/images/{i}/similar?k={k}")[1])["results"]]
        scores = base @ base[i]
        scores[i] = -np.inf
        truth = np.argpartition(-scores, k)[:k]
        kth = np.sort(scores[truth])[0]
        # ann-benchmarks' tie-tolerant count: a result as close as the k-th true neighbour counts.
        hits += sum(1 for g in got if scores[g] >= kth - 1e-6)
    return hits / (k * len(ids))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clipwb", default=str(ROOT / ".build/release/clipwb"))
    ap.add_argument("--weights")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk phase")
    ap.add_argument("--out", default=str(ROOT / "eval/results/bench-scale"))
    ap.add_argument("--doc", default=str(ROOT / "docs/benchmarks-scale.md"))
    ap.add_argument("--photo", default=str(ROOT / "samples/abo"), help="folder of photos for the live addition")
    ap.add_argument("--skip-eval", action="store_true", help="skip step 2 (the index alone)")
    ap.add_argument("--report", help="only write DOC from this results.json")
    ap.add_argument("--trees", type=int, default=10, help="the catalog's trees")
    ap.add_argument("--search-k", type=int, default=None,
                    help="the catalog's search_k (recorded by ingest; default Annoy's, 1,002 results × trees)")
    ap.add_argument("--map-index", action="store_true", help="serve with --map-index (map the index, do not read it)")
    ap.add_argument("--reuse-eval", action="store_true", help="step 2: read OUT/eval/results.json when it exists instead of running eval again")
    ap.add_argument("--reuse-catalog", action="store_true", help="skip step 3 when OUT/catalog exists (records search_k only)")
    a = ap.parse_args()
    if a.report:
        return report(a.report, a.doc)
    out = Path(a.out)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    res = {"n": a.n, "dim": 512, "weights": a.weights, "cpu": cpu_model(), "cores": os.cpu_count(),
           "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip(),
           "load_at_start": os.getloadavg()[0], "duration": a.duration, "map_index": a.map_index,
           "dirty": bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                        text=True, cwd=ROOT).stdout.strip())}
    prefix = data / f"clustered-{a.n}"
    base_npy, queries_npy = Path(f"{prefix}-base.npy"), Path(f"{prefix}-queries.npy")
    if not base_npy.exists():
        t, rss, _ = timed([sys.executable, ROOT / "eval/make_clustered.py", "--n", a.n, "--queries", 1000, "--dim", 512,
                           "--seed", a.seed, "--out", prefix])
        res["data_seconds"] = t
    names = data / f"clustered-{a.n}-names.txt"
    if not names.exists():
        names.write_text("".join(f"photos/img-{i:07d}.jpg\n" for i in range(a.n)))

    if not a.skip_eval:
        ev = out / "eval"
        t, rss = (None, None) if a.reuse_eval and (ev / "results.json").exists() else timed([a.clipwb, "eval", "--vectors", base_npy, "--queries", queries_npy, "--trees", a.trees,
                           "--search-k", a.search_k or 1002 * a.trees, "--k", 16, "--build-threads", 2, "--threads", 2, "--seed", 42,
                           "--out", ev])[:2]
        r = json.loads((ev / "results.json").read_text())
        run = next(x for x in r["runs"] if x["family"] == "annoy")
        exact = next((x for x in r["runs"] if x["family"] == "exact"), {})
        res["index_alone"] = {"build_seconds_2_threads": run["build_seconds"]["2"],
                              "prepare_seconds": run.get("prepare_seconds", {}).get("2"),
                              "index_bytes": run["index_bytes"], "recall_at_16": run["recall"], "p50_us": run["p50_us"],
                              "p99_us": run["p99_us"], "load_seconds": run["load_seconds"],
                              "exact_qps_batched": r["exact"]["qps"], "exact_seconds_1000_queries": r["exact"]["seconds"],
                              "exact_p50_us": exact.get("p50_us"), "annoy_qps_single": run.get("qps_single"),
                              "eval_seconds": t if t is not None else r.get("seconds"), "eval_peak_rss": rss,
                              "eval_reused": t is None, "eval_load_average": run.get("load_average")}
        print(json.dumps(res["index_alone"], indent=1), flush=True)

    catalog = out / "catalog"
    setting = ["--trees", a.trees, "--search-k", a.search_k or -1]
    if a.reuse_catalog and (catalog / "catalog.sqlite").exists():
        old = json.loads((out / "results.json").read_text())
        res["catalog"] = old["catalog"]
        res["catalog"]["reused"] = True
        sh([a.clipwb, "ingest", "--embeddings", base_npy, "--names", names, "--weights", a.weights,
            "--catalog", catalog, *setting], capture_output=True)
        if "index_alone" in old and a.skip_eval:
            res["index_alone_default"] = old["index_alone"]
    else:
        sh(["rm", "-rf", catalog])
    t, rss, p = (0, 0, None) if res.get("catalog") else timed(
        [a.clipwb, "ingest", "--embeddings", base_npy, "--names", names, "--weights", a.weights,
         "--catalog", catalog, *setting, "--json"])
    res["setting"] = {"trees": a.trees, "search_k": a.search_k or 1002 * a.trees}
    files = {f: os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(catalog) for f in fs}
    if p is not None:
        res["catalog"] = {"seconds": t, "peak_rss": rss, "summary": json.loads(p.stdout),
                          "index_bytes": sum(v for f, v in files.items() if f.endswith(".ann")),
                          "embeddings_bytes": sum(v for f, v in files.items() if f.endswith(".npy")),
                          "sqlite_bytes": files.get("catalog.sqlite", 0), "log": p.stderr[-2000:]}
    print(json.dumps({k: v for k, v in res["catalog"].items() if k != "log"}, indent=1), flush=True)

    token = "bench-scale-token"
    starts = []
    for _ in range(3):
        srv = Server(a.clipwb, catalog, token, out / "serve.log", map_index=a.map_index)
        time.sleep(0.5)
        starts.append({"ready_seconds": srv.ready, "healthz_seconds": srv.healthy, **status(srv.proc.pid)})
        srv.stop()
    res["cold_start"] = starts
    print(json.dumps(starts, indent=1), flush=True)

    srv = Server(a.clipwb, catalog, token, out / "serve.log", map_index=a.map_index)
    try:
        text_lua, similar_lua = lua_scripts(out, a.n)
        get(srv.url + "/api/search?q=warm+up&k=16")
        res["latency"] = {}
        for name, lua in (("text", text_lua), ("similar", similar_lua)):
            for c in (1, 16):
                res["latency"][f"{name}_{c}"] = w = wrk(srv.url, lua, c, a.duration)
                print(name, w, flush=True)
        res["rss_after_load"] = status(srv.proc.pid)
        # The text encoder alone (its own process, the server idle): how much of a text search is the model.
        enc = json.loads(sh([a.clipwb, "serve", "--catalog", catalog, "--measure-encoder", 3],
                            capture_output=True, text=True).stdout)
        res["encoder_alone_ms_batch_1"] = next(e["ms_per_batch"] for e in enc if e["batch_size"] == 1)
        print("encoder alone", res["encoder_alone_ms_batch_1"], "ms", flush=True)
        base = np.load(base_npy, mmap_mode="r")
        base = np.ascontiguousarray(base, dtype=np.float32)
        ids = random.Random(7).sample(range(a.n), 100)
        t0 = time.time()
        res["similar_recall_at_16"] = similar_recall(srv, base, ids)
        res["similar_recall_queries"] = len(ids)
        res["numpy_exact_ms_per_query"] = (time.time() - t0) / len(ids) * 1000
        del base
        print("recall", res["similar_recall_at_16"], flush=True)
        photos = sorted(Path(a.photo).glob("*.jpg"))
        added_before = json.loads(get(srv.url + "/api/stats")[1])["count"] - a.n  # a reused catalog's earlier additions
        res["addition"] = addition_and_rebuild(srv, token, photos[-1 - added_before], a.n)
        print(json.dumps(res["addition"], indent=1), flush=True)
        res["rss_end"] = status(srv.proc.pid)
    finally:
        srv.stop()
    res["load_at_end"] = os.getloadavg()[0]
    (out / "results.json").write_text(json.dumps(res, indent=1))
    print(f"wrote {out / 'results.json'}")


def report(results, doc):
    """The markdown section from results.json: every figure with the command that made it."""
    r = json.loads(Path(results).read_text())
    mb = lambda b: f"{b / 1e6:,.0f} MB"
    gib = lambda b: f"{b / 2**30:.2f} GiB"
    n = r["n"]
    L = [f"## A catalog of {n:,} items (`make bench-scale`)", "",
         f"{n:,} × 512 clustered unit vectors (`eval/make_clustered.py --n {n} --queries 1000 --dim 512 --seed 1`, the "
         "generator of `make bench-index`), synthetic names `photos/img-NNNNNNN.jpg` (no files: the page shows "
         f"placeholders), text side `{r['weights']}` (random-init, full size). Commit `{r['commit']}`"
         + (" plus uncommitted changes" if r.get("dirty") else "") + ", release build, "
         + ("`serve --map-index`, " if r.get("map_index") else "`serve` reading the index into memory (its default), ") + 
         f"`lscpu`: {r['cpu']}, {r['cores']} cores shared with other work (1-minute load average {r['load_at_start']:.1f} "
         f"at the start, {r['load_at_end']:.1f} at the end). Command: `make bench-scale` "
         f"(`scripts/bench-scale.sh` → `scripts/bench_scale.py`; raw figures in `eval/results/bench-scale/results.json`).", ""]
    if "index_alone" in r:
        i = r["index_alone"]
        sk = r.get("setting", {}).get("search_k", 10020)
        L += [f"**The index alone** (`clipwb eval --vectors BASE --queries Q --trees 10 --search-k {sk} --k 16 "
              f"--build-threads 2 --threads 2 --seed 42`: the catalog's setting, search_k {sk:,} = {sk // 1002} × the "
              "1,002 results `serve` asks for; 1,000 queries, 3 runs"
              + (f"; reused from an earlier run at load average {i.get('eval_load_average')}" if i.get("eval_reused") else "")
              + "):", "",
              "| build (2 threads) | item nodes | index file | recall@16 vs exact | Annoy query p50 / p99 | exact search (BLAS, 1,000 queries batched) |",
              "|---:|---:|---:|---:|---:|---:|",
              f"| {i['build_seconds_2_threads']:.1f} s | {i['prepare_seconds'] or 0:.1f} s | {mb(i['index_bytes'])} | "
              f"{i['recall_at_16']:.4f} | {i['p50_us'] / 1000:.2f} / {i['p99_us'] / 1000:.2f} ms | "
              f"{i['exact_seconds_1000_queries']:.1f} s ({i['exact_qps_batched']:.0f} queries/s) |", ""]
    c = r["catalog"]
    L += ["**The catalog** (`clipwb ingest --embeddings BASE.npy --names NAMES --weights W --catalog C`: SQLite rows, "
          "embeddings in 131,072-row files, the index built with 2 threads):", "",
          "| ingest wall time | peak RSS | embeddings | index | catalog.sqlite |", "|---:|---:|---:|---:|---:|",
          f"| {c['seconds']:.1f} s | {gib(c['peak_rss'])} | {mb(c['embeddings_bytes'])} | {mb(c['index_bytes'])} | "
          f"{mb(c['sqlite_bytes'])} |", ""]
    L += ["**`serve` cold start** (exec → the `serving` line; → first `/healthz` answer), page cache warm, three starts; "
          "RSS half a second after ready (file-backed = mapped index and embeddings pages touched so far):", "",
          "| start | ready | /healthz | RSS | of which anonymous | file-backed |", "|---:|---:|---:|---:|---:|---:|"]
    for k, s in enumerate(r["cold_start"], 1):
        L.append(f"| {k} | {s['ready_seconds']:.2f} s | {s['healthz_seconds']:.2f} s | {gib(s['VmRSS'])} | "
                 f"{gib(s['RssAnon'])} | {gib(s['RssFile'])} |")
    L += ["", f"**Search latency** (wrk, loopback, each phase {r.get('duration', 10)} s; text: 3 random words per "
          "request, k=16; similar: a random id's `/api/images/{id}/similar?k=16`):", "",
          "| route | connections | requests/s | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|"]
    for key, w in r["latency"].items():
        route = "text search" if key.startswith("text") else "similar image"
        L.append(f"| {route} | {w['connections']} | {w['rps']:.1f} | {w['p50_ms']:.2f} | {w['p99_ms']:.2f} | {w['errors']} |")
    if "encoder_alone_ms_batch_1" in r:
        L += ["", f"The text encoder alone (`clipwb serve --catalog C --measure-encoder 3`, its own process, the server idle, "
              f"right after these phases): **{r['encoder_alone_ms_batch_1']:.1f} ms** per query at batch 1."]
    a = r["addition"]
    L += ["", f"**Recall of the served results**: `/api/images/{{id}}/similar?k=16` for {r['similar_recall_queries']} "
          f"random ids against numpy's exact top 16 over the same rows (tie-tolerant): recall@16 = "
          f"**{r['similar_recall_at_16']:.4f}**. numpy's exact search over {n:,} rows: "
          f"{r['numpy_exact_ms_per_query']:.0f} ms per query (one query at a time, the request included).", "",
          f"**A live addition and the rebuild** (`POST /api/images` of a sample photo while {a['clients']} clients send "
          "text and similar requests):", "",
          "| POST answered (searchable from then: the row is installed before the answer) | a search by the same photo "
          "(encoding it again) returned its id first, after | rebuild done (indexed = count) | "
          "requests during | errors | p50 / p99 / max ms during | over 250 ms |", "|---:|---:|---:|---:|---:|---:|---:|",
          f"| {a['post_seconds']:.2f} s | {a['searchable_seconds']:.2f} s | {a['rebuild_seconds_from_post']:.1f} s | "
          f"{a['requests_during']} | {a['errors_during']} | {a['p50_ms_during']:.1f} / {a['p99_ms_during']:.1f} / "
          f"{a['max_ms_during']:.1f} | {a['slow_over_250ms']} |", "",
          f"Peak RSS of the serving process (VmHWM, after the rebuild): {gib(r['rss_end']['VmHWM'])}; "
          f"RSS at the end {gib(r['rss_end']['VmRSS'])} ({gib(r['rss_end']['RssAnon'])} anonymous).", ""]
    Path(doc).write_text("\n".join(L))
    print(f"wrote {doc}")


def cpu_model():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "?"


if __name__ == "__main__":
    main()
