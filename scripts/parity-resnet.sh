#!/usr/bin/env bash
# `make parity-resnet` (issue 10): OpenAI's ModifiedResNet CLIPs from OpenAI's and open_clip's own code, random init
# (BatchNorm statistics too), float32: export → `clipwb verify` on the f32 clip-hdf5 file → convert to f16 → verify
# at the f16 tolerance. RN50, RN101, RN50x4 at full depth; RN50x16, RN50x64 with one Bottleneck per stage and one
# text block (every width, head count and resolution kept). One line per model and dtype; JSON reports in $WORK.
# Several GB of temporary files, one model at a time; takes ~15 min on 2 cores with a release binary.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${CLIPWB_BIN:-.build/release/clipwb}
PY=${PY_EXPORT:-.venv-export/bin/python}
WORK=${WORK:-$(mktemp -d)}
IMAGES=${IMAGES:-4}
[ -x "$BIN" ] || { echo "error: $BIN not found; run 'make build-release' or set CLIPWB_BIN" >&2; exit 2; }
[ -x "$PY" ] || { echo "error: $PY not found; run 'make venv-export'" >&2; exit 2; }
head -5 notebooks-export/texts-zoo.txt > "$WORK/texts.txt"
failed=0
run() {  # tag, exporter arguments
  local tag=$1; shift
  if ! "$PY" notebooks-export/export_clip.py "$@" --random-init --seed 11 --out "$WORK/$tag.h5" --reference-out "$WORK/$tag-ref.h5" \
       --images samples/abo --num-images "$IMAGES" --texts "$WORK/texts.txt" --threads 2 > "$WORK/$tag-export.log" 2>&1; then
    echo "$tag: export failed ($WORK/$tag-export.log)"; failed=1; return
  fi
  for dt in f32 f16; do
    local w="$WORK/$tag.h5"
    if [ "$dt" = f16 ]; then "$BIN" convert "$WORK/$tag.h5" "$WORK/$tag-f16.safetensors" --dtype f16 > /dev/null; w="$WORK/$tag-f16.safetensors"; fi
    "$BIN" verify --weights "$w" --reference "$WORK/$tag-ref.h5" --images samples/abo --json > "$WORK/$tag-$dt.json" || failed=1
    "$PY" - "$WORK/$tag-$dt.json" "$tag" "$dt" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
gap = lambda k: f"1 − {1 - r[k]['min_cosine']:.1e}"
print(f"{sys.argv[2]:>16} {sys.argv[3]}: {'PASS' if r['pass'] else 'FAIL'}  tokens {r['tokens']['exact']}/{r['tokens']['total']}  "
      f"pixels {r['pixels']['max_abs_diff']:.1e}  image min cos {gap('image_model_only')}  text min cos {gap('text_model_only')}  "
      f"(≥ {r['image_model_only']['tolerance']})")
PY
  done
  rm -f "$WORK/$tag.h5" "$WORK/$tag-f16.safetensors"
}
# every architecture from OpenAI's code first, then the same five from open_clip's
run openai-RN50 --source openai --arch RN50
run openai-RN101 --source openai --arch RN101
run openai-RN50x4 --source openai --arch RN50x4
run openai-RN50x16-1 --source openai --arch RN50x16 --layers 1
run openai-RN50x64-1 --source openai --arch RN50x64 --layers 1
run open_clip-RN50 --source open_clip --model RN50
run open_clip-RN101-qg --source open_clip --model RN101-quickgelu
run open_clip-RN50x4 --source open_clip --model RN50x4
run open_clip-RN50x16-1 --source open_clip --model RN50x16 --layers 1
run open_clip-RN50x64-1 --source open_clip --model RN50x64 --layers 1
exit $failed
