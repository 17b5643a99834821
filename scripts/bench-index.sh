#!/usr/bin/env bash
# `make bench-index`: clipwb's Annoy-compatible index against the Python annoy package on the same
# vectors and the same sweep; writes docs/benchmarks-index.md. Takes ~10 minutes on 2 cores.
#   1. the release binary (`make build-release`);
#   2. 100,000 × 512 clustered unit vectors (seeded anisotropic Gaussian mixture) + 1,000 queries;
#   3. `clipwb eval` (ground truth by exact BLAS search), then eval/annoy_sweep.py with that ground truth;
#   4. the comparison table; then the same on ABO image embeddings when they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-eval/results/bench-index}
DATA=eval/data
TREES=${TREES:-1,5,10,50,100}
SEARCH_K=${SEARCH_K:-auto,10000}
SEED=${SEED:-42}
DOC=${DOC:-docs/benchmarks-index.md}

# CLIPWB_BIN=path skips the build (e.g. a binary built elsewhere from the same sources).
BIN=${CLIPWB_BIN:-.build/release/clipwb}
[ -x "$BIN" ] || { echo "no $BIN: run make build-release first" >&2; exit 2; }
mkdir -p "$DATA" "$OUT"
NOTE="Load during the run (1-minute load average at start): $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores."

run_pair() { # name base queries title
    local name=$1 base=$2 queries=$3 title=$4 append=${5:-}
    local t0=$SECONDS
    "$BIN" eval --vectors "$base" --queries "$queries" --trees "$TREES" --search-k "$SEARCH_K" --k 10 \
        --build-threads 1,2 --threads 2 --seed "$SEED" --out "$OUT/$name/clipwb"
    local eval_s=$((SECONDS - t0))
    "$PY" eval/annoy_sweep.py --vectors "$base" --queries "$queries" --ground-truth "$OUT/$name/clipwb/ground_truth.npy" \
        --trees "$TREES" --search-k "$SEARCH_K" --k 10 --seed "$SEED" --out "$OUT/$name/annoy.json"
    "$PY" eval/compare_index.py --ours "$OUT/$name/clipwb/results.json" --annoy "$OUT/$name/annoy.json" \
        --title "$title" --note "$NOTE clipwb eval took ${eval_s} s for all four outputs." --out "$DOC" $append
}

[ -f "$DATA/clustered-100k-base.npy" ] || \
    "$PY" eval/make_clustered.py --n 100000 --queries 1000 --dim 512 --seed 1 --out "$DATA/clustered-100k"
run_pair clustered-100k "$DATA/clustered-100k-base.npy" "$DATA/clustered-100k-queries.npy" \
    "100k × 512 clustered unit vectors (anisotropic Gaussian mixture, seed 1)"

# ABO image embeddings (ABO_EMBEDDINGS=path.npy to bring your own): `clipwb embed` over all of
# ../shared/data/abo-images with the full-size model when `make reference-full` made it, else the tiny one.
ABO=${ABO_EMBEDDINGS:-$DATA/abo-embeddings.npy}
ABO_DIR="${CLIPWB_SHARED:-../shared}/data/abo-images"
if [ ! -f "$ABO" ] && [ -d "$ABO_DIR" ]; then
    W=weights/full/vit-b32-seed0-f16.safetensors
    [ -f "$W" ] || W=weights/tiny/clip-tiny.h5
    "$BIN" embed --weights "$W" --images "$ABO_DIR" --out "$ABO"
    ABO_MODEL="embedded with $W"
fi
if [ -f "$ABO" ]; then
    "$PY" - "$ABO" "$DATA/abo" <<'PYEOF'
import sys, numpy as np
x = np.load(sys.argv[1]).astype(np.float32)
rng = np.random.default_rng(0)
idx = rng.permutation(len(x))
nq = min(200, len(x) // 10)
np.save(sys.argv[2] + "-queries.npy", x[idx[:nq]]); np.save(sys.argv[2] + "-base.npy", x[idx[nq:]])
PYEOF
    TREES=${ABO_TREES:-1,5,10,50} run_pair abo "$DATA/abo-base.npy" "$DATA/abo-queries.npy" \
        "ABO image embeddings (../shared/data/abo-images, ${ABO_MODEL:-$ABO}), held-out images as queries" --append
else
    printf '## ABO image embeddings\n\nNot run: %s does not exist yet (it needs the image encoder: `clipwb embed` over ../shared/data/abo-images).\n' "$ABO" >> "$DOC"
fi
echo "wrote $DOC"
