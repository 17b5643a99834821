#!/usr/bin/env bash
# make bench-weights: full-size ViT-B/32 (random-init) HDF5 → clipwb weight files; sizes, Python safetensors
# equality, and load times (median of 7 interleaved rounds, same process). Writes docs/benchmarks-weights.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CLIPWB:-.build/release/clipwb}
H5=weights/full/vit-b32-seed0.h5
OUT=weights/full
[ -f "$H5" ] || { echo "no $H5: run 'make reference-full' first (needs the exporter venv with PyTorch)"; exit 2; }
"$BIN" convert "$H5" "$OUT/vit-b32-seed0-f16.safetensors" --dtype f16
"$BIN" convert "$H5" "$OUT/vit-b32-seed0-f32.safetensors" --dtype f32
eq16=$(.venv/bin/python scripts/check_weights_equal.py "$H5" "$OUT/vit-b32-seed0-f16.safetensors")
eq32=$(.venv/bin/python scripts/check_weights_equal.py "$H5" "$OUT/vit-b32-seed0-f32.safetensors")
echo "$eq16"; echo "$eq32"
eager=$("$BIN" benchmark load --rounds 7 --json --halves widen "$H5" "$OUT/vit-b32-seed0-f16.safetensors" "$OUT/vit-b32-seed0-f32.safetensors")
direct=$("$BIN" benchmark load --rounds 7 --json --halves direct "$H5" "$OUT/vit-b32-seed0-f16.safetensors")
# Does reading f16 directly cost encoding speed? Same run, interleaved: widen, direct, widen, direct.
speed=()
for round in 1 2; do for h in widen direct; do
  speed+=("$("$BIN" benchmark encoders --weights "$OUT/vit-b32-seed0-f16.safetensors" --images samples/abo \
              --texts notebooks-export/texts.txt --reps 5 --halves $h)")
done; done
doctor=$("$BIN" doctor --json)
.venv/bin/python - "$eager" "$direct" "$eq16" "$eq32" "$doctor" "${speed[@]}" <<'PY'
import json, sys, os, datetime, subprocess, statistics
eager, direct, eq16, eq32, doctor = (json.loads(a) for a in sys.argv[1:6])
speed = [json.loads(a) for a in sys.argv[6:]]
h5, f16, f32 = eager
ratio = lambda a, b: a / b if b else float("inf")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [
    "## Weights: file sizes and load time (`make bench-weights`)",
    "",
    f"Command: `make bench-weights` (scripts/bench-weights.sh) — commit {commit}, {datetime.date.today()}, "
    f"{doctor['cpus']} cores, BLAS {doctor['blas_library']}.",
    "Model: full-size ViT-B/32, random init seed 0 (`make reference-full`). A load ends with a ready model: the",
    "weights read and checked and a `CLIPModel` built over them, able to encode. 7 interleaved rounds in one process,",
    "page cache warm. Two runs: `--halves widen` (f16 widened to float32 at load) and `--halves direct` (the default:",
    "the encoders read the f16 matrices as stored), each with its own HDF5 rounds.",
    "",
    "| file | size | size vs HDF5 | load median | load min | speed-up vs HDF5 |",
    "|---|---|---|---|---|---|",
]
dh5, d16 = direct
rows = ((h5, h5, "HDF5 f32 (source), widen run"), (f16, h5, "clipwb f16, widened at load (`--halves widen`)"),
        (f32, h5, "clipwb f32, in place (mmap)"), (dh5, dh5, "HDF5 f32 (source), direct run"),
        (d16, dh5, "**clipwb f16, read directly (`--halves direct`, default)**"))
for row, base, name in rows:
    lines.append(f"| {name} | {row['bytes'] / 2**20:.1f} MiB | {row['bytes'] / base['bytes'] * 100:.1f}% | "
                 f"{row['median_ms']:.1f} ms | {row['min_ms']:.1f} ms | {ratio(base['median_ms'], row['median_ms']):.1f}× |")
lines += ["", f"Python `safetensors` reads both files and every tensor equals the HDF5 one "
          f"(f32 bit-identical: {eq32['equal']}, {eq32['tensors']} tensors; f16 equal to numpy float16 rounding: {eq16['equal']}).", ""]
lines += ["Encoding speed with each mode (`clipwb benchmark encoders --halves widen|direct`, f16 file, 2 threads,",
          "2 interleaved rounds × 5 repetitions; median ms per call):", "",
          "| call | widened to f32 | f16 read directly | direct / widened |", "|---|---|---|---|"]
for key, label in (("image_b1", "1 image"), ("image_b16", "16 images"), ("text_b1", "1 text"), ("text_b32", "32 texts")):
    w = statistics.median([x for o in speed[0::2] for x in o[key]]) * 1000
    d = statistics.median([x for o in speed[1::2] for x in o[key]]) * 1000
    lines.append(f"| {label} | {w:.1f} ms | {d:.1f} ms | {d / w:.2f} |")
lines.append("")
open("docs/benchmarks-weights.md", "w").write("\n".join(lines))
print("\n".join(lines))
PY
