#!/usr/bin/env bash
# `make bench-encoders`: our encoders against PyTorch's, same machine, same run, interleaved (see
# notebooks-export/bench_torch.py). Needs `make reference-full` (the float32 ViT-B/32) and the exporter venv.
# Writes docs/benchmarks-encoders.md (the lead merges it into docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLIPWB_BIN:-.build/release/clipwb}
PY=${PY_EXPORT:-.venv-export/bin/python}
SHARED=${CLIPWB_SHARED:-../shared}
W=weights/full/vit-b32-seed0.h5
ST=weights/full/vit-b32-seed0-f32.safetensors
OUT=${BENCH_OUT:-docs/benchmarks-encoders.md}

[ -x "$BIN" ] || { echo "error: $BIN not found; run 'make build-release' or set CLIPWB_BIN" >&2; exit 2; }
[ -x "$PY" ] || { echo "error: $PY not found; run 'make venv-export'" >&2; exit 2; }
[ -f "$W" ] || { echo "bench-encoders: $W missing; running scripts/reference-full.sh" >&2; scripts/reference-full.sh; }
[ -f "$ST" ] || "$BIN" convert "$W" "$ST" --dtype f32 >&2
mkdir -p "$(dirname "$OUT")"
"$PY" notebooks-export/bench_torch.py drive --clipwb "$BIN" --weights "$W" --ours-weights "$ST" \
  --images "$SHARED/data/abo-images" --rounds "${ROUNDS:-5}" --reps "${REPS:-3}" --workdir "$(mktemp -d)" --out "$OUT"
