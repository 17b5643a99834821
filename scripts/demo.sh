#!/usr/bin/env bash
# make demo: the whole tour on a fresh machine — convert, inspect, verify, ingest, evaluate, serve.
#   WEIGHTS=path.h5|.safetensors  use these weights instead of the committed tiny model
#   REFERENCE=path.h5             a clip-reference file to verify WEIGHTS against
#   FULL=1                        export a full-size random-init ViT-B/32 first (needs PyTorch: large download)
#   PORT=8080 HOST=127.0.0.1      where the server listens; SERVE=0 stops before serving
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLIPWB_BIN:-.build/release/clipwb}
OUT=${DEMO_DIR:-demo-catalog}
PORT=${PORT:-8080}
HOST=${HOST:-127.0.0.1}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "${FULL:-0}" = "1" ] && [ -z "${WEIGHTS:-}" ]; then
  step "Exporting a full-size ViT-B/32 (random init) with PyTorch"
  make reference-full
  WEIGHTS=weights/full/vit-b32-seed0.h5
  REFERENCE=weights/full/vit-b32-seed0-reference.h5
fi
if [ -z "${WEIGHTS:-}" ]; then
  WEIGHTS=weights/tiny/clip-tiny.h5
  REFERENCE=weights/tiny/clip-tiny-reference.h5
fi
REFERENCE=${REFERENCE:-}
mkdir -p "$OUT"

step "Machine"
"$BIN" doctor

case "$WEIGHTS" in
  *.safetensors) MODEL=$WEIGHTS ;;
  *)
    step "Converting $WEIGHTS"
    MODEL="$OUT/model.safetensors"
    "$BIN" convert "$WEIGHTS" "$MODEL" --dtype f32
    ;;
esac

step "Inspecting $MODEL"
"$BIN" inspect "$MODEL" > "$OUT/inspect.txt"   # (not piped into head: pipefail would see inspect's SIGPIPE)
head -n 12 "$OUT/inspect.txt"
echo "… the whole tensor table: $OUT/inspect.txt"

if [ -n "$REFERENCE" ]; then
  step "Verifying against the PyTorch reference $REFERENCE"
  "$BIN" verify --weights "$MODEL" --reference "$REFERENCE" --images samples/abo
fi

step "Ingesting samples/abo into $OUT"
"$BIN" ingest samples/abo --weights "$MODEL" --catalog "$OUT"

step "Evaluating Annoy, HNSW and exact search: text queries (notebooks-export/texts.txt) against the photos"
"$BIN" eval --images samples/abo --weights "$MODEL" --texts notebooks-export/texts.txt --trees 1,2,5,10,25 \
  --hnsw-m 8,16 --hnsw-ef 10,50,100 --k 1,10 --target-recall 0.95 --out "$OUT-eval"
echo
sed -n '/^## Annoy/,/^$/p;/^| trees/,/^$/p' "$OUT-eval/report.md"
echo "(report, CSV, JSON, plots and recommendation.json in $OUT-eval/; recall is against exact search, so it means something even with random weights)"

step "Applying the recommendation to the catalog (ingest --index-config)"
"$BIN" ingest samples/abo --weights "$MODEL" --catalog "$OUT" --index-config "$OUT-eval/recommendation.json"

if [ "${SERVE:-1}" = "0" ]; then exit 0; fi
step "Serving: open http://$HOST:$PORT/ (Ctrl-C stops)"
echo "Random weights give meaningless rankings: see README for real OpenAI weights."
exec "$BIN" serve --catalog "$OUT" --host "$HOST" --port "$PORT"
