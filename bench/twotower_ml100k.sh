#!/usr/bin/env bash
# Quality of the two-tower variants (plain, logQ, serving prior β·log P) on MovieLens 100K with
# the replay-v1 split: hr@10, ndcg@10, mrr@10 and recall@500 of a replay over the test events.
# The data set is read from shared/datasets/ml-100k (or $TWOTOWER_ML100K); it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
TWOTOWER_QUALITY=1 go test -count=1 -timeout 60m -run '^TestQualityML100K$' -v ./candidates/twotower/
