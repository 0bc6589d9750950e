#!/usr/bin/env bash
# Wall-clock time to each validation result of a training run: the
# char-LM figure of issue 3 ("PyTorch's 10-minute validation loss in at most
# half the time"). Prefixes every line of `rnnflow train` with the seconds
# since the start (set-up, steps and validations included) and prints the
# first time the validation loss (nats) reached TARGET, if it did.
#
#   bench/time_to_loss.sh TARGET_NATS rnnflow train examples/char_lm/model.pbtxt \
#       --data data/moby-dick.txt --steps 2000 --valid-every 100 --threads 2
#
# 2.16 bits/char = 1.4972 nats. Run it on a quiet machine.
set -euo pipefail
target=$1
shift
start=$EPOCHREALTIME
"$@" 2>&1 | while IFS= read -r line; do
  printf '%s %s\n' "$EPOCHREALTIME" "$line"
done | awk -v target="$target" -v start="$start" '
  { t = $1 - start; $1 = sprintf("%7.1f s ", t); print; fflush() }
  /validation at step/ && !hit {
    for (i = 1; i <= NF; ++i) if ($i == "loss") { loss = $(i + 1); sub(/,/, "", loss) }
    if (loss + 0 <= target) { hit = 1; when = t; line = $0 }
  }
  END {
    if (hit) printf "reached %s nats after %.1f s: %s\n", target, when, line
    else printf "did not reach %s nats\n", target
  }'
