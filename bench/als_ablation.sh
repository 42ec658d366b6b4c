#!/usr/bin/env bash
# Issue 13, experiment 3c: ALS vs iALS as a ranker feature and as a candidate source, replay-v1.
# Trains (when missing) and replays every examples/ablation-*.yaml side by side on each data set
# with `cascade replay --compare` (first-stage models shared through OUT/<set>/.cache), records
# wall and CPU time and the load average, then prints one Markdown table per run. Usage:
#   bash bench/als_ablation.sh OUT_DIR ["ml-100k ml-latest-small sim"]
# "sim" runs `cascade simulate` once per file instead (the file is the cascade policy's bundle,
# trained on the default synthetic world; SIM_ROUNDS (3), SIM_USERS (500), SIM_RETRAIN (false),
# SIM_SEED (1)); its table gives the policy's true reward against the oracle's, the candidate
# ceiling (the true top 10 among the bundle's candidates, against the oracle) and the junk share
# of the candidates, averaged over the rounds.
# Data sets are read from ${DATA:-../shared/datasets}; bundles, JSON reports and logs stay in
# OUT_DIR. A finished set (OUT/<set>.json present) is not run again.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; sets=${2:-"ml-100k ml-latest-small"}
data=${DATA:-../shared/datasets}
cfgs=examples/ablation-ials.yaml,examples/ablation-als-feature.yaml,examples/ablation-als-instead.yaml,examples/ablation-uals-instead.yaml,examples/ablation-als-source.yaml,examples/ablation-uals-source.yaml,examples/ablation-ials-seed2.yaml,examples/ablation-ials-seed3.yaml
# the simulation runs these (the seed files' noise floor once); SIM_FILES overrides
sim_cfgs=${SIM_FILES:-examples/ablation-ials.yaml,examples/ablation-als-feature.yaml,examples/ablation-als-instead.yaml,examples/ablation-uals-instead.yaml,examples/ablation-als-source.yaml,examples/ablation-uals-source.yaml,examples/ablation-ials-seed2.yaml}
mkdir -p "$out"
go build -o "$out/cascade" ./cmd/cascade
for ds in $sets; do
  if [ "$ds" = sim ]; then   # the closed loop over the synthetic world, one run per file
    for cfg in ${sim_cfgs//,/ }; do
      name=$(basename "$cfg" .yaml)
      [ -f "$out/sim-$name.json" ] && continue
      printf 'pipeline: %s\nrounds: %s\nusers_per_round: %s\nexploration: [none]\nretrain: %s\n' \
        "$PWD/$cfg" "${SIM_ROUNDS:-3}" "${SIM_USERS:-500}" "${SIM_RETRAIN:-false}" > "$out/sim-$name.yaml"
      { date -u +%FT%TZ; cat /proc/loadavg; } > "$out/sim-$name.start"
      /usr/bin/time -f "%e %U %S %M" -o "$out/sim-$name.time" \
        "$out/cascade" simulate --config "$out/sim-$name.yaml" --seed "${SIM_SEED:-1}" --out "$out/sim-$name" \
          --json "$out/sim-$name.tmp.json" --no-progress >"$out/sim-$name.log" 2>&1
      mv "$out/sim-$name.tmp.json" "$out/sim-$name.json"
      echo "done sim $name: wall/user/sys s, peak KB: $(cat "$out/sim-$name.time")" >&2
    done
    continue
  fi
  [ -d "$data/$ds" ] || { echo "skip $ds: $data/$ds is absent" >&2; continue; }
  [ -f "$out/$ds.json" ] && continue
  { date -u +%FT%TZ; cat /proc/loadavg; } > "$out/$ds.start"
  /usr/bin/time -f "%e %U %S %M" -o "$out/$ds.time" \
    "$out/cascade" replay --compare "$cfgs" --data "$data/$ds" --models "$out/$ds" \
      --json "$out/$ds.tmp.json" --report "$out/$ds-report" --no-progress >"$out/$ds.log" 2>&1
  mv "$out/$ds.tmp.json" "$out/$ds.json"
  { date -u +%FT%TZ; cat /proc/loadavg; } > "$out/$ds.end"
  echo "done $ds: wall/user/sys s, peak KB: $(cat "$out/$ds.time")" >&2
done
python3 - "$out" "$sets" "$cfgs" <<'PY'
import json, os, sys
out, sets, cfgs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(",")
print("| data set | pipeline | chosen (validation) | ndcg@10 | hr@10 | factor source recall@100 / @200 | candidates (merged) recall@100 / @200 / all | final recall@100 | coverage@10 | train s (wall) |")
print("|---|---|---|---:|---:|---|---|---:|---:|---:|")
for ds in sets:
    p = os.path.join(out, f"{ds}.json")
    if not os.path.exists(p):
        continue
    reports = json.load(open(p))
    for name in [os.path.basename(c)[:-5] for c in cfgs]:   # the files' order
        if name not in reports:
            continue
        r = reports[name]
        m = r["metrics"]
        order = r["stage_order"]
        # the factor model's own list (the first source), the merged candidate list, the final list
        src, cs, fs = r["stages"][order[0]], r["stages"]["merged"], r["stages"][order[-1]]
        man = json.load(open(os.path.join(out, ds, name, "manifest.json")))
        # the tuned parameters (those the trials varied) of each model with a grid
        chosen = "; ".join(f"{mn}: " + ", ".join(f"{k}={v}" for k, v in sorted((e.get("params") or {}).items())
                                                 if any(t["params"].get(k) != v for t in e["trials"]))
                           for mn, e in sorted(man["models"].items()) if e.get("trials")) or "-"
        secs = sum(c.get("wall_seconds", 0) for c in man.get("costs") or [])
        g = lambda s, k: f"{s[k]:.4f}" if isinstance(s.get(k), (int, float)) else "n/a"
        print(f"| {ds} | {name} | {chosen} | {m['ndcg@10']:.4f} | {m['hr@10']:.4f} | {order[0]}: {g(src,'recall@100')} / {g(src,'recall@200')} | {g(cs,'recall@100')} / {g(cs,'recall@200')} / {g(cs,'recall@500')} | {g(fs,'recall@100')} | {m['coverage@10']:.4f} | {secs:.0f} |")
PY
# Paired per-step differences from the baseline (the first file), clustered by user.
for ds in $sets; do
  [ -f "$out/$ds.json" ] || continue
  echo; echo "$ds:"
  go run ./bench/pairdiff --data "$data/$ds" --models "$out/$ds" ${cfgs//,/ }
done
python3 - "$out" "$sim_cfgs" <<'PY'
import json, os, sys
out, cfgs = sys.argv[1], sys.argv[2].split(",")
rows = []
for cfg in cfgs:
    name = os.path.basename(cfg)[:-5]
    p = os.path.join(out, f"sim-{name}.json")
    if not os.path.exists(p):
        continue
    r = json.load(open(p)); rs = r["rounds"]
    avg = lambda f: sum(f(x) for x in rs) / len(rs)
    t = open(os.path.join(out, f"sim-{name}.time")).read().split()
    rows.append(f"| {name} | {len(rs)} | {avg(lambda x: x['reward']['cascade']):.3f} | {avg(lambda x: x['reward']['oracle']):.3f} | "
                f"{avg(lambda x: x['reward_vs_oracle']['cascade']):.3f} | {avg(lambda x: x['candidate_ceiling']['cascade'] / x['reward']['oracle']):.3f} | "
                f"{avg(lambda x: x['junk_share']['cascade']):.3f} | {avg(lambda x: x['candidate_junk_share']['cascade']):.3f} | "
                f"{avg(lambda x: x['coverage']['cascade']):.3f} | {t[0]} / {float(t[1]) + float(t[2]):.0f} |")
if rows:
    print("\n| pipeline (simulation) | rounds | reward | oracle | reward / oracle | candidate ceiling / oracle | junk share of slates | junk share of candidates | coverage | wall s / CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
PY
