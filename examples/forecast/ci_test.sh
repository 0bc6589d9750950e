#!/usr/bin/env bash
# CI check of examples/forecast on the yearly sunspot numbers (1700-2008):
# train the example model briefly in both modes, stateful and windowed
# (W = 11), and require each to beat persistence clearly on the test years,
# one and three years ahead; predict --horizon prints the next rows.
# Fetches the 5 KB data set (a Debian package) when it is not cached; exits
# 77 (ctest: skipped) when it cannot be fetched.
# Usage: ci_test.sh RNNFLOW_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
RNNFLOW=$1
SRC=$2
WORK=$3
DATA=${RNNFLOW_DATA:-$SRC/data}
if [ ! -f "$DATA/sunspots.csv" ]; then
  RNNFLOW_DATA=$DATA "$SRC/scripts/fetch-data" sunspots >/dev/null 2>&1 || {
    echo "sunspots is not cached and cannot be fetched: skipped"
    exit 77
  }
fi
MODEL=$SRC/examples/forecast/model.pbtxt
rm -rf "$WORK"
mkdir -p "$WORK"
"$RNNFLOW" prepare series "$DATA/sunspots.csv" --column SUNACTIVITY --valid 0.15 --test 0.15 \
  --out "$WORK/sunspots" >"$WORK/prepare.log"
"$RNNFLOW" train "$MODEL" --data "$WORK/sunspots" --truncation-steps 11 --streams-per-worker 4 \
  --steps 300 --log-every 100 --checkpoint-dir "$WORK/stateful"
"$RNNFLOW" train "$MODEL" --data "$WORK/sunspots" --window 11 --steps 300 --log-every 100 \
  --checkpoint-dir "$WORK/windowed"
for mode in stateful windowed; do
  "$RNNFLOW" eval "$MODEL" --checkpoint "$WORK/$mode" --data "$WORK/sunspots" --split test \
    --season 11 --horizon 3 | tee "$WORK/$mode.eval"
  # "RMSE / persistence RMSE x" at h = 1 and h = 3
  for h in 1 3; do
    ratio=$(grep "h=$h " "$WORK/$mode.eval" | grep -o 'RMSE / persistence RMSE [0-9.]*' |
      awk '{print $NF}')
    echo "$mode h=$h: RMSE / persistence $ratio (threshold 0.75)"
    awk -v r="$ratio" 'BEGIN { exit !(r > 0 && r < 0.75) }'
  done
done
grep -q "each from a zero state over the last 11 rows" "$WORK/windowed.eval"
out=$(tail -n 20 "$DATA/sunspots.csv" | cut -d, -f2 |
  "$RNNFLOW" predict "$MODEL" --checkpoint "$WORK/windowed" --data "$WORK/sunspots" --horizon 3)
echo "$out"
[ "$(echo "$out" | grep -cE '^-?[0-9.e+-]+$')" = 3 ]
