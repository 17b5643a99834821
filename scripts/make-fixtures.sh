#!/usr/bin/env bash
# `make fixtures`: regenerates the committed fixtures from one recipe.
#   samples/abo/                       200 images copied from $CLIPWB_SHARED/data/abo-images (kept as committed
#                                      when that folder is absent)
#   weights/tiny/clip-tiny.h5          tiny CLIP, random-init seed 0, float16 (clip-hdf5 v1)
#   weights/tiny/clip-tiny-reference.h5  16 of the samples + notebooks-export/texts.txt (clip-reference v1)
#   Tests/ClipImageTests/Fixtures/format-8x8*  one 8×8 GIF/BMP/TIFF/WebP/PPM each (notebooks-export/format_images.py)
# Bit-identical on re-run with the same packages (requirements.txt) and thread count: HDF5 object
# timestamps are off, paths are relative, and the 'created' attribute is SOURCE_DATE_EPOCH below.
# Bump FIXTURE_DATE when the recipe changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY_EXPORT:-.venv-export/bin/python}
SHARED=${CLIPWB_SHARED:-../shared}
FIXTURE_DATE=2026-11-25T00:00:00Z
export SOURCE_DATE_EPOCH=$(date -u -d "$FIXTURE_DATE" +%s)

if [ ! -x "$PY" ]; then
  echo "error: $PY not found; run 'make venv-export' (or 'make fixtures', which makes it)" >&2; exit 2
fi
if [ -d "$SHARED/data/abo-images" ]; then
  "$PY" notebooks-export/copy_samples.py --from "$SHARED/data/abo-images" --to samples/abo --num-images 200
else
  echo "note: $SHARED/data/abo-images not found; keeping the committed samples/abo" >&2
fi

"$PY" notebooks-export/export_clip.py --random-init --seed 0 --tiny --dtype float16 --threads 1 \
  --out weights/tiny/clip-tiny.h5 --reference-out weights/tiny/clip-tiny-reference.h5 \
  --images samples/abo --num-images 16 --select mixed --texts notebooks-export/texts.txt

"$PY" notebooks-export/tokenizer_fixture.py --tables Sources/ClipTokenizer \
  --fixture Tests/ClipTokenizerTests/Fixtures/tokens.json

"$PY" notebooks-export/format_images.py

du -b weights/tiny/clip-tiny.h5 weights/tiny/clip-tiny-reference.h5
total=$(cat weights/tiny/clip-tiny.h5 weights/tiny/clip-tiny-reference.h5 | wc -c)
if [ "$total" -gt 10000000 ]; then
  echo "error: the tiny fixtures take $total bytes, over the 10 MB budget" >&2; exit 1
fi
sha256sum samples/abo/* weights/tiny/*.h5 | sha256sum | sed 's/ .*//; s/^/fixtures digest: /'
