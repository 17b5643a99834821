#!/usr/bin/env bash
# `make bench-tuning`: issue 13's done-when runs. `clipwb eval` over Annoy + HNSW + exact search, --runs 3, with
# --target-recall 0.9, on (1) 100k × 512 clustered unit vectors and (2) the ABO photos embedded with a full-size
# model (WEIGHTS=, default the full-depth ViT-B/16 f32 of the zoo), the 50 texts of notebooks-export/texts.txt as
# queries so the base is all 1,804 photos; each run timed. Then targets 0.95 and 0.99 (and the qps and memory
# objectives) are re-derived from the recorded grid (`eval --from-results`), and every recommendation is checked
# against a brute-force pick over results.json (eval/check_recommendation.py). Outputs in OUT (default
# eval/results/bench-tuning); the figures go into docs/benchmarks-index.md by hand, with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=${CLIPWB_BIN:-.build/release/clipwb}
OUT=${OUT:-eval/results/bench-tuning}
DATA=eval/data
ABO_DIR=${ABO_DIR:-${CLIPWB_SHARED:-../shared}/data/abo-images}
WEIGHTS=${WEIGHTS:-../wt-zoo/weights/full/vit-b16-seed0-f32.safetensors}
SETS=${SETS:-abo clustered-100k}
RUNS=${RUNS:-3}
# A lighter 100k run for a loaded machine: Q100K=eval/data/clustered-100k-queries200.npy (the first 200), RUNS=1.
Q100K=${Q100K:-$DATA/clustered-100k-queries.npy}
K100K=${K100K:-10,100}
T100K=${T100K:-10,50,100}
[ -x "$BIN" ] || { echo "no $BIN: run make build-release first" >&2; exit 2; }
mkdir -p "$DATA" "$OUT"

check() { # name
    local d=$OUT/$1
    for t in 0.95 0.99; do "$BIN" eval --from-results "$d/results.json" --target-recall $t --no-png --out "$d/target-$t" >/dev/null; done
    for o in qps memory; do "$BIN" eval --from-results "$d/results.json" --target-recall 0.95 --optimize $o --no-png --out "$d/opt-$o" >/dev/null; done
    "$PY" eval/check_recommendation.py "$d/results.json" "$d/recommendation.json" "$d"/target-*/recommendation.json "$d"/opt-*/recommendation.json \
        | tee "$d/check.txt"
}

for set in $SETS; do
    echo "== $set: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
    t0=$SECONDS
    case $set in
    clustered-100k)
        [ -f "$DATA/clustered-100k-base.npy" ] || \
            "$PY" eval/make_clustered.py --n 100000 --queries 1000 --dim 512 --seed 1 --out "$DATA/clustered-100k"
        [ -f "$Q100K" ] || "$PY" -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])[:200])" \
            "$DATA/clustered-100k-queries.npy" "$Q100K"
        "$BIN" eval --vectors "$DATA/clustered-100k-base.npy" --queries "$Q100K" \
            --trees "$T100K" --search-k auto,1000,10000 --k "$K100K" \
            --hnsw-m 16 --hnsw-ef-construction 64 --hnsw-ef 10,50,100,200,400 --runs "$RUNS" --target-recall 0.9 \
            --out "$OUT/$set" ;;
    abo)
        "$BIN" eval --images "$ABO_DIR" --weights "$WEIGHTS" --texts notebooks-export/texts.txt \
            --trees 1,5,10,50 --search-k auto,100,500,2000 --k 1,10,100 \
            --hnsw-m 8,16 --hnsw-ef-construction 100 --hnsw-ef 10,50,100,200 --runs "$RUNS" --target-recall 0.9 \
            --out "$OUT/$set" ;;
    esac
    echo "== $set: eval took $((SECONDS - t0)) s (wall), load average now $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/$set/wall.txt"
    check "$set"
done
