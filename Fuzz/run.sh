#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets and runs each for FUZZ_SECONDS (default 600), FUZZ_JOBS at a time
#   (default 1).
#   FUZZ_TARGETS (default: all) picks targets: decoders safetensors hdf5 npy annoy multipart tokenizer.
#   Seeds: each target writes its own (made by the library's writers, CLIPWB_FUZZ_SEEDS) plus the
#   fixtures: images (samples/abo, Tests/ClipImageTests/Fixtures), weights/tiny/*.h5 and a safetensors
#   file converted from it, the tokenizer fixture's texts, and the crash inputs in Tests/Fixtures/fuzz/<target>. New inputs go to .build-fuzz/corpus/<target>,
#   logs to .build-fuzz/logs/<target>.log, a crash/timeout/OOM to .build-fuzz/artifacts/<target>/ and a
#   non-zero exit status (after the other targets have run). Summary: .build-fuzz/summary.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-${1:-600}}
read -r -a TARGETS <<< "${FUZZ_TARGETS:-decoders safetensors hdf5 npy annoy multipart tokenizer}"
Fuzz/build.sh "${TARGETS[@]}"
OUT=.build-fuzz
SHARED=${CLIPWB_SHARED:-../shared}
unset CLIPWB_FUZZ_SEEDS
export CLIPWB_BPE_VOCAB=$PWD/Sources/ClipTokenizer/Resources/bpe_simple_vocab_48894.txt

fixture_seeds() {  # fixture_seeds TARGET DIR: copies the fixtures that seed TARGET into DIR
  local dir=$2
  case $1 in
    decoders)
      if ls samples/abo/*.jpg >/dev/null 2>&1; then cp -n samples/abo/* "$dir/"
      elif [ -d "$SHARED/data/abo-images" ]; then
        find "$SHARED/data/abo-images" -type f | head -200 | xargs cp -n -t "$dir/"
      fi
      cp -n Tests/ClipImageTests/Fixtures/*.png Tests/ClipImageTests/Fixtures/*.jpg Tests/ClipImageTests/Fixtures/format-* "$dir/" ;;
    hdf5) cp -n weights/tiny/*.h5 "$dir/" ;;
    safetensors)
      local cli=.build/debug/clipwb
      [ -x .build/release/clipwb ] && cli=.build/release/clipwb
      if [ -x "$cli" ] && [ ! -e "$dir/clip-tiny-f16.safetensors" ]; then
        "$cli" convert weights/tiny/clip-tiny.h5 "$dir/clip-tiny-f16.safetensors" --dtype f16 >/dev/null
      fi ;;
    tokenizer)
      python3 - "$dir" <<'PY'
import json, sys
cases = json.load(open("Tests/ClipTokenizerTests/Fixtures/tokens.json"))
texts = []
def walk(x):
    if isinstance(x, dict):
        if isinstance(x.get("text"), str): texts.append(x["text"])
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
walk(cases)
for i, t in enumerate(texts[:400]):
    open(f"{sys.argv[1]}/fixture-{i:03}.txt", "w", encoding="utf-8", errors="surrogatepass").write(t)
PY
      ;;
  esac
}

# Inputs above these sizes are truncated by libFuzzer (the weight fixtures' float data teaches it little).
declare -A MAX_LEN=([decoders]=65536 [safetensors]=524288 [hdf5]=524288 [npy]=65536 [annoy]=65536
                    [multipart]=65536 [tokenizer]=4096)
printf 'target\tseconds\texecutions\texec_per_s\tcrashes\tstatus\n' > "$OUT/summary.tsv"
mkdir -p "$OUT/rows"
rm -f "$OUT"/rows/*.tsv

fuzz_one() {  # fuzz_one TARGET: seeds, then FUZZ_SECONDS of libFuzzer; its summary row goes to $OUT/rows/TARGET.tsv
  local t=$1
  local seeds=$OUT/seeds/$t corpus=$OUT/corpus/$t artifacts=$OUT/artifacts/$t/
  mkdir -p "$seeds" "$corpus" "$artifacts" "$OUT/logs"
  fixture_seeds "$t" "$seeds"
  [ -d "Tests/Fixtures/fuzz/$t" ] && cp -n "Tests/Fixtures/fuzz/$t"/* "$seeds/"  # past crashes seed too
  # The seed step builds indexes and weight files: not what is fuzzed, so its leak check is off.
  CLIPWB_FUZZ_SEEDS=$seeds ASAN_OPTIONS=detect_leaks=0 "$OUT/fuzz-$t" -runs=0 >/dev/null 2>&1 \
    || { echo "fuzz-$t could not write its seeds" >&2; printf '%s\t0\t0\t0\t0\tno-seeds\n' "$t" > "$OUT/rows/$t.tsv"; return; }
  echo "fuzz-$t: ${SECONDS_EACH}s" >&2
  local start before status=ok asan=""
  start=$(date +%s) before=$(ls "$artifacts" | wc -l)
  # libhdf5 asks malloc for whatever size a damaged file declares (2^51 bytes, say) and reports a NULL as an
  # error; glibc returns NULL for such sizes, where ASan would abort: let ASan return NULL too.
  [ "$t" = hdf5 ] && asan=allocator_may_return_null=1
  ASAN_OPTIONS=$asan LSAN_OPTIONS=suppressions=$PWD/Fuzz/lsan.supp "$OUT/fuzz-$t" -max_total_time="$SECONDS_EACH" -max_len="${MAX_LEN[$t]}" \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts" -print_final_stats=1 \
    "$corpus" "$seeds" > "$OUT/logs/$t.log" 2>&1 || status=failed
  local elapsed execs rate crashes
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/logs/$t.log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$OUT/logs/$t.log" | grep -o '[0-9]*$' || echo 0)
  crashes=$(( $(ls "$artifacts" | wc -l) - before ))
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$elapsed" "${execs:-0}" "${rate:-0}" "$crashes" "$status" | tee "$OUT/rows/$t.tsv" >&2
  if [ "$status" != ok ]; then
    grep -E "ERROR: |SUMMARY: |Test unit written" "$OUT/logs/$t.log" | head -5 >&2 || true
  fi
}

# FUZZ_JOBS targets at a time (default 1; each libFuzzer process uses one core).
JOBS=${FUZZ_JOBS:-1}
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait
failed=()
for t in "${TARGETS[@]}"; do
  cat "$OUT/rows/$t.tsv" >> "$OUT/summary.tsv"
  [ "$(cut -f6 "$OUT/rows/$t.tsv")" = ok ] || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]} (see $OUT/logs and $OUT/artifacts)" >&2
  exit 1
fi
