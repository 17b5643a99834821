#!/usr/bin/env bash
# make loadtest: wrk against a live `clipwb serve` on loopback (127.0.0.1 only). Load phases are
# bounded: 6 phases × DUR seconds (default 4, so 24 s of load; DUR ≤ 5 keeps it ≤ 30 s).
#   1. text search, 1 connection            (latency: p50/p99)
#   2. text search, 16 connections, 3 rounds, each right after the text encoder alone was timed in its own
#      process (the server idle meanwhile): this machine's speed drifts by ±30% within a minute, so the
#      throughput ratio is taken per round, and the report gives each and their median
#   3. image search (raw JPEG body), 4 connections
#   4. text search, 16 connections, while POST /api/images adds held-out photos (each triggers a
#      background index rebuild): still zero errors expected.
#   5. hostile (scripts/slowloris.py, HOSTILE_SECONDS, default 20): SLOW (1,100) slow-header connections
#      and 8 pathological uploaders, with /healthz and text search timed one request at a time.
# Queries are 3 words drawn at random from a fixed vocabulary, so batches hold different texts.
# Env: CLIPWB (binary), WEIGHTS (default: the full-size ViT-B/32 f16 weight file `make bench-weights` or
#      `make parity` writes, else its HDF5 export, else the tiny fixture),
#      IMAGES (default samples/abo), DUR, OUT (markdown report, default artifacts/loadtest.md),
#      SERVE_NOFILE (pin the server's open-file limit, soft and hard, e.g. 1024).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIPWB=${CLIPWB:-.build/release/clipwb}
if [[ -z "${WEIGHTS:-}" ]]; then
  for WEIGHTS in weights/full/vit-b32-seed0-f16.safetensors weights/full/vit-b32-seed0.h5 weights/tiny/clip-tiny.h5; do
    [[ -f $WEIGHTS ]] && break
  done
fi
IMAGES=${IMAGES:-samples/abo}
DUR=${DUR:-4}
SLOW=${SLOW:-1100}
HOSTILE_SECONDS=${HOSTILE_SECONDS:-20}
VENV_PY=${VENV_PY:-.venv/bin/python}
OUT=${OUT:-artifacts/loadtest.md}
(( DUR >= 1 && DUR <= 5 )) || { echo "error: DUR must be 1..5 seconds (6 phases must fit in 30 s)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "error: wrk is missing: apt-get install wrk" >&2; exit 2; }
[[ -x $CLIPWB ]] || { echo "error: $CLIPWB is missing: run 'make build-release' or set CLIPWB" >&2; exit 2; }

mkdir -p "$(dirname "$OUT")"
work=$(mktemp -d)
server_pid=""
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The catalog: every image but the last 8, which are held out for the additions of phase 4.
mkdir -p "$work/images" "$work/new"
mapfile -t files < <(find "$IMAGES" -maxdepth 1 -type f \( -name '*.jpg' -o -name '*.png' \) | sort)
(( ${#files[@]} > 16 )) || { echo "error: $IMAGES has too few images (need > 16)" >&2; exit 2; }
for f in "${files[@]:0:${#files[@]}-8}"; do cp "$f" "$work/images/"; done
for f in "${files[@]: -8}"; do cp "$f" "$work/new/"; done
query_image=$(ls "$work/images" | head -1)
echo "loadtest: $(( ${#files[@]} - 8 )) images, weights $WEIGHTS, $(nproc) cores" >&2
"$CLIPWB" ingest "$work/images" --weights "$WEIGHTS" --catalog "$work/catalog" >/dev/null

# The text encoder alone, batch 1 and 16 (no HTTP, no index), same weights, same machine, same run.
encoder_alone() { "$CLIPWB" serve --catalog "$work/catalog" --measure-encoder 2 | tr -d ' \n'; }

cat > "$work/text.lua" <<'LUA'
local words = {"red", "blue", "black", "white", "green", "wooden", "leather", "metal", "small", "large",
  "shoe", "chair", "lamp", "table", "sofa", "bottle", "phone", "case", "bag", "rug",
  "bed", "desk", "shelf", "mug", "watch", "jacket", "pillow", "mirror", "vase", "box"}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
request = function()
  local q = words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "+" .. words[math.random(#words)]
  return wrk.format("GET", "/api/search?q=" .. q .. "&k=16")
end
LUA
cat > "$work/image.lua" <<LUA
local f = assert(io.open("$work/images/$query_image", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
wrk.path = "/api/search/image?k=16"
LUA
cat >> "$work/text.lua" <<'LUA'
done = function(s, latency, r)
  local e = s.errors
  io.write(string.format("RESULT %d %.1f %.2f %.2f %d\n", s.requests, s.requests / (s.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
LUA
sed -n '/^done = /,$p' "$work/text.lua" >> "$work/image.lua"

token=loadtest-$RANDOM$RANDOM
# SERVE_NOFILE=1024 pins the server's open-file limit (soft and hard; `serve` can then not lift it), the worst case.
${SERVE_NOFILE:+prlimit --nofile="$SERVE_NOFILE:$SERVE_NOFILE"} "$CLIPWB" serve --catalog "$work/catalog" --host 127.0.0.1 --port 0 --token "$token" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do grep -q "^serving" "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1)
[[ -n $url ]] || { echo "error: the server did not start: $(cat "$work/serve.log")" >&2; exit 1; }
curl -fsS "$url/api/search?q=warm+up" >/dev/null

phase() {  # name connections lua
  local line
  line=$(wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${DUR}s" --timeout 10s --latency -s "$work/$3" "$url" | grep '^RESULT')
  read -r _ reqs rps p50 p99 errors <<<"$line"
  printf '| %s | %d | %d | %s | %s | %s | %d |\n' "$1" "$2" "$reqs" "$rps" "$p50" "$p99" "$errors"
}

{
  echo "### Load test ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  echo "\`make loadtest\` — weights \`$WEIGHTS\`, $(( ${#files[@]} - 8 )) images, $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), BLAS kernels $("$CLIPWB" doctor --json | "$VENV_PY" -c 'import json,sys; print(json.load(sys.stdin).get("blas_core", "?"))') (OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset}), wrk ${DUR}s per phase, loopback."
  echo
  echo "| phase | connections | requests | requests/s | p50 ms | p99 ms | errors (non-2xx + socket) |"
  echo "|---|---|---|---|---|---|---|"
  phase "text search" 1 text.lua
  : > "$work/rounds"
  for round in 1 2 3; do
    alone=$(encoder_alone)
    row=$(phase "text search, round $round" 16 text.lua)
    echo "$row"
    echo "$alone $row" >> "$work/rounds"
  done
  phase "image search" 4 image.lua
  # Phase 4: additions (each starts a rebuild) while 16 connections search.
  ( sleep 0.5; for f in "$work/new"/*; do
      curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" -H 'Content-Type: image/jpeg' \
           --data-binary "@$f" "$url/api/images"; sleep 0.3; done >"$work/adds.txt" ) &
  adder=$!
  phase "text search during rebuilds" 16 text.lua
  wait "$adder"
  echo
  echo "Additions during phase 4: $(sort "$work/adds.txt" | uniq -c | awk '{printf "%s×HTTP %s ", $1, $2}'); after: $(curl -s "$url/healthz")"
  echo
  python3 - "$work/rounds" <<'PY'
import json, statistics, sys
ratios = []
for line in open(sys.argv[1]):
    alone_json, row = line.split(" ", 1)
    alone = {r["batch_size"]: r for r in json.loads(alone_json)}
    served = float(row.split("|")[4])
    ratios.append(served / alone[16]["texts_per_second"])
    print(f"- round {len(ratios)}: text encoder alone just before: batch 1 {alone[1]['ms_per_batch']:.1f} ms "
          f"({alone[1]['texts_per_second']:.0f} texts/s), batch 16 {alone[16]['texts_per_second']:.0f} texts/s; "
          f"served at 16 connections {served:.0f} requests/s = {ratios[-1] * 100:.0f}%")
print(f"\nText search at 16 connections: median {statistics.median(ratios) * 100:.0f}% "
      f"(min {min(ratios) * 100:.0f}%) of what the text encoder alone sustains at batch 16 in the same round.")
PY
  # Phase 5: hostile clients (scripts/slowloris.py): SLOW connections dripping their headers plus 8
  # clients uploading pathological images, while /healthz and text search are timed one request at a time.
  echo
  "$VENV_PY" scripts/slowloris.py "${url##*:}" --slow "$SLOW" --seconds "$HOSTILE_SECONDS" > "$work/hostile.json"
  "$VENV_PY" - "$work/hostile.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
h, t = r["healthz"], r["text_search"]
print(f"Hostile phase ({r['seconds']:.0f} s): {r['slow_connections']} connections sending their head one byte a second "
      f"(opened {r['slow_clients']['opened']}, closed by the server {r['slow_clients']['closed_by_server']}) and 8 clients "
      f"uploading a {r['upload_sizes'][0] / 1e6:.1f} MB JPEG of repeated scans and a {r['upload_sizes'][1] / 1e3:.0f} KB "
      f"7000×7000 16-bit PNG back to back (answers by status: {r['uploads_by_status']}):")
print()
print("| timed alongside | requests | p50 ms | p99 ms | errors | goal p99 |")
print("|---|---|---|---|---|---|")
print(f"| GET /healthz | {h['n']} | {h['p50_ms']:.1f} | {h['p99_ms']:.1f} | {h['error_count']} | < 100 ms |")
print(f"| text search | {t['n']} | {t['p50_ms']:.1f} | {t['p99_ms']:.1f} | {t['error_count']} | < 200 ms |")
PY
} | tee "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
