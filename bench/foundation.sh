#!/usr/bin/env bash
# Foundation figures (issue 2): popularity and iALS through replay-v1 on the shared MovieLens sets.
# Usage: bash bench/foundation.sh [OUT_DIR]   (needs ../shared/datasets; writes JSON reports there)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
data=${DATA:-../shared/datasets}
mkdir -p "$out"
go build -o "$out/cascade" ./cmd/cascade
for ds in ml-100k ml-latest-small; do
  [ -d "$data/$ds" ] || { echo "skip $ds: $data/$ds is absent"; continue; }
  for cfg in popularity ials; do
    start=$(date +%s%N)
    "$out/cascade" train --config examples/$cfg.yaml --data "$data/$ds" --out "$out/$ds-$cfg" --no-progress -q >/dev/null
    end=$(date +%s%N)
    "$out/cascade" replay --config examples/$cfg.yaml --data "$data/$ds" --models "$out/$ds-$cfg" \
      --json "$out/$ds-$cfg.json" --no-progress -q >/dev/null
    echo "$ds $cfg train_wall_ms=$(( (end - start) / 1000000 ))"
  done
done
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
print("| data set | model | chosen params | hr@10 | ndcg@10 | mrr@10 | hr@50 | ndcg@100 | coverage@10 | popularity@10 | recall@100 | recall@500 | warm ndcg@10 | cold ndcg@10 | replay steps/s | p50 ms | p99 ms |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for ds in ["ml-100k", "ml-latest-small"]:
    for cfg in ["popularity", "ials"]:
        p = os.path.join(out, f"{ds}-{cfg}.json")
        if not os.path.exists(p):
            continue
        r = json.load(open(p)); m = r["metrics"]; st = r["stages"][cfg]
        man = json.load(open(os.path.join(out, f"{ds}-{cfg}", "manifest.json")))
        params = man["models"][cfg]["params"] or {}
        chosen = ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if k in ("alpha", "reg", "factors")) or "-"
        print(f"| {ds} | {cfg} | {chosen} | {m['hr@10']:.4f} | {m['ndcg@10']:.4f} | {m['mrr@10']:.4f} | {m['hr@50']:.4f} | {m['ndcg@100']:.4f} | {m['coverage@10']:.4f} | {m['popularity@10']:.4f} | {st['recall@100']:.4f} | {st['recall@500']:.4f} | {r['slices']['warm']['ndcg@10']:.4f} | {r['slices']['cold']['ndcg@10']:.4f} | {r['steps_per_second']:.0f} | {r['latency_ms']['p50']:.3f} | {r['latency_ms']['p99']:.3f} |")
PY
