#!/usr/bin/env python3
"""Data-parallel cost model for rnnflow (docs/scaling.md): predicted step time
and efficiency at P nodes from measured compute and all-reduce curves.

  bench/cost_model.py --allreduce bench/results/allreduce-*.md [--nodes 2 16 64 256]

Model (one rank per node, weak scaling: the per-rank batch stays fixed):
  ring all-reduce of n bytes over P ranks:
      t_ar(n, P) = 2 (P - 1) alpha + 2 (P - 1) / P * n / B
  with alpha (per-message latency) and B (bus bandwidth) either fitted to the
  measured curve of this machine (allreduce_bench, P = 2: t = 2 alpha + n / B)
  or assumed for a cluster network (NETWORKS below); a bucketed all-reduce
  pays alpha once per bucket and message step.
  exposed(P) = max((1 - h) * t_ar, t_ar - t_bwd)
      h: the share of the all-reduce hidden behind the backward pass, measured
      here; it can never hide more than the backward pass lasts (t_bwd).
  step(P) = t_compute + exposed(P),  efficiency(P) = t_compute / step(P).
"""
import argparse
import math
import re

# Assumed cluster networks: (name, alpha seconds, bus bandwidth bytes/s). The
# bandwidths are what a ring all-reduce reaches per link (about 90% of the
# line rate), the latencies typical MPI small-message latencies.
NETWORKS = [
    ("InfiniBand HDR 100 Gb/s", 3e-6, 11e9),
    ("Ethernet 25 Gb/s, TCP", 25e-6, 2.8e9),
]


def read_curve(path):
    """(bytes, seconds) of the rnnflow column of an allreduce_bench table."""
    out = []
    for line in open(path):
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and re.fullmatch(r"\d+", cells[0]):
            out.append((float(cells[0]), float(cells[3]) * 1e-6))
    return out


def fit(curve, lo, hi):
    """alpha from the small messages, B from a least-squares line through the
    sizes [lo, hi] (for P = 2: t = 2 alpha + n / B)."""
    small = sorted(t for n, t in curve if n <= 256)
    alpha = small[len(small) // 2] / 2
    pts = [(n, t) for n, t in curve if lo <= n <= hi]
    mn = sum(n for n, _ in pts) / len(pts)
    mt = sum(t for _, t in pts) / len(pts)
    slope = sum((n - mn) * (t - mt) for n, t in pts) / sum((n - mn) ** 2 for n, _ in pts)
    return alpha, 1 / slope


def t_allreduce(nbytes, buckets, p, alpha, bw):
    return 2 * (p - 1) * alpha * buckets + 2 * (p - 1) / p * nbytes / bw


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--allreduce", required=True, nargs="+",
                    help="allreduce_bench outputs (markdown tables)")
    ap.add_argument("--nodes", type=int, nargs="+", default=[2, 16, 64, 256])
    ap.add_argument("--model", action="append", required=True,
                    help="name:step_s:backward_s:grad_bytes:buckets:hidden (step and backward "
                         "measured with 1 rank; hidden: the share of the all-reduce hidden "
                         "behind backward, 0-1)")
    ap.add_argument("--node-speedup", type=float, nargs="+", default=[1],
                    help="node compute speed relative to the measured rank (e.g. 16 for a node "
                         "16x faster); the all-reduce does not change")
    ap.add_argument("--fit-bytes", type=float, nargs=2, default=[1 << 16, 1 << 26],
                    help="message sizes the bandwidth is fitted over (default 64 KiB - 64 MiB)")
    args = ap.parse_args()

    curve = []
    for path in args.allreduce:  # several runs: the fastest time per size
        curve += read_curve(path)
    best = {}
    for n, t in curve:
        best[n] = min(t, best.get(n, t))
    alpha, bw = fit(sorted(best.items()), *args.fit_bytes)
    nets = [("this machine, shared memory (fitted)", alpha, bw)] + NETWORKS
    print(f"fitted to {' '.join(args.allreduce)} (fastest per size, bandwidth over "
          f"{args.fit_bytes[0]:.0f}-{args.fit_bytes[1]:.0f} B): alpha = {alpha * 1e6:.2f} us, B = {bw / 1e9:.2f} GB/s\n")
    for spec in args.model:
        name, step, bwd, nbytes, buckets, hidden = spec.split(":")
        step, bwd, nbytes, buckets = float(step), float(bwd), float(nbytes), int(buckets)
        hidden = float(hidden)
        for speed in args.node_speedup:
            tc, tb = step / speed, bwd / speed
            print(f"**{name}**: compute {tc * 1e3:.1f} ms/step (backward {tb * 1e3:.1f} ms), "
                  f"{nbytes / 1e6:.1f} MB of gradients in {buckets} buckets, h = {hidden:.0%}"
                  + (f", node {speed:g}x the measured rank" if speed != 1 else "") + "\n")
            print("| network | " + " | ".join(f"P={p} step ms (eff.)" for p in args.nodes) + " |")
            print("| --- |" + " ---: |" * len(args.nodes))
            for net, a, b in nets:
                cells = []
                for p in args.nodes:
                    tar = t_allreduce(nbytes, buckets, p, a, b)
                    exposed = max((1 - hidden) * tar, tar - tb)
                    total = tc + exposed
                    cells.append(f"{total * 1e3:.1f} ({tc / total:.0%})")
                print(f"| {net} | " + " | ".join(cells) + " |")
            print()


if __name__ == "__main__":
    main()
