#!/usr/bin/env bash
# Training throughput (examples/s) of Cascade's Go two-tower against a PyTorch CPU twin of the
# same architecture and batch size (bench/twotower_torch.py), on the same synthetic log, in the
# same run. The two alternate ROUNDS times so that background load hits both alike.
#
#   bench/twotower_vs_torch.sh            # ROUNDS=2 BATCHES=60
#
# Needs Debian's python3-torch; installs it (and OpenBLAS, without which Debian's torch falls
# back to the reference BLAS at ~2.6 GFLOP/s) when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
BATCHES=${BATCHES:-60}
# PyTorch runs with each of these thread counts: on a loaded machine OpenMP's spinning workers
# can make 2 threads slower than 1, so the best of them is the bar.
TORCH_THREADS=${TORCH_THREADS:-"2 1"}
PY=/usr/bin/python3

if ! "$PY" -c 'import torch' 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go test -c -o "$dir/twotower.test" ./candidates/twotower/
for r in $(seq "$ROUNDS"); do
	TWOTOWER_BENCH_DIR="$dir/data" TWOTOWER_BENCH_BATCHES="$BATCHES" \
		"$dir/twotower.test" -test.run '^TestThroughputForTorchComparison$' -test.v | grep '"impl"' >>"$dir/results"
	for th in $TORCH_THREADS; do
		"$PY" bench/twotower_torch.py "$dir/data" --batches "$BATCHES" --threads "$th" >>"$dir/results"
	done
done

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: ROUNDS=$ROUNDS BATCHES=$BATCHES TORCH_THREADS='$TORCH_THREADS' bench/twotower_vs_torch.sh"
"$PY" - "$dir/results" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| round | implementation | batch | batches | examples/s |")
print("|---:|---|---:|---:|---:|")
runs = {}
rnd = 0
for r in rows:
    rnd += r["impl"] == "go"
    name = "Go (cascade nn, %d workers)" % r["workers"] if r["impl"] == "go" else "PyTorch %s (%d threads)" % (r["torch"], r["threads"])
    print("| %d | %s | %d | %d | %.0f |" % (rnd, name, r["batch_size"], r["batches"], r["examples_per_s"]))
    runs.setdefault(name, []).append(r["examples_per_s"])
print()
print("| implementation | median examples/s | best examples/s |")
print("|---|---:|---:|")
for name, v in runs.items():
    print("| %s | %.0f | %.0f |" % (name, statistics.median(v), max(v)))
go = [statistics.median(v) for n, v in runs.items() if n.startswith("Go")][0]
torch = max(statistics.median(v) for n, v in runs.items() if n.startswith("PyTorch"))
print()
print("Go / fastest PyTorch configuration, medians: %.2fx" % (go / torch))
PYEOF
