#!/usr/bin/env bash
# Fleet benchmark (issue 14): the live history in the file log vs in Redis, and 1 vs 2 replicas
# sharing one Redis behind the load generator's round robin, in one run on this machine.
#
# Usage: bash bench/fleet.sh [OUT_DIR]
#   RATE=500 (req/s of the comparison runs)  HIGH=1000 (req/s of the capacity runs)
#   DURATION=30s (each run)  ROUNDS=2 (file/Redis alternations)
#   SOAK=10m: then the soak run — two replicas following a Redis bundle pointer, at SOAK_RATE
#   (default 2×RATE) for SOAK, the pointer moved between two bundles every ROLLOUT_EVERY (60 s);
#   it reports failed requests, degraded answers and the rollouts each replica applied.
#   ONLY_SOAK=1 skips the comparison runs.
#
# It generates a synthetic world (6,000 users, 4,000 items, 300,000 events), trains an iALS
# pipeline on it, starts redis-server (AOF, appendfsync always) on a free loopback port with its
# files in OUT_DIR, and three replicas: F (file log), R1 and R2 (--history redis://…). It posts
# 200,000 events for the data set's users through F and through R1 (so that every user has a
# live history to read: ~33 events each), then drives bench/loadgen (open loop, latency from
# each request's scheduled start) and prints a Markdown table. Everything listens on 127.0.0.1
# and stops at the end (or on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
rate=${RATE:-500}
high=${HIGH:-1000}
duration=${DURATION:-30s}
rounds=${ROUNDS:-2}
mkdir -p "$out"
out=$(cd "$out" && pwd)
command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install -y redis-server)" >&2; exit 1; }

go build -o "$out/cascade" ./cmd/cascade
go build -o "$out/loadgen" ./bench/loadgen
cat >"$out/fleet.yaml" <<'EOF'
name: fleet
models:
  ials:
    type: ials
    params: {factors: 64, alpha: 2, reg: 3, iterations: 10, solver: cg}
retrieve:
  sources:
    - {model: ials, k: 500}
final:
  k: 100
EOF
[ -f "$out/world/events.csv" ] || "$out/cascade" gen --out "$out/world" --users 6000 --items 4000 --events 300000 --impressions 0 --seed 1 -q --no-progress
[ -f "$out/bundles/v1/manifest.json" ] || "$out/cascade" train --config "$out/fleet.yaml" --data "$out/world" --out "$out/bundles/v1" -q --no-progress

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

rport=$(free_port)
rm -rf "$out/redis" && mkdir -p "$out/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$out/redis" --appendonly yes --appendfsync always \
  --save "" --daemonize no --logfile "$out/redis.log" &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis="redis://127.0.0.1:$rport/0"

# serve NAME [flags…]: a replica on free ports; sets PUB_NAME and ADM_NAME.
serve() {
  local name=$1; shift
  local p a
  p=$(free_port); a=$(free_port)
  rm -rf "$out/state-$name"
  "$out/cascade" serve --config "$out/fleet.yaml" --data "$out/world" --models "$out/bundles/v1" \
    --addr "127.0.0.1:$p" --admin-addr "127.0.0.1:$a" --state "$out/state-$name" --served-log off --drain 0 \
    "$@" >"$out/serve-$name.log" 2>&1 &
  pids+=($!)
  printf -v "PUB_$name" '%s' "http://127.0.0.1:$p"
  printf -v "ADM_$name" '%s' "http://127.0.0.1:$a"
}
serve F
serve R1 --history "$redis"
serve R2 --history "$redis"

lg() { "$out/loadgen" -data "$out/world" "$@"; }
redis_cpu() { redis-cli -p "$rport" info cpu | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.3f", s}'; }

echo "populating the live histories (200,000 events for the data set's users, per store)"
lg -mode events -data-users -events 200000 -users 6000 -batch 100 -c 8 -url "$PUB_F" -admin "$ADM_F" >"$out/populate-file.txt"
lg -mode events -data-users -events 200000 -users 6000 -batch 100 -c 8 -url "$PUB_R1" -admin "$ADM_R1" >"$out/populate-redis.txt"
grep -h "^posted" "$out"/populate-*.txt

# run NAME RATE URLS ADMINS
run() {
  local name=$1 r=$2 urls=$3 admins=$4 c0 c1
  c0=$(redis_cpu)
  lg -rate "$r" -duration "$duration" -url "$urls" -admin "$admins" >"$out/run-$name.txt"
  c1=$(redis_cpu)
  echo "redis CPU ${c0} -> ${c1} s" >>"$out/run-$name.txt"
  echo "run $name done"
}
if [ -z "${ONLY_SOAK:-}" ]; then
for i in $(seq "$rounds"); do
  run "file-$rate-$i" "$rate" "$PUB_F" "$ADM_F"
  run "redis1-$rate-$i" "$rate" "$PUB_R1" "$ADM_R1"
done
run "redis2-$rate" "$rate" "$PUB_R1,$PUB_R2" "$ADM_R1,$ADM_R2"
run "redis1-$high" "$high" "$PUB_R1" "$ADM_R1"
run "redis2-$high" "$high" "$PUB_R1,$PUB_R2" "$ADM_R1,$ADM_R2"
run "file-$high" "$high" "$PUB_F" "$ADM_F"
fi

if [ -n "${SOAK:-}" ]; then
  soak_rate=${SOAK_RATE:-$((2 * rate))}
  every=${ROLLOUT_EVERY:-60}
  # A second bundle that differs (one more iteration), so that each rollout loads a new model.
  sed 's/iterations: 10/iterations: 11/' "$out/fleet.yaml" >"$out/fleet-v2.yaml"
  [ -f "$out/bundles/v2/manifest.json" ] || "$out/cascade" train --config "$out/fleet-v2.yaml" --data "$out/world" --out "$out/bundles/v2" -q --no-progress
  redis-cli -p "$rport" SET cascade:bundle:current v1 >/dev/null
  serve S1 --history "$redis" --bundles "$out/bundles" --rollout "$redis" --rollout-interval 1s
  serve S2 --history "$redis" --bundles "$out/bundles" --rollout "$redis" --rollout-interval 1s
  for _ in $(seq 100); do curl -sf "$ADM_S1/readyz" >/dev/null && curl -sf "$ADM_S2/readyz" >/dev/null && break; sleep 0.2; done
  (
    v=v1
    while sleep "$every"; do
      if [ "$v" = v1 ]; then v=v2; else v=v1; fi
      redis-cli -p "$rport" SET cascade:bundle:current "$v" >/dev/null
      echo "$(date -u +%T) pointer -> $v"
    done
  ) >"$out/soak-pointer.log" 2>&1 &
  mover=$!
  pids+=("$mover")
  c0=$(redis_cpu)
  lg -rate "$soak_rate" -duration "$SOAK" -url "$PUB_S1,$PUB_S2" -admin "$ADM_S1,$ADM_S2" >"$out/soak.txt"
  kill "$mover" 2>/dev/null || true
  echo "redis CPU ${c0} -> $(redis_cpu) s" >>"$out/soak.txt"
  echo
  echo "soak: $SOAK at $soak_rate req/s over S1+S2, pointer moved every ${every} s ($(grep -c pointer "$out/soak-pointer.log") moves)"
  grep -E "achieved|status map|transport errors|degraded by|latency from schedule" "$out/soak.txt" || true
  for r in S1 S2; do
    adm=ADM_$r
    printf '%s: ' "$r"
    curl -s "${!adm}/metrics" | grep -E '^cascade_rollout_(applied|refused)_total' | tr '\n' ' '
    echo
  done
fi

python3 - "$out" <<'PY'
import glob, os, re, sys
out = sys.argv[1]
def num(pat, text, i=1, default=float("nan")):
    m = re.search(pat, text)
    return float(m.group(i)) if m else default
rows = []
for path in sorted(glob.glob(os.path.join(out, "run-*.txt")), key=os.path.getmtime):
    t = open(path).read()
    name = os.path.basename(path)[4:-4]
    store, rate = name.split("-")[0], name.split("-")[1]
    answered = num(r"achieved ([\d.]+) answers/s", t)
    ok = num(r"status map\[200:(\d+)", t, default=0)
    bad = sum(int(n) for code, n in re.findall(r"(\d+):(\d+)", (re.search(r"status map\[([^\]]*)\]", t) or [None, ""])[1]) if code != "200")
    transport = num(r"transport errors (\d+)", t, default=0)
    degraded = num(r"degraded by deadline or pipeline error: (\d+)", t, default=0)
    p50 = num(r"latency from schedule ms: p50 ([\d.]+)", t)
    p99 = num(r"latency from schedule ms: p50 [\d.]+\s+p90 [\d.]+\s+p99 ([\d.]+)", t)
    hp99 = num(r"server-side \(handler\) ms:\s+p50 [\d.]+\s+p90 [\d.]+\s+p99 ([\d.]+)", t)
    cpu = num(r"= ([\d.]+) ms per answer", t)
    read_mean = num(r"live history reads: .*?mean ([\d.]+) ms", t)
    share = num(r"= ([\d.]+) % of the handler", t)
    read_p99 = num(r"p99 ([\d.]+) ms \(interpolated\)", t)
    c0 = num(r"redis CPU ([\d.]+) -> ([\d.]+) s", t, 1); c1 = num(r"redis CPU ([\d.]+) -> ([\d.]+) s", t, 2)
    rcpu = (c1 - c0) * 1000 / ok if ok and store != "file" else float("nan")
    rows.append((name, answered, int(bad + transport), int(degraded), p50, p99, hp99, cpu, rcpu, read_mean, read_p99, share))
def f(x, d=2):
    return "—" if x != x else f"{x:.{d}f}"
print("| run | answered/s | failed | degraded | p50 ms | p99 ms | handler p99 ms | server CPU ms/answer | Redis CPU ms/answer | history read mean ms | history read p99 ms | history share of handler time |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r[0]} | {f(r[1],1)} | {r[2]} | {r[3]} | {f(r[4])} | {f(r[5])} | {f(r[6])} | {f(r[7])} | {f(r[8],3)} | {f(r[9],3)} | {f(r[10],3)} | {f(r[11],1)} % |")
PY
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; outputs in $out"
