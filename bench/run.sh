#!/usr/bin/env bash
# rnnflow vs PyTorch training throughput on configurations a-d of
# ../shared/bench/README.md (the shared folder beside the repository), alternating the two systems, several
# repetitions each, at 2 threads and at 1 thread. Prints a markdown table
# (medians) and keeps every RESULT line in $OUT_DIR/results.jsonl.
#
#   bench/run.sh                       # 5 repetitions, configs a b c d, threads 2 1
#   REPS=3 CONFIGS="a c" THREADS="2" bench/run.sh
#
# Environment:
#   BUILD_DIR   rnnflow build with train_bench (default: <repo>/build-bench)
#   SHARED_DIR  the shared folder (default: <repo>/../shared)
#   TORCH_BENCH torch_rnn_bench.py (default: $SHARED_DIR/bench/torch_rnn_bench.py)
#   PYTHON      Debian's python with torch (default: /usr/bin/python3)
#   REPS, CONFIGS, THREADS, SECONDS_PER_RUN (rnnflow timed seconds, default 3)
#   QUIET_CPUS  start a run only when other processes use less than this many
#               CPUs (default 0.3), waiting at most MAX_WAIT seconds (default 120)
#   OUT_DIR     where results go (default: a new /tmp/rnnflow-bench.XXXX)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-bench}"
SHARED_DIR="${SHARED_DIR:-$ROOT/../shared}"
TORCH_BENCH="${TORCH_BENCH:-$SHARED_DIR/bench/torch_rnn_bench.py}"
PYTHON="${PYTHON:-/usr/bin/python3}"
REPS="${REPS:-5}"
CONFIGS="${CONFIGS:-a b c d}"
THREADS="${THREADS:-2 1}"
SECONDS_PER_RUN="${SECONDS_PER_RUN:-3}"
QUIET_CPUS="${QUIET_CPUS:-0.3}"
MAX_WAIT="${MAX_WAIT:-120}"
OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/rnnflow-bench.XXXX)}"
mkdir -p "$OUT_DIR"
RESULTS="$OUT_DIR/results.jsonl"
LOG="$OUT_DIR/run.log"

BENCH="$BUILD_DIR/train_bench"
if [[ ! -x "$BENCH" ]]; then
  echo "no $BENCH; build first:" >&2
  echo "  cmake -S $ROOT -B $BUILD_DIR -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD_DIR -j2 --target train_bench" >&2
  exit 1
fi

# T and N of each configuration (torch_rnn_bench.py's CONFIGS).
declare -A T_OF=([a]=50 [b]=25 [c]=128 [d]=50)
declare -A N_OF=([a]=64 [b]=128 [c]=64 [d]=64)

# CPUs kept busy by all processes over one second (from /proc/stat).
busy_cpus() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    printf "%.2f", (y[1] - x[1]) / (y[2] - x[2]) * n }'
}

# Waits until the machine is quiet (or MAX_WAIT passed); prints the busy CPUs seen.
wait_quiet() {
  local waited=0 busy
  while :; do
    busy=$(busy_cpus)
    if awk -v b="$busy" -v q="$QUIET_CPUS" 'BEGIN { exit !(b < q) }'; then break; fi
    if (( waited >= MAX_WAIT )); then break; fi
    sleep 4
    waited=$((waited + 5))
  done
  echo "$busy"
}

# Appends one RESULT json (with system, rep and the pre-run load added).
record() {
  local system=$1 rep=$2 busy=$3 file=$4
  local line
  line=$(grep '^RESULT ' "$file" | tail -1 | sed 's/^RESULT //') || true
  if [[ -z "$line" ]]; then
    echo "  $system failed:" >&2
    tail -5 "$file" >&2
    return 0
  fi
  # The model is named by its path in the repository, wherever the clone is.
  "$PYTHON" -c 'import json, os, sys
r = json.loads(sys.argv[1]); r["system"] = sys.argv[2]; r["rep"] = int(sys.argv[3])
r["busy_before"] = float(sys.argv[4]); r["uptime"] = sys.argv[5]
if "model" in r: r["model"] = os.path.relpath(r["model"], sys.argv[6])
print(json.dumps(r))' "$line" "$system" "$rep" "$busy" "$(uptime)" "$ROOT" >> "$RESULTS"
}

# PyTorch at its best (../shared/bench/README.md): on OpenBLAS, not the
# reference BLAS, choosing its own kernels, so this environment's
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (which pin older kernels) are unset for
# it alone. The kernel it runs is checked and recorded.
TORCH_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
TORCH_BLAS=$("${TORCH_ENV[@]}" "$PYTHON" -c '
import ctypes, torch
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "openblas" in l})
if not libs: raise SystemExit("PyTorch loaded no OpenBLAS: apt-get install libopenblas0-openmp")
lib = ctypes.CDLL(libs[-1])
lib.openblas_get_config.restype = ctypes.c_char_p
lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode(), "kernels;", lib.openblas_get_config().decode())') || {
  echo "$TORCH_BLAS" >&2
  exit 1
}

{
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  $(uname -n)  $(nproc) CPUs"
  echo "# PyTorch BLAS: $TORCH_BLAS"
  echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g')"
  echo "# load at start: $(uptime)"
  echo "# git: $(git -C "$ROOT" rev-parse --short HEAD)"
} | tee "$LOG"

for rep in $(seq 1 "$REPS"); do
  for threads in $THREADS; do
    for c in $CONFIGS; do
      T=${T_OF[$c]}
      N=${N_OF[$c]}
      busy=$(wait_quiet)
      echo "threads=$threads rep=$rep config=$c rnnflow (busy before: $busy)" | tee -a "$LOG"
      OMP_NUM_THREADS=$threads "$BENCH" --model "$ROOT/bench/models/$c.pbtxt" --config "$c" \
        --T "$T" --N "$N" --threads "$threads" --seconds "$SECONDS_PER_RUN" \
        > "$OUT_DIR/last.out" 2>&1 || true
      record rnnflow "$rep" "$busy" "$OUT_DIR/last.out"

      busy=$(wait_quiet)
      echo "threads=$threads rep=$rep config=$c pytorch (busy before: $busy)" | tee -a "$LOG"
      if [[ $threads == 1 ]]; then
        "${TORCH_ENV[@]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
          "$PYTHON" "$TORCH_BENCH" --config "$c" --threads 1 > "$OUT_DIR/last.out" 2>&1 || true
      else
        "${TORCH_ENV[@]}" OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS="$threads" \
          OPENBLAS_NUM_THREADS="$threads" \
          "$PYTHON" "$TORCH_BENCH" --config "$c" --threads "$threads" \
          > "$OUT_DIR/last.out" 2>&1 || true
      fi
      record pytorch "$rep" "$busy" "$OUT_DIR/last.out"
    done
  done
done

echo "# load at end: $(uptime)" | tee -a "$LOG"
"$PYTHON" "$ROOT/bench/summarize.py" "$RESULTS" | tee "$OUT_DIR/table.md"
echo "results: $RESULTS"
