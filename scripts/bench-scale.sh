#!/usr/bin/env bash
# `make bench-scale`: a catalog of N (default 1,000,000) × 512 clustered unit vectors measured end to end by
# scripts/bench_scale.py → eval/results/bench-scale/results.json and docs/benchmarks-scale.md.
# Env: N, SEARCH_K, BENCH_SCALE_ARGS (more options of bench_scale.py, e.g. --reuse-eval), DUR (seconds per wrk phase, default 10), WEIGHTS (a 512-wide model for the text side: default the
# full-size ViT-B/16 of `make bench-encoders`, else ViT-B/32), CLIPWB_BIN (default the release build).
# Needs ≈ 12 GB of memory at N = 1,000,000 (the vectors, the index build, numpy's exact check) and ≈ 8 GB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=${CLIPWB_BIN:-.build/release/clipwb}
[ -x "$BIN" ] || { echo "error: no $BIN: run make build-release first (or set CLIPWB_BIN)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "error: wrk is missing: apt-get install wrk" >&2; exit 2; }
if [[ -z "${WEIGHTS:-}" ]]; then
  # f16 first: one text query at batch 1 reads every text-tower weight once, so its time is the bytes read
  # (ViT-B/16 text tower, quiet machine: 12.4 ms from the f32 file, 6.7 ms from f16 read directly).
  for WEIGHTS in weights/full/vit-b16-seed0-f16.safetensors weights/full/vit-b16-seed0-f32.safetensors weights/full/vit-b32-seed0-f16.safetensors; do
    [[ -f $WEIGHTS ]] && break
  done
fi
[[ -f $WEIGHTS ]] || { echo "error: no 512-wide weights: run make bench-encoders (ViT-B/16) or make reference-full, or set WEIGHTS" >&2; exit 2; }
# search_k 40,080 (40 × the 1,002 results a page asks for) is the catalog's setting at 1M: Annoy's default (10 × 1,002)
# gives recall@16 0.83 there (docs/benchmarks-scale.md); SEARCH_K= changes it.
"$PY" scripts/bench_scale.py --clipwb "$BIN" --weights "$WEIGHTS" --n "${N:-1000000}" --duration "${DUR:-10}" \
    --search-k "${SEARCH_K:-40080}" --out "${OUT:-eval/results/bench-scale}" ${BENCH_SCALE_ARGS:-}
"$PY" scripts/bench_scale.py --report "${OUT:-eval/results/bench-scale}/results.json" --doc docs/benchmarks-scale.md
