#!/usr/bin/env bash
# `make reference-full`: the full-size ViT-B/32 pair for parity runs and benchmarks (git-ignored, weights/full/):
#   vit-b32-seed0.h5            random-init seed 0, float32 (clip-hdf5 v1, ~600 MB)
#   vit-b32-seed0-reference.h5  64 images of $CLIPWB_SHARED/data/abo-images (--select mixed: 16 grayscale)
#                               + notebooks-export/texts.txt (clip-reference v1)
# Random init, so no download: the numbers test the port, not OpenAI's checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY_EXPORT:-.venv-export/bin/python}
SHARED=${CLIPWB_SHARED:-../shared}
OUT=weights/full
IMAGES="$SHARED/data/abo-images"

if [ ! -x "$PY" ]; then
  echo "error: $PY not found; run 'make venv-export' (or 'make reference-full', which makes it)" >&2; exit 2
fi
if [ ! -d "$IMAGES" ]; then
  echo "error: $IMAGES not found; set CLIPWB_SHARED to the folder holding data/abo-images" >&2; exit 2
fi
mkdir -p "$OUT"
start=$(date +%s)
"$PY" notebooks-export/export_clip.py --random-init --seed 0 --arch ViT-B/32 --dtype float32 \
  --out "$OUT/vit-b32-seed0.h5" --reference-out "$OUT/vit-b32-seed0-reference.h5" \
  --images "$IMAGES" --num-images 64 --select mixed --texts notebooks-export/texts.txt
echo "reference-full: $(( $(date +%s) - start )) s" >&2
ls -l "$OUT"/vit-b32-seed0*.h5
