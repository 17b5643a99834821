#!/usr/bin/env bash
# `make fixtures`: regenerates the committed fixtures from one recipe.
#   samples/abo/                       200 images copied from $CLIPWB_SHARED/data/abo-images (kept as committed
#                                      when that folder is absent)
#   weights/tiny/clip-tiny.h5          tiny CLIP, random-init seed 0, float16 (clip-hdf5 v1)
#   weights/tiny/clip-tiny-reference.h5  16 of the samples + notebooks-export/texts.txt (clip-reference v1)
#   Tests/ClipImageTests/Fixtures/format-8x8*  one 8×8 GIF/BMP/TIFF/WebP/PPM each (notebooks-export/format_images.py)
#   weights/zoo/                       open_clip and Hugging Face CLIPs (issue 9) and a tiny OpenAI ModifiedResNet
#                                      (issue 10), float16, with references and hub / save_pretrained folders;
#                                      weights/zoo/README.md; ≤ 40 MB together (the references carry /intermediates)
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

# --- model zoo (issue 9): open_clip and Hugging Face CLIPs, small widths, float16; weights/zoo/README.md ---
# Every zoo reference carries /intermediates for its first 2 images and texts (issue 11: layer-by-layer divergence).
# Each variant lives in one stage of the parity check (pixels, image embeddings, text embeddings), so the
# variants that share a model stay independently testable.
rm -rf weights/zoo/oc-hub weights/zoo/hf-gelu-quickgelu
ZOO_INPUTS=(--dtype float16 --threads 1 --images samples/abo --num-images 8 --select mixed --texts notebooks-export/texts-zoo.txt
            --intermediates 2)
OC_SMALL=(--layers 2 --override vision_cfg.width=64 --override text_cfg.width=32 --override text_cfg.heads=2 --override embed_dim=32)
"$PY" notebooks-export/export_clip.py --source open_clip --model ViT-B-32 --random-init --seed 1 "${OC_SMALL[@]}" \
  --out weights/zoo/oc-gelu.h5 --reference-out weights/zoo/oc-gelu-reference.h5 "${ZOO_INPUTS[@]}"
"$PY" notebooks-export/export_clip.py --source open_clip --model ViT-B-16 --random-init --seed 2 "${OC_SMALL[@]}" \
  --override vision_cfg.head_width=16 --override preprocess_cfg.resize_mode=squash \
  --override preprocess_cfg.interpolation=bilinear --override 'preprocess_cfg.mean=[0.485,0.456,0.406]' \
  --override 'preprocess_cfg.std=[0.229,0.224,0.225]' --folder-out weights/zoo/oc-hub \
  --out weights/zoo/oc-hw16-squash.h5 --reference-out weights/zoo/oc-hw16-squash-reference.h5 "${ZOO_INPUTS[@]}"
"$PY" notebooks-export/export_clip.py --source open_clip --model ViT-M-16-alt --random-init --seed 3 "${OC_SMALL[@]}" \
  --override vision_cfg.ls_init_value=0.5 --override text_cfg.ls_init_value=0.5 \
  --override preprocess_cfg.resize_mode=longest --override preprocess_cfg.fill_color=128 \
  --out weights/zoo/oc-ls-longest.h5 --reference-out weights/zoo/oc-ls-longest-reference.h5 "${ZOO_INPUTS[@]}"
"$PY" notebooks-export/export_clip.py --source open_clip --model ViT-B-16-plus-240 --random-init --seed 4 "${OC_SMALL[@]}" \
  --override vision_cfg.mlp_ratio=4.9231 \
  --out weights/zoo/oc-mlp-240.h5 --reference-out weights/zoo/oc-mlp-240-reference.h5 "${ZOO_INPUTS[@]}"
"$PY" notebooks-export/export_clip.py --source hf --model ViT-B-16-quickgelu --random-init --seed 5 --layers 2 \
  --override vision_config.hidden_size=64 --override vision_config.intermediate_size=256 \
  --override vision_config.num_attention_heads=2 --override vision_config.hidden_act=gelu \
  --override text_config.hidden_size=32 --override text_config.intermediate_size=128 \
  --override text_config.num_attention_heads=2 --override projection_dim=32 --folder-out weights/zoo/hf-gelu-quickgelu \
  --out weights/zoo/hf-gelu-quickgelu.h5 --reference-out weights/zoo/hf-gelu-quickgelu-reference.h5 "${ZOO_INPUTS[@]}"
# OpenAI's ModifiedResNet (issue 10), from openai/CLIP's own code: one Bottleneck per stage, width 8 (stem 4,
# attention pool 256 wide with 4 heads), text width 32; BatchNorm gains, biases and running statistics randomised.
"$PY" notebooks-export/export_clip.py --source openai --arch RN50 --random-init --seed 6 --layers 1 \
  --override vision_width=8 --override transformer_width=32 --override transformer_heads=2 --override embed_dim=32 \
  --out weights/zoo/rn-tiny.h5 --reference-out weights/zoo/rn-tiny-reference.h5 "${ZOO_INPUTS[@]}"

biggest=$(find weights/zoo -type f ! -name README.md -printf '%s\n' | sort -n | tail -1)
zoo_total=$(find weights/zoo -type f ! -name README.md -printf '%s\n' | awk '{s += $1} END {print s}')
if [ "$biggest" -ge 10000000 ] || [ "$zoo_total" -gt 40000000 ]; then
  echo "error: weights/zoo takes $zoo_total bytes (largest file $biggest): over the 40 MB / 10 MB-per-file budget" >&2; exit 1
fi
echo "weights/zoo: $zoo_total bytes"
find weights/zoo -type f ! -name README.md | LC_ALL=C sort | xargs sha256sum | sha256sum | sed 's/ .*//; s/^/zoo digest: /'
