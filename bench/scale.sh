#!/usr/bin/env bash
# Training cost vs log size (issue 12). For each size, a synthetic world from `cascade gen`, then
# `cascade train` and `cascade replay` of a pipeline file, each timed by GNU time (wall, user+sys
# CPU, peak RSS); train's own stages (tuning, refits, ranking data, rankers, ...) come from the
# bundle's manifest.json ("costs"). Writes OUT/costs.tsv, then a Markdown table and a log-log cost
# curve (docs/scale.md, docs/scale.png unless DOCS= says elsewhere).
#
#   bash bench/scale.sh [OUT_DIR]                   # 100k
#   SIZES="100k 1m" bash bench/scale.sh OUT         # 1m: ~20 min on 2 cores at load 2
#   SIZES="100k 1m 10m" CONFIG=examples/ials.yaml SAMPLE=20000 bash bench/scale.sh OUT
#
# Sizes: 100k = 5K users × 2K items, 1m = 50K × 20K, 10m = 500K × 200K (the same events per user
# and per item); 30k = 1.5K × 600, a second point when the machine is too busy for 1m. Replay
# evaluates a sample of SAMPLE steps (default 10000: at 100k and below that is every counted step,
# so the figures are the full replay's), so that its cost stays comparable across sizes.
# Finished sizes are kept (delete OUT/SIZE.done to rerun one).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${TMPDIR:-/tmp}/cascade-scale-bench}
sizes=${SIZES:-100k}
config=${CONFIG:-examples/full.yaml}
sample=${SAMPLE:-10000}
docs=${DOCS:-docs}
mkdir -p "$out"
out=$(cd "$out" && pwd)
go build -o "$out/cascade" ./cmd/cascade
go build -o "$out/scaleplot" ./bench/scaleplot
[ -x /usr/bin/time ] || { echo "bench/scale.sh needs GNU time (/usr/bin/time; Debian: apt-get install time)" >&2; exit 1; }

# timed SIZE STAGE CMD...: runs CMD, appends "size stage wall_s cpu_s peak_rss_mb load1" to costs.tsv.
timed() {
  local size=$1 stage=$2; shift 2
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f '%e %U %S %M' -o "$out/$size.$stage.time" "$@" >"$out/$size.$stage.log" 2>&1 \
    || { echo "$stage at $size failed: see $out/$size.$stage.log" >&2; exit 1; }
  read -r wall user sys rss_kb <"$out/$size.$stage.time"
  printf '%s\t%s\t%s\t%.2f\t%.0f\t%s\n' "$size" "$stage" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss_kb / 1024" | bc -l)" "$load" >>"$out/costs.tsv"
  echo "$size $stage: ${wall}s wall, $(printf %.2f "$(echo "$user + $sys" | bc)")s CPU, $((rss_kb / 1024)) MB peak RSS (load $load)" >&2
}

for size in $sizes; do
  case $size in
    30k) users=1500 items=600 events=30000 ;;
    100k) users=5000 items=2000 events=100000 ;;
    1m) users=50000 items=20000 events=1000000 ;;
    10m) users=500000 items=200000 events=10000000 ;;
    *) echo "unknown size $size (want 30k, 100k, 1m or 10m)" >&2; exit 2 ;;
  esac
  [ -f "$out/$size.done" ] && continue
  sed -i "/^$size\t/d" "$out/costs.tsv" 2>/dev/null || true
  timed "$size" gen "$out/cascade" gen --out "$out/world-$size" --users $users --items $items --events $events --seed 1 --impressions 0 --no-progress
  rm -rf "$out/bundle-$size"
  timed "$size" train "$out/cascade" train --config "$config" --data "$out/world-$size" --out "$out/bundle-$size" --no-progress
  timed "$size" replay "$out/cascade" replay --config "$config" --data "$out/world-$size" --models "$out/bundle-$size" \
    --sample "$sample" --seed 1 --json "$out/replay-$size.json" --no-progress
  # train's stages from the manifest: "size train/STAGE wall cpu rss -"
  python3 - "$out/bundle-$size/manifest.json" "$size" >>"$out/costs.tsv" <<'PY'
import json, sys
man, size = json.load(open(sys.argv[1])), sys.argv[2]
for c in man.get("costs", []):
    print(f"{size}\ttrain/{c['stage']}\t{c['wall_seconds']:.2f}\t{c['cpu_seconds']:.2f}\t{c['peak_rss_mb']:.0f}\t-")
PY
  echo "$events" >"$out/$size.done"
done
mkdir -p "$docs"
"$out/scaleplot" -in "$out/costs.tsv" -out "$out" -md "$docs/scale.md" -png "$docs/scale.png" -config "$config"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); results in $out, $docs/scale.md, $docs/scale.png" >&2
