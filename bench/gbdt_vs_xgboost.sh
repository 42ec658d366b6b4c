#!/usr/bin/env bash
# Trains LambdaMART on shared/datasets/ltr-synth with Cascade's GBDT trainer and with Debian's
# xgboost CLI (tree_method=hist, objective=rank:ndcg) in the same run, with the parameters of
# the LightGBM 4.6 reference in ltr-synth/README.md, and prints a markdown table: wall and CPU
# time of training, NDCG@k on test.tsv (LightGBM's definition, computed by `cascade gbdt eval`
# for both). Also reproduces LightGBM's figures on ltr-lightgbm-example.
#
#   bash bench/gbdt_vs_xgboost.sh            # needs: go, xgboost (apt-get install xgboost)
#   TREES=50 bash bench/gbdt_vs_xgboost.sh   # quicker
#   RUNS=3 bash bench/gbdt_vs_xgboost.sh     # 3 alternated runs of each; medians in the table
#
# Environment: DATA (default ../shared/datasets beside the repo), WORK (scratch dir), TREES (300),
# THREADS (2), RUNS (1).
#
# On a shared machine wall times say more about the other jobs than about the trainers, and
# xgboost's OpenMP threads suffer most (they spin and wait for each other): compare CPU
# seconds over several alternated runs, and quote the load averages printed with them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/datasets}
SYNTH=$DATA/ltr-synth
EXAMPLE=$DATA/ltr-lightgbm-example
WORK=${WORK:-$(mktemp -d /tmp/gbdt-bench.XXXXXX)}
TREES=${TREES:-300}
THREADS=${THREADS:-2}
RUNS=${RUNS:-1}

[ -f "$SYNTH/train.tsv" ] || { echo "no $SYNTH/train.tsv (set DATA=.../shared/datasets)" >&2; exit 1; }
command -v xgboost >/dev/null || { echo "xgboost not found: apt-get update && apt-get install -y xgboost" >&2; exit 1; }
mkdir -p "$WORK"
echo "work dir: $WORK" >&2

(cd "$ROOT" && go build -o "$WORK/cascade" ./cmd/cascade)
CASCADE=$WORK/cascade

# TSV + .query -> libsvm with qid: (the xgboost CLI does not pick up .group files beside a
# "?format=libsvm" URI; qid works).
to_libsvm() {
	awk -F'\t' -v qf="$1.query" '
		BEGIN { q = 0; left = 0 }
		{
			if (left == 0) { q++; if ((getline n < qf) > 0) left = n; else left = 1e18 }
			printf "%s qid:%d", $1, q
			for (i = 2; i <= NF; i++) if ($i != "") printf " %d:%s", i - 2, $i
			printf "\n"; left--
		}' "$1" >"$2"
}
for f in train test; do
	[ -s "$WORK/$f.svm" ] || to_libsvm "$SYNTH/$f.tsv" "$WORK/$f.svm"
done

# seconds and CPU seconds of a command, into $WORK/$1.time
timed() {
	local name=$1
	shift
	local t0 t1
	cut -d' ' -f1 /proc/loadavg >"$WORK/$name.load"
	t0=$(date +%s.%N)
	/usr/bin/env time -f "%U %S %M" -o "$WORK/$name.cpu" "$@"
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }' >"$WORK/$name.wall"
}
if ! /usr/bin/env time -f "%U" true 2>/dev/null; then
	echo "GNU time not found (apt-get install time)" >&2
	exit 1
fi

cat >"$WORK/xgb.conf" <<EOF
booster = gbtree
objective = rank:ndcg
tree_method = hist
grow_policy = lossguide
max_leaves = 31
max_depth = 0
eta = 0.1
subsample = 0.9
max_bin = 255
lambda = 0
num_round = $TREES
nthread = $THREADS
seed = 7
data = "$WORK/train.svm?format=libsvm"
model_out = "$WORK/xgb.model"
EOF
for run in $(seq "$RUNS"); do
	echo "run $run/$RUNS: training cascade ($TREES trees)..." >&2
	timed "cascade.$run" "$CASCADE" --no-progress --quiet gbdt train --data "$SYNTH/train.tsv" --objective lambdarank \
		--trees "$TREES" --leaves 31 --learning-rate 0.1 --min-data-in-leaf 50 --min-sum-hessian 5 \
		--max-bin 255 --bagging-fraction 0.9 --bagging-freq 1 --feature-fraction 1.0 --lambda-l2 0 \
		--seed 7 --threads "$THREADS" --out "$WORK/cascade.model.txt"
	echo "run $run/$RUNS: training xgboost ($TREES rounds)..." >&2
	timed "xgboost.$run" sh -c 'exec xgboost "$1" 2>"$2"' sh "$WORK/xgb.conf" "$WORK/xgboost.log"
done
# Medians over the runs (the lower middle for an even count), each column on its own.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for t in cascade xgboost; do
	for i in $(seq "$RUNS"); do cat "$WORK/$t.$i.wall"; echo; done | median >"$WORK/$t.wall"
	cpu=$(for i in $(seq "$RUNS"); do awk '{ print $1 + $2 }' "$WORK/$t.$i.cpu"; done | median)
	mem=$(for i in $(seq "$RUNS"); do awk '{ print $3 }' "$WORK/$t.$i.cpu"; done | median)
	echo "$cpu 0 $mem" >"$WORK/$t.cpu"
	for i in $(seq "$RUNS"); do cat "$WORK/$t.$i.load"; done | paste -sd' ' >"$WORK/$t.load"
done
xgboost "$WORK/xgb.conf" task=pred model_in="$WORK/xgb.model" test:data="$WORK/test.svm?format=libsvm" \
	name_pred="$WORK/xgb.pred" >/dev/null 2>&1

"$CASCADE" --quiet gbdt eval --model "$WORK/cascade.model.txt" --data "$SYNTH/test.tsv" --at 1,3,5,10 >"$WORK/cascade.ndcg.json"
"$CASCADE" --quiet gbdt eval --scores "$WORK/xgb.pred" --data "$SYNTH/test.tsv" --at 1,3,5,10 >"$WORK/xgb.ndcg.json"

row() { # name, json, wall, cpu file
	local j
	j=$(tr -d '{}"' <"$2")
	read -r u s mem <"$4"
	echo "$j" | awk -v n="$1" -v w="$(cat "$3")" -v u="$u" -v s="$s" -v mem="$mem" -F', ' '{
		for (i = 1; i <= NF; i++) { split($i, kv, ": "); v[i] = sprintf("%.6f", kv[2]) }
		printf "| %s | %s | %.1f | %.0f | %s | %s | %s | %s |\n", n, w, u + s, mem / 1024, v[1], v[2], v[3], v[4] }'
}

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); 1-min load average when each training started: cascade $(cat "$WORK/cascade.load"), xgboost $(cat "$WORK/xgboost.load")"
if [ "$RUNS" -gt 1 ]; then
	echo "medians of $RUNS alternated runs; each run (wall s / CPU s):"
	for t in cascade xgboost; do
		printf '  %s:' "$t"
		for i in $(seq "$RUNS"); do printf ' %s/%s' "$(cat "$WORK/$t.$i.wall")" "$(awk '{ printf "%.1f", $1 + $2 }' "$WORK/$t.$i.cpu")"; done
		echo
	done
fi
echo "cascade $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '(no commit)'), xgboost $(xgboost -V 2>&1 | awk '{print $2}'), $TREES trees, $THREADS threads"
echo
echo "| trainer | train wall s | train CPU s | max RSS MiB | ndcg@1 | ndcg@3 | ndcg@5 | ndcg@10 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row "cascade gbdt (lambdarank)" "$WORK/cascade.ndcg.json" "$WORK/cascade.wall" "$WORK/cascade.cpu"
row "xgboost $(xgboost -V 2>&1 | awk '{print $2}') hist rank:ndcg" "$WORK/xgb.ndcg.json" "$WORK/xgboost.wall" "$WORK/xgboost.cpu"
if [ "$TREES" = 300 ]; then
	echo "| LightGBM 4.6 (README) | | | | 0.899981 | 0.826330 | 0.812806 | 0.826110 |"
fi

if [ -f "$EXAMPLE/rank.train" ]; then
	"$CASCADE" --no-progress --quiet gbdt train --data "$EXAMPLE/rank.train" --objective lambdarank --trees 100 \
		--leaves 31 --learning-rate 0.1 --min-data-in-leaf 50 --min-sum-hessian 5 --max-bin 255 \
		--bagging-fraction 0.9 --bagging-freq 1 --feature-fraction 1.0 --lambda-l2 0 --seed 7 \
		--out "$WORK/example.model.txt"
	echo
	echo "ltr-lightgbm-example rank.test, 100 trees: cascade $("$CASCADE" --quiet gbdt eval --model "$WORK/example.model.txt" --data "$EXAMPLE/rank.test")"
	echo "LightGBM 4.6 (README): ndcg@1 0.654095, ndcg@3 0.663282, ndcg@5 0.705501, ndcg@10 0.769029"
	"$CASCADE" --quiet gbdt predict --model "$EXAMPLE/lightgbm-4.6-lambdarank-model.txt" --data "$EXAMPLE/rank.test" --out "$WORK/example.pred"
	paste "$WORK/example.pred" "$EXAMPLE/lightgbm-4.6-rank.test.predictions.txt" |
		awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { printf "predict with LightGBM 4.6 model: max |diff| vs LightGBM predictions = %g over %d rows\n", m, NR }'
fi
