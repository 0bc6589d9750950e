#!/usr/bin/python3
"""Summarises bench/run.sh results (JSON lines) into markdown tables.

Throughput of both systems is taken from the MEDIAN step time of a run
(rnnflow's step_ms; PyTorch's step_s_median), then the median over the runs.
The ratio column is median(rnnflow tokens/s) / median(PyTorch tokens/s); "paired"
is the median over repetitions of the ratio of the two runs made back to back.
"""
import json
import statistics
import sys
from collections import defaultdict

QUIET = 0.15  # other processes' CPUs for a run to count as quiet


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    by = defaultdict(list)  # (threads, config, system) -> runs
    for r in rows:
        if r["system"] == "rnnflow":
            threads = r["threads"]
            r["_tok"] = r["tokens_per_s"]
            r["_smp"] = r["samples_per_s"]
        else:
            threads = int(r["env_OPENBLAS"])
            r["_tok"] = r["batch"] * r["seq"] / r["step_s_median"]
            r["_smp"] = r["batch"] / r["step_s_median"]
            r["_gflops"] = r["gemm_gflop_per_step"] / r["step_s_median"]
        by[(threads, r["config"], r["system"])].append(r)

    for threads in sorted({k[0] for k in by}, reverse=True):
        peaks = [r["gemm_peak_gflops"] for (t, _, s), rs in by.items()
                 if t == threads and s == "rnnflow" for r in rs]
        print(f"\n### {threads} thread{'s' if threads > 1 else ''}"
              f" (dnnl_sgemm 2048^3 f32 peak, median of runs: {med(peaks):.0f} GFLOP/s,"
              f" range {min(peaks):.0f}-{max(peaks):.0f})\n")
        print("| config | rnnflow tokens/s | PyTorch tokens/s | ratio | paired ratio (range) "
              "| rnnflow samples/s | PyTorch samples/s | rnnflow GFLOP/s (% of GEMM peak) "
              "| PyTorch GEMM GFLOP/s (% of peak) | runs | other CPUs busy (median, max) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for config in sorted({k[1] for k in by if k[0] == threads}):
            rf = by.get((threads, config, "rnnflow"), [])
            pt = by.get((threads, config, "pytorch"), [])
            if not rf or not pt:
                continue
            rf_tok = med([r["_tok"] for r in rf])
            pt_tok = med([r["_tok"] for r in pt])
            pt_by_rep = {r["rep"]: r for r in pt}
            paired = [r["_tok"] / pt_by_rep[r["rep"]]["_tok"] for r in rf if r["rep"] in pt_by_rep]
            peak = med([r["gemm_peak_gflops"] for r in rf])
            rf_gf = med([r["gflops"] for r in rf])
            rf_pct = med([r["pct_of_gemm_peak"] for r in rf])
            pt_gf = med([r["_gflops"] for r in pt])
            others = [r["others_busy_cpus"] for r in rf + pt]
            rng = (f"{min(r['_tok'] for r in rf):,.0f}-{max(r['_tok'] for r in rf):,.0f}",
                   f"{min(r['_tok'] for r in pt):,.0f}-{max(r['_tok'] for r in pt):,.0f}")
            print(f"| {config} | {rf_tok:,.0f} ({rng[0]}) | {pt_tok:,.0f} ({rng[1]}) "
                  f"| **{rf_tok / pt_tok:.2f}x** "
                  f"| {med(paired):.2f}x ({min(paired):.2f}-{max(paired):.2f}) "
                  f"| {med([r['_smp'] for r in rf]):.1f} | {med([r['_smp'] for r in pt]):.1f} "
                  f"| {rf_gf:.0f} ({rf_pct:.0f}%) | {pt_gf:.0f} ({100 * pt_gf / peak:.0f}%) "
                  f"| {len(rf)}+{len(pt)} | {med(others):.2f}, {max(others):.2f} |")
        print()
        print(f"Only runs during which other processes kept < {QUIET} CPUs busy:\n")
        print("| config | rnnflow tokens/s | PyTorch tokens/s | ratio | runs |")
        print("| --- | --- | --- | --- | --- |")
        for config in sorted({k[1] for k in by if k[0] == threads}):
            rf = [r for r in by.get((threads, config, "rnnflow"), [])
                  if r["others_busy_cpus"] < QUIET]
            pt = [r for r in by.get((threads, config, "pytorch"), [])
                  if r["others_busy_cpus"] < QUIET]
            if not rf or not pt:
                print(f"| {config} | - | - | - | {len(rf)}+{len(pt)} |")
                continue
            rf_tok = med([r["_tok"] for r in rf])
            pt_tok = med([r["_tok"] for r in pt])
            print(f"| {config} | {rf_tok:,.0f} | {pt_tok:,.0f} | {rf_tok / pt_tok:.2f}x "
                  f"| {len(rf)}+{len(pt)} |")
        print()
        print("Quiet steps only (per run, the median of the steps during which other processes"
              " kept < 0.25 CPUs busy, runs with >= 3 such steps; both scripts record this):\n")
        print("| config | rnnflow tokens/s | PyTorch tokens/s | ratio | runs |")
        print("| --- | --- | --- | --- | --- |")
        for config in sorted({k[1] for k in by if k[0] == threads}):
            rf = [r["N"] * r["T"] / (r["step_ms_quiet_median"] / 1e3)
                  for r in by.get((threads, config, "rnnflow"), [])
                  if r.get("n_quiet_steps", 0) >= 3]
            pt = [r["batch"] * r["seq"] / r["step_s_quiet_median"]
                  for r in by.get((threads, config, "pytorch"), [])
                  if (r.get("n_quiet_steps") or 0) >= 3]
            if not rf or not pt:
                print(f"| {config} | - | - | - | {len(rf)}+{len(pt)} |")
                continue
            print(f"| {config} | {med(rf):,.0f} | {med(pt):,.0f} | {med(rf) / med(pt):.2f}x "
                  f"| {len(rf)}+{len(pt)} |")
        print()
        print(f"rnnflow step breakdown, runs with other processes < {QUIET} CPUs:\n")
        print("| config | rnnflow step ms (fwd / bwd / optimizer) |")
        print("| --- | --- |")
        for config in sorted({k[1] for k in by if k[0] == threads}):
            rf = [r for r in by.get((threads, config, "rnnflow"), [])
                  if r["others_busy_cpus"] < QUIET]
            if rf:
                print(f"| {config} | {med([r['step_ms'] for r in rf]):.1f} "
                      f"({med([r['fwd_ms'] for r in rf]):.1f} / {med([r['bwd_ms'] for r in rf]):.1f}"
                      f" / {med([r['opt_ms'] for r in rf]):.2f}) |")


if __name__ == "__main__":
    main()
