#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer target and runs it over the image decoders.
#   FUZZ_SECONDS (default 600) total time; seeds: samples/abo (or $CLIPWB_SHARED/data/abo-images)
#   plus the PNG/JPEG fixtures of every mode and the 8×8 GIF/BMP/TIFF/WebP/PPM files. New inputs go to .build-fuzz/corpus; a crash
#   leaves .build-fuzz/crash-* and a non-zero exit status.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${FUZZ_SECONDS:-${1:-600}}
Fuzz/build.sh
OUT=.build-fuzz
SEEDS=$OUT/seeds
mkdir -p "$OUT/corpus" "$SEEDS"
if ls samples/abo/*.jpg >/dev/null 2>&1; then
  cp -n samples/abo/* "$SEEDS/"
elif [ -d "${CLIPWB_SHARED:-../shared}/data/abo-images" ]; then
  ls "${CLIPWB_SHARED:-../shared}/data/abo-images" | head -200 | sed "s|^|${CLIPWB_SHARED:-../shared}/data/abo-images/|" | xargs cp -n -t "$SEEDS/"
fi
cp -n Tests/ClipImageTests/Fixtures/*.png Tests/ClipImageTests/Fixtures/*.jpg Tests/ClipImageTests/Fixtures/format-* "$SEEDS/"
echo "fuzzing for ${SECONDS_TOTAL}s with $(ls "$SEEDS" | wc -l) seeds" >&2
"$OUT/fuzz-decoders" -max_total_time="$SECONDS_TOTAL" -max_len=65536 -timeout=30 -rss_limit_mb=4096 \
  -artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus" "$SEEDS"
