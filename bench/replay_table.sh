#!/usr/bin/env bash
# Trains and replays (replay-v1) every given pipeline file on every given data set and prints one
# Markdown table. Usage:
#   bash bench/replay_table.sh OUT_DIR "ml-100k ml-latest-small" examples/twotower-none.yaml examples/twotower-logq.yaml ...
# recall@N columns are the last stage's list (the final list of a funnel).
# Data sets are read from ${DATA:-../shared/datasets}. Reports (JSON) and bundles stay in OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; sets=$2; shift 2
data=${DATA:-../shared/datasets}
mkdir -p "$out"
go build -o "$out/cascade" ./cmd/cascade
for ds in $sets; do
  [ -d "$data/$ds" ] || { echo "skip $ds: $data/$ds is absent" >&2; continue; }
  for cfg in "$@"; do
    name=$(basename "$cfg" .yaml)
    [ -f "$out/$ds-$name.json" ] && continue   # resume: keep finished runs
    start=$(date +%s)
    "$out/cascade" train --config "$cfg" --data "$data/$ds" --out "$out/$ds-$name" --no-progress -q >"$out/$ds-$name.train.log" 2>&1
    end=$(date +%s)
    echo $((end - start)) > "$out/$ds-$name.train_seconds"
    "$out/cascade" replay --config "$cfg" --data "$data/$ds" --models "$out/$ds-$name" --json "$out/$ds-$name.json" --no-progress -q >/dev/null
    echo "done $ds $name in $((end - start)) s" >&2
  done
done
python3 - "$out" "$sets" "$@" <<'PY'
import json, os, sys
out, sets, cfgs = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
print("| data set | pipeline | chosen | ndcg@10 | hr@10 | recall@100 | recall@500 | coverage@10 | popularity@10 | warm ndcg@10 | cold ndcg@10 | train s | p50 ms | p99 ms |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for ds in sets:
    for cfg in cfgs:
        name = os.path.basename(cfg)[:-5]
        p = os.path.join(out, f"{ds}-{name}.json")
        if not os.path.exists(p):
            continue
        r = json.load(open(p)); m = r["metrics"]
        stage = r["stage_order"][-1]; st = r["stages"][stage]   # the last stage: the final list of a funnel
        man = json.load(open(os.path.join(out, f"{ds}-{name}", "manifest.json")))
        chosen = "; ".join(f"{mn}: " + ", ".join(f"{k}={v}" for k, v in sorted((e.get("params") or {}).items()) if len(e.get("trials") or []) > 0 and any(t["params"].get(k) != v for t in e["trials"]))
                           for mn, e in sorted(man["models"].items()) if e.get("trials")) or "-"
        if man.get("stack_selection"):   # the ranking stack validation chose
            chosen += "; rankers: " + man["stack_selection"]["chosen"].replace(" | ", ": ")
        secs = open(os.path.join(out, f"{ds}-{name}.train_seconds")).read().strip()
        print(f"| {ds} | {name} | {chosen} | {m['ndcg@10']:.4f} | {m['hr@10']:.4f} | {st['recall@100']:.4f} | {st['recall@500']:.4f} | {m['coverage@10']:.4f} | {m['popularity@10']:.4f} | {r['slices']['warm'].get('ndcg@10',0):.4f} | {r['slices']['cold'].get('ndcg@10',0):.4f} | {secs} | {r['latency_ms']['p50']:.3f} | {r['latency_ms']['p99']:.3f} |")
PY
python3 - "$out" "$sets" "$@" <<'PY'
# The ranking stacks each pipeline compared on the validation split (manifest stack_selection).
import json, os, sys
out, sets, cfgs = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
rows = []
for ds in sets:
    for cfg in cfgs:
        name = os.path.basename(cfg)[:-5]
        p = os.path.join(out, f"{ds}-{name}", "manifest.json")
        if not os.path.exists(p):
            continue
        sel = json.load(open(p)).get("stack_selection")
        for t in (sel or {}).get("trials", []):
            mark = " (chosen)" if t["stack"] == sel["chosen"] else ""
            rows.append(f"| {ds} | {name} | {t['stack'].replace(' | ', ': ')}{mark} | {t['validation']['ndcg@10']:.4f} | {t['validation']['hr@10']:.4f} |")
if rows:
    print("\n| data set | pipeline | ranking stack | validation ndcg@10 | validation hr@10 |")
    print("|---|---|---|---:|---:|")
    print("\n".join(rows))
PY
