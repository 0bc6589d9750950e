#!/usr/bin/env bash
# Data-parallel scaling on this machine, char-LM (configuration c of
# ../shared/bench/README.md, the shared folder beside the repository): 1 rank x 1 thread vs 2 ranks x 1 thread
# (weak scaling: 64 streams per rank, T = 128), rnnflow (`rnnflow train` under
# mpirun, bucketed overlapped all-reduce) beside PyTorch DistributedDataParallel
# with gloo ($SHARED_DIR/bench/ddp_bench.py, same model and per-rank batch).
# The four runs alternate, REPS times; prints a markdown table of medians and
# keeps the raw results in $OUT_DIR.
#
#   bench/scaling.sh                  # REPS=3, STEPS=30
#   REPS=5 STEPS=40 bench/scaling.sh
#
# Efficiency = 2-rank tokens/s / (2 x 1-rank tokens/s), from median step
# times (rnnflow: the --metrics "seconds" of every step after the first
# WARMUP; PyTorch: ddp_bench's step_s_median after its warm-up steps).
#
# Environment: BUILD_DIR (default <repo>/build), PYTHON (/usr/bin/python3, with
# torch), SHARED_DIR (<repo>/../shared), DDP_BENCH, REPS, STEPS, WARMUP (5), BUCKET_MB (rnnflow --bucket-mb,
# default 4: the char-LM's 3.5 MB of gradients then travel as one bucket, after
# the whole backward pass; 1 gives 4 buckets that overlap it), QUIET_CPUS (0.3) and MAX_WAIT
# (120 s): wait for a quiet machine before each run, OUT_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
PYTHON="${PYTHON:-/usr/bin/python3}"
SHARED_DIR="${SHARED_DIR:-$ROOT/../shared}"
DDP_BENCH="${DDP_BENCH:-$SHARED_DIR/bench/ddp_bench.py}"
REPS="${REPS:-3}"
STEPS="${STEPS:-30}"
WARMUP="${WARMUP:-5}"
BUCKET_MB="${BUCKET_MB:-4}"
QUIET_CPUS="${QUIET_CPUS:-0.3}"
MAX_WAIT="${MAX_WAIT:-120}"
OUT_DIR="${OUT_DIR:-$(mktemp -d /tmp/rnnflow-scaling.XXXX)}"
mkdir -p "$OUT_DIR"
RNNFLOW="$BUILD_DIR/rnnflow"
MODEL="$ROOT/bench/models/c_lm.pbtxt"
DATA="$OUT_DIR/moby-char"
ROOT_FLAG=()
[[ $(id -u) == 0 ]] && ROOT_FLAG=(--allow-run-as-root)

[[ -x "$RNNFLOW" ]] || { echo "no $RNNFLOW: build first" >&2; exit 1; }
[[ -f "$ROOT/data/moby-dick.txt" ]] || { echo "no data/moby-dick.txt: scripts/fetch-data moby-dick" >&2; exit 1; }
# Character level, characters seen fewer than 600 times -> <unk>: a
# vocabulary within the model's 65.
"$RNNFLOW" prepare text "$ROOT/data/moby-dick.txt" --out "$DATA" --level char --min-count 600 \
  > "$OUT_DIR/prepare.log"

# CPUs kept busy by all processes over one second (from /proc/stat).
busy_cpus() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN {
    split(a, x, " "); split(b, y, " "); printf "%.2f", (y[1] - x[1]) / (y[2] - x[2]) * n }'
}
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

echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) CPUs, $(lscpu | sed -n 's/Model name: *//p')" |
  tee "$OUT_DIR/run.log"
echo "# git $(git -C "$ROOT" rev-parse --short HEAD); --bucket-mb $BUCKET_MB; load at start: $(uptime)" | tee -a "$OUT_DIR/run.log"
TRAIN=(train "$MODEL" --data "$DATA" --steps "$STEPS" --no-validation --log-every 1000)
for rep in $(seq 1 "$REPS"); do
  busy=$(wait_quiet)
  echo "rep $rep rnnflow 1 rank (busy before $busy)" | tee -a "$OUT_DIR/run.log"
  OMP_NUM_THREADS=1 taskset -c 0 "$RNNFLOW" "${TRAIN[@]}" --threads 1 \
    --metrics "$OUT_DIR/rnnflow-1-$rep.jsonl" > "$OUT_DIR/rnnflow-1-$rep.log" 2>&1
  echo "$busy" > "$OUT_DIR/rnnflow-1-$rep.busy"

  busy=$(wait_quiet)
  echo "rep $rep rnnflow 2 ranks (busy before $busy)" | tee -a "$OUT_DIR/run.log"
  mpirun "${ROOT_FLAG[@]}" -np 2 --bind-to core -x OMP_NUM_THREADS=1 "$RNNFLOW" "${TRAIN[@]}" \
    --threads 1 --bucket-mb "$BUCKET_MB" --metrics "$OUT_DIR/rnnflow-2-$rep.jsonl" > "$OUT_DIR/rnnflow-2-$rep.log" 2>&1
  echo "$busy" > "$OUT_DIR/rnnflow-2-$rep.busy"

  busy=$(wait_quiet)
  echo "rep $rep pytorch 1 process (busy before $busy)" | tee -a "$OUT_DIR/run.log"
  taskset -c 0 "$PYTHON" "$DDP_BENCH" --mode single --per-rank-batch 64 --steps "$STEPS" \
    --warmup "$WARMUP" > "$OUT_DIR/pytorch-1-$rep.log" 2>&1 || true
  echo "$busy" > "$OUT_DIR/pytorch-1-$rep.busy"

  busy=$(wait_quiet)
  echo "rep $rep pytorch DDP 2 ranks (busy before $busy)" | tee -a "$OUT_DIR/run.log"
  "$PYTHON" "$DDP_BENCH" --mode ddp --nproc 2 --per-rank-batch 64 --steps "$STEPS" \
    --warmup "$WARMUP" > "$OUT_DIR/pytorch-2-$rep.log" 2>&1 || true
  echo "$busy" > "$OUT_DIR/pytorch-2-$rep.busy"
done
echo "# load at end: $(uptime)" | tee -a "$OUT_DIR/run.log"

"$PYTHON" - "$OUT_DIR" "$REPS" "$WARMUP" << 'SUMMARY' | tee "$OUT_DIR/table.md"
import json, statistics, sys
out, reps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
T, N = 128, 64

def rnnflow(ranks, rep):
    steps, comm, exposed = [], [], []
    for line in open(f"{out}/rnnflow-{ranks}-{rep}.jsonl"):
        r = json.loads(line)
        if "seconds" not in r or r["step"] <= warmup:
            continue
        steps.append(r["seconds"])
        comm.append(r.get("comm_seconds", 0))
        exposed.append(r.get("comm_exposed_seconds", 0))
    m = statistics.median(steps)
    return dict(tps=T * N * ranks / m, step=m, comm=statistics.median(comm),
                exposed=statistics.median(exposed))

def pytorch(ranks, rep):
    for line in open(f"{out}/pytorch-{ranks}-{rep}.log"):
        if line.startswith("RESULT "):
            r = json.loads(line[7:])
            m = r["step_s_median"]
            return dict(tps=T * N * ranks / m, step=m, others=r.get("others_busy_cpus"))
    return None

rows = {}
for system, get in (("rnnflow", rnnflow), ("PyTorch DDP gloo", pytorch)):
    one, two, eff = [], [], []
    for rep in range(1, reps + 1):
        try:
            a, b = get(1, rep), get(2, rep)
        except (OSError, ValueError, KeyError, statistics.StatisticsError):
            a = b = None
        if not a or not b:
            print(f"# {system} rep {rep}: a run failed, see {out}", file=sys.stderr)
            continue
        one.append(a); two.append(b); eff.append(b["tps"] / (2 * a["tps"]))
    rows[system] = (one, two, eff)

print("| system | 1 rank x 1 thread tokens/s (step ms) | 2 ranks x 1 thread tokens/s (step ms) "
      "| **efficiency** (per rep) |")
print("| --- | ---: | ---: | ---: |")
for system, (one, two, eff) in rows.items():
    if not eff:
        continue
    med = lambda xs, k: statistics.median(x[k] for x in xs)
    print(f"| {system} | {med(one, 'tps'):,.0f} ({1e3 * med(one, 'step'):.1f}) "
          f"| {med(two, 'tps'):,.0f} ({1e3 * med(two, 'step'):.1f}) "
          f"| **{statistics.median(eff):.1%}** ({', '.join(f'{e:.0%}' for e in eff)}) |")
one, two, eff = rows["rnnflow"]
if eff:
    comm = statistics.median(x["comm"] for x in two)
    exposed = statistics.median(x["exposed"] for x in two)
    print(f"\nrnnflow, 2 ranks: all-reduce {1e3 * comm:.2f} ms per step (first bucket start to last "
          f"end), of which {1e3 * exposed:.2f} ms exposed (waited for in Finish): "
          f"{max(0.0, 1 - exposed / comm) if comm > 0 else 0:.0%} overlapped with the backward pass.")
SUMMARY
echo "results: $OUT_DIR"
