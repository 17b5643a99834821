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
eager=$("$BIN" benchmark load --rounds 7 --json "$H5" "$OUT/vit-b32-seed0-f16.safetensors" "$OUT/vit-b32-seed0-f32.safetensors")
lazy=$("$BIN" benchmark load --rounds 7 --json --lazy "$OUT/vit-b32-seed0-f16.safetensors")
doctor=$("$BIN" doctor --json)
.venv/bin/python - "$eager" "$lazy" "$eq16" "$eq32" "$doctor" <<'PY'
import json, sys, os, datetime, subprocess
eager, lazy, eq16, eq32, doctor = (json.loads(a) for a in sys.argv[1:6])
h5, f16, f32 = eager
ratio = lambda a, b: a / b if b else float("inf")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [
    "## Weights: file sizes and load time (`make bench-weights`)",
    "",
    f"Command: `make bench-weights` (scripts/bench-weights.sh) — commit {commit}, {datetime.date.today()}, "
    f"{doctor['cpus']} cores, BLAS {doctor['blasLibrary']}.",
    "Model: full-size ViT-B/32, random init seed 0 (`make reference-full`). A load ends when every tensor is a",
    "validated float32 buffer the encoders can use; 7 interleaved rounds in one process, page cache warm.",
    "",
    "| file | size | size vs HDF5 | load median | load min | speed-up vs HDF5 |",
    "|---|---|---|---|---|---|",
]
for row, name in ((h5, "HDF5 f32 (source)"), (f16, "clipwb f16, widened at load"), (f32, "clipwb f32, in place (mmap)")):
    lines.append(f"| {name} | {row['bytes'] / 2**20:.1f} MiB | {row['bytes'] / h5['bytes'] * 100:.1f}% | "
                 f"{row['medianMs']:.1f} ms | {row['minMs']:.1f} ms | {ratio(h5['medianMs'], row['medianMs']):.1f}× |")
l = lazy[0]
lines.append(f"| clipwb f16, widened on first use (`--lazy`) | {l['bytes'] / 2**20:.1f} MiB | {l['bytes'] / h5['bytes'] * 100:.1f}% | "
             f"{l['medianMs']:.1f} ms | {l['minMs']:.1f} ms | {ratio(h5['medianMs'], l['medianMs']):.1f}× |")
lines += ["", f"Python `safetensors` reads both files and every tensor equals the HDF5 one "
          f"(f32 bit-identical: {eq32['equal']}, {eq32['tensors']} tensors; f16 equal to numpy float16 rounding: {eq16['equal']}).", ""]
open("docs/benchmarks-weights.md", "w").write("\n".join(lines))
print("\n".join(lines))
PY
