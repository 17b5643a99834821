#!/usr/bin/env bash
# `make parity-zoo` (PyTorch; not part of `make test`): every CLIP family the zoo covers, exported random-init in
# float32 by its own library (open_clip, OpenAI clip, Hugging Face transformers) with a reference over 8 ABO
# photos and notebooks-export/texts-zoo.txt, then `clipwb verify --json` on the clip-hdf5 file, on
# `clipwb convert --dtype f32|f16` output and (open_clip, hf) on the folder the library writes. Writes the zoo
# section of docs/parity.md (scripts/parity_zoo.py). Exit status 0 when every model passes every row.
#
# Variables (quick run: ZOO_OPEN_CLIP="ViT-B-32 ViT-M-16-alt" ZOO_OPENAI=none ZOO_HF=none ZOO_FULL=none):
#   ZOO_LAYERS     depth of the cut models (default 2)
#   ZOO_OPEN_CLIP  'all' (every native open_clip config with CLIP's BPE tokenizer; default), 'none', or names
#   ZOO_OPENAI     OpenAI architectures at ZOO_LAYERS (default ViT-B/32 ViT-B/16 ViT-L/14 ViT-L/14@336px)
#   ZOO_HF         open_clip config names whose sizes make a Hugging Face CLIPConfig (default 4, gelu and quick_gelu)
#   ZOO_FULL       SOURCE:NAME at full depth (default openai ViT-B/16, ViT-L/14, ViT-L/14@336px, open_clip
#                  ViT-B-32, ViT-H-14), or none
#   ZOO_EXTRA      more SOURCE:NAME[@LAYERS|@full] entries
#   ZOO_DTYPES     the clipwb conversions verified (default "f32 f16"; add bf16)
#   ZOO_WORKDIR    where models are written and results.jsonl kept (a re-run resumes; default a fresh temp dir)
#   PARITY_OUT     the page to update (default docs/parity.md; only the zoo section is replaced)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLIPWB_BIN:-.build/release/clipwb}
PY=${PY_EXPORT:-.venv-export/bin/python}
[ -x "$BIN" ] || { echo "error: $BIN not found; run 'make build-release' or set CLIPWB_BIN" >&2; exit 2; }
[ -x "$PY" ] || { echo "error: $PY not found; run 'make venv-export'" >&2; exit 2; }
WORKDIR=${ZOO_WORKDIR:-$(mktemp -d -t parity-zoo.XXXXXX)}
echo "parity-zoo: work folder $WORKDIR (results.jsonl, one log per model)" >&2
cmd="make parity-zoo"
[ -n "${PY_EXPORT:-}" ] && cmd="PY_EXPORT=$PY_EXPORT scripts/parity-zoo.sh (= make parity-zoo)"
for v in ZOO_LAYERS ZOO_OPEN_CLIP ZOO_OPENAI ZOO_HF ZOO_FULL ZOO_EXTRA ZOO_DTYPES; do
  [ -n "${!v:-}" ] && cmd+=" $v='${!v}'"
done
args=(--clipwb "$(realpath "$BIN")" --python "$PY" --workdir "$WORKDIR" --out "${PARITY_OUT:-docs/parity.md}"
      --layers "${ZOO_LAYERS:-2}" --open-clip "${ZOO_OPEN_CLIP:-all}" --extra "${ZOO_EXTRA:-}" --command "$cmd"
      --dtypes "${ZOO_DTYPES:-f32 f16}")
[ -n "${ZOO_OPENAI:-}" ] && args+=(--openai "$ZOO_OPENAI")
[ -n "${ZOO_HF:-}" ] && args+=(--hf "$ZOO_HF")
[ -n "${ZOO_FULL:-}" ] && args+=(--full "$ZOO_FULL")
exec "$PY" scripts/parity_zoo.py "${args[@]}"
