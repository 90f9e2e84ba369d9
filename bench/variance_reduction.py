#!/usr/bin/python3
"""Variance reduction of the samplers: over SEEDS seeds of one scenario of a file (default: the
seed portfolio's `base`), the spread (standard deviation across seeds) of roi_mean, P10 and P50 ROI
at the same trial count for mc, lhs and sobol, and the variance ratio against mc.
Usage: bench/variance_reduction.py ROISIM [FILE] [--scenario base] [--seeds 50] [--trials 10000]"""
import argparse, os, subprocess, sys, tempfile

import h5py
import numpy as np
import yaml

ap = argparse.ArgumentParser()
ap.add_argument("roisim")
ap.add_argument("file", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "scenarios", "seed_portfolio.yaml"))
ap.add_argument("--scenario", default="base")
ap.add_argument("--seeds", type=int, default=50)
ap.add_argument("--trials", type=int, default=10000)
a = ap.parse_args()

doc = yaml.safe_load(open(a.file))
chosen = [s for s in doc.get("scenarios", [{"name": "base"}]) if s["name"] == a.scenario]
if not chosen:
    sys.exit(f"no scenario {a.scenario!r} in {a.file}")
doc["scenarios"] = chosen  # only that scenario: its bits are the same as inside the full file
doc.pop("sweep", None)
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "one.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    stats = {}
    for sampler in ["mc", "lhs", "sobol"]:
        rows = []
        for seed in range(1, a.seeds + 1):
            out = os.path.join(tmp, "r.h5")
            subprocess.run([a.roisim, "run", path, "--sampler", sampler, "--seed", str(seed), "--trials", str(a.trials),
                            "--summary-only", "--quiet", "-o", out], check=True)
            with h5py.File(out, "r") as f:
                rows.append([f["roi_mean"][0], f["roi_quantile"][0, 1], f["roi_quantile"][0, 3]])
        stats[sampler] = np.array(rows).std(axis=0, ddof=1)
print(f"{a.file}, scenario {a.scenario}: spread over {a.seeds} seeds at {a.trials} trials (sd across seeds)")
print(f"{'sampler':8} {'sd(roi_mean)':>14} {'sd(P10)':>10} {'sd(P50)':>10} {'var ratio mean vs mc':>21} {'var ratio P50 vs mc':>20}")
for s, v in stats.items():
    r = (stats["mc"] / v) ** 2
    print(f"{s:8} {v[0]:14.5f} {v[1]:10.5f} {v[2]:10.5f} {r[0]:21.1f} {r[2]:20.1f}")
