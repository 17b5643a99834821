#!/usr/bin/env bash
# Submits an embedding array (scripts/slurm/embed.sbatch, one shard per task) and the merge after it
# (scripts/slurm/merge.sbatch, --dependency=afterok on the array), and prints both job ids:
#
#   scripts/slurm/submit.sh --clipwb BIN --weights W (--images DIR | --list FILE) --out DIR --tasks N --cpus C \
#                           [--batch-size B] [--checkpoint-every K] [-- more sbatch options, e.g. --partition=p]
#   embed_job=41
#   merge_job=42
#
# Shards go to DIR/shards/, the merged embeddings to DIR/all.npy (+ all.names.txt, all.json), the jobs' logs to
# DIR/logs/. Each task gets C CPUs (--cpus-per-task), which clipwb uses as its thread count. The merge is
# submitted with --kill-on-invalid-dep=yes: if a task fails, the merge is cancelled rather than left pending
# forever; requeue the task (it resumes from its finished chunks) and submit the merge again (docs/scaling.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
  sed -n '3,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
clipwb=$(command -v clipwb || true) weights="" input=() out="" tasks=4 cpus=1 embed_opts=() sbatch_opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --clipwb) clipwb=$2; shift 2 ;;
    --weights) weights=$2; shift 2 ;;
    --images) input=(--images "$(realpath "$2")"); shift 2 ;;
    --list) input=(--list "$(realpath "$2")"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --batch-size|--checkpoint-every) embed_opts+=("$1" "$2"); shift 2 ;;
    --) shift; sbatch_opts=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "error: unknown option '$1'" >&2; usage ;;
  esac
done
[ -n "$clipwb" ] && [ -n "$weights" ] && [ ${#input[@]} -eq 2 ] && [ -n "$out" ] || usage
[[ "$tasks" =~ ^[1-9][0-9]*$ ]] || { echo "error: --tasks takes a positive count, got '$tasks'" >&2; exit 2; }
[[ "$cpus" =~ ^[1-9][0-9]*$ ]] || { echo "error: --cpus takes a positive count, got '$cpus'" >&2; exit 2; }
[ -x "$clipwb" ] || { echo "error: clipwb binary '$clipwb' is not executable" >&2; exit 2; }
[ -f "$weights" ] || { echo "error: weights file '$weights' not found" >&2; exit 2; }
clipwb=$(realpath "$clipwb") weights=$(realpath "$weights")
mkdir -p "$out/shards" "$out/logs"
out=$(realpath "$out")

embed_job=$(sbatch --parsable "${sbatch_opts[@]}" --array="0-$((tasks - 1))" --cpus-per-task="$cpus" \
  --output="$out/logs/embed-%A_%a.out" "$here/embed.sbatch" "$clipwb" "$weights" "$out/shards" "${input[@]}" \
  ${embed_opts[@]+"${embed_opts[@]}"})
embed_job=${embed_job%%;*}
merge_job=$(sbatch --parsable "${sbatch_opts[@]}" --dependency="afterok:$embed_job" --kill-on-invalid-dep=yes \
  --cpus-per-task="$cpus" --output="$out/logs/merge-%j.out" "$here/merge.sbatch" "$clipwb" "$out/shards" "$out/all.npy")
merge_job=${merge_job%%;*}
echo "embed_job=$embed_job"
echo "merge_job=$merge_job"
