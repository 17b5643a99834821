#!/usr/bin/env bash
# `make bench-encoders`: our encoders against PyTorch's, same machine, same run, interleaved (see
# notebooks-export/bench_torch.py). Needs `make reference-full` (the float32 ViT-B/32) and the exporter venv.
# Writes docs/benchmarks-encoders.md (ViT-B/32: images and texts) and docs/benchmarks-encoders-zoo.md (full-depth
# ViT-B/16, ViT-L/14 and open_clip ViT-H-14: image encoding and peak RSS, ours f32 and f16 against the model's
# own library) and docs/benchmarks-encoders-resnet.md (OpenAI's RN50 and RN50x4 the same way, with GFLOP/s as a
# fraction of the sgemm peak measured before every round); scripts/merge_benchmarks.py puts them into
# docs/benchmarks.md.
#
# Variables: ROUNDS, REPS (ViT-B/32 part; 5 and 3); BENCH_B32=0 skips it. BENCH_MODELS (default
# "h14 l14 b16 rn50 rn50x4",
# "none" skips), MODEL_ROUNDS, MODEL_REPS (3 and 2); BENCH_RESUME_LOG=LOG counts the complete rounds that an
# interrupted run with MODEL_REPS=1 logged (its stderr). The bigger models are exported once (random init seed 0, no
# reference) into weights/full/ and converted; ViT-H-14 takes ~10 GB of disk for its three files.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLIPWB_BIN:-.build/release/clipwb}
PY=${PY_EXPORT:-.venv-export/bin/python}
SHARED=${CLIPWB_SHARED:-../shared}
W=weights/full/vit-b32-seed0.h5
ST=weights/full/vit-b32-seed0-f32.safetensors
OUT=${BENCH_OUT:-docs/benchmarks-encoders.md}
OUT_ZOO=${BENCH_OUT_ZOO:-docs/benchmarks-encoders-zoo.md}
OUT_RN=${BENCH_OUT_RN:-docs/benchmarks-encoders-resnet.md}

[ -x "$BIN" ] || { echo "error: $BIN not found; run 'make build-release' or set CLIPWB_BIN" >&2; exit 2; }
[ -x "$PY" ] || { echo "error: $PY not found; run 'make venv-export'" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")" weights/full
echo "bench-encoders: CPU $(lscpu | sed -n 's/^Model name: *//p'); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" \
     "OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}" >&2
"$BIN" doctor >&2 || true

if [ "${BENCH_B32:-1}" != 0 ]; then
  [ -f "$W" ] || { echo "bench-encoders: $W missing; running scripts/reference-full.sh" >&2; scripts/reference-full.sh; }
  [ -f "$ST" ] || "$BIN" convert "$W" "$ST" --dtype f32 >&2
  "$PY" notebooks-export/bench_torch.py drive --clipwb "$BIN" --weights "$W" --ours-weights "$ST" \
    --images "$SHARED/data/abo-images" --rounds "${ROUNDS:-5}" --reps "${REPS:-3}" --workdir "$(mktemp -d)" --out "$OUT"
fi

# key: label, library, open_clip name, exporter flags
declare -A LABEL=([b16]="ViT-B/16 (OpenAI)" [l14]="ViT-L/14 (OpenAI)" [h14]="ViT-H-14 (open_clip)"
                  [rn50]="RN50 (OpenAI)" [rn50x4]="RN50x4 (OpenAI)")
declare -A LIB=([b16]=openai [l14]=openai [h14]=open_clip [rn50]=openai [rn50x4]=openai)
declare -A NAME=([b16]=ViT-B-16 [l14]=ViT-L-14 [h14]=ViT-H-14 [rn50]=RN50 [rn50x4]=RN50x4)
declare -A FLAGS=(
  [b16]="--override vision_patch_size=16"
  [l14]="--override embed_dim=768 --override vision_layers=24 --override vision_width=1024 --override vision_patch_size=14 --override transformer_width=768 --override transformer_heads=12"
  [h14]="--source open_clip --model ViT-H-14"
  [rn50]="--arch RN50" [rn50x4]="--arch RN50x4")
declare -A FILE=([b16]=vit-b16-seed0 [l14]=vit-l14-seed0 [h14]=oc-vit-h14-seed0 [rn50]=rn50-seed0 [rn50x4]=rn50x4-seed0)
MODELS=${BENCH_MODELS:-h14 l14 b16 rn50 rn50x4}
[ "$MODELS" = none ] && exit 0
specs=()
rn_specs=()
for m in $MODELS; do
  [ -n "${LABEL[$m]:-}" ] || { echo "error: BENCH_MODELS takes b16 l14 h14 rn50 rn50x4, got '$m'" >&2; exit 2; }
  base="weights/full/${FILE[$m]}"
  if [ ! -f "$base.h5" ]; then
    # shellcheck disable=SC2086
    "$PY" notebooks-export/export_clip.py --random-init --seed 0 --dtype float32 ${FLAGS[$m]} --out "$base.h5.part" >&2
    mv "$base.h5.part" "$base.h5"
  fi
  for d in f32 f16; do [ -f "$base-$d.safetensors" ] || "$BIN" convert "$base.h5" "$base-$d.safetensors" --dtype "$d" >&2; done
  spec=(--model "${LABEL[$m]},${LIB[$m]},${NAME[$m]},$base.h5,$base-f32.safetensors,$base-f16.safetensors")
  case $m in rn*) rn_specs+=("${spec[@]}") ;; *) specs+=("${spec[@]}") ;; esac
done
if [ ${#specs[@]} -gt 0 ]; then
  "$PY" notebooks-export/bench_torch.py models --clipwb "$BIN" "${specs[@]}" --images samples/abo \
    --rounds "${MODEL_ROUNDS:-3}" --reps "${MODEL_REPS:-2}" --out "$OUT_ZOO" ${BENCH_RESUME_LOG:+--resume-log "$BENCH_RESUME_LOG"}
fi
if [ ${#rn_specs[@]} -gt 0 ]; then
  "$PY" notebooks-export/bench_torch.py models --clipwb "$BIN" "${rn_specs[@]}" --images samples/abo \
    --rounds "${MODEL_ROUNDS:-3}" --reps "${MODEL_REPS:-2}" --out "$OUT_RN" \
    --title "Encoders: OpenAI's ModifiedResNet CLIPs (RN50, RN50x4), full depth"
fi
