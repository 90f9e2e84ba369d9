#!/usr/bin/python3
"""The benchmark scripts behind README "Performance" still run and print what the README reads
from them (small trial counts: this checks the plumbing, not the speed).

    /usr/bin/python3 tests/test_bench_scripts.py BUILD_ROISIM_BINARY REPO_ROOT

- bench/end_to_end.py: one round at 1 and 2 threads, both output modes, against itself as the
  baseline, with the NumPy peer and the machine's ceiling: every row present with positive times,
  the peer's lines and ratios, a ceiling line per mode whose figures follow from the printed
  times; bad arguments exit 2 with a message; through a wrapper that logs each run's -o target,
  two rounds with --ceiling: every (mode, threads) and every one of the runs started at once
  writes one target of its own, new in the first round and replaced in the second.
- bench/peers/compare.sh: the three-row table with positive rates and ratios.
"""
import os
import re
import subprocess
import sys
import tempfile

from testlib import Checks

TRIALS = "200"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    roisim, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    py = sys.executable
    check = Checks()
    seed = os.path.join(root, "scenarios", "seed_portfolio.yaml")

    e2e = os.path.join(root, "bench", "end_to_end.py")
    p = subprocess.run([py, e2e, "--roisim", roisim, "--baseline", roisim, "--rounds", "1", "--trials", TRIALS,
                        "--threads", "1,2", "--peer", "--ceiling"], capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, f"end_to_end.py exits 0 (got {p.returncode}: {p.stderr.strip()})")
    rows = re.findall(r"^(baseline|roisim)\s+(summary|full)\s+(\d+)\s+([0-9.]+)\s", p.stdout, re.M)
    check(len(rows) == 8, f"end_to_end.py prints 8 timing rows (2 binaries x 2 modes x 2 thread counts), got {len(rows)}:\n{p.stdout}")
    check(all(float(r[3]) > 0 for r in rows), "every median time is positive")
    check("563 scenarios x 200 trials" in p.stdout, "end_to_end.py reads the scenario count and trials")
    peers = re.findall(r"numpy peer \((per-project cache|no cache)\)\s+([0-9.]+) s .* roisim is\s+([0-9.]+)x faster", p.stdout)
    check(len(peers) == 2 and all(float(x[1]) > 0 and float(x[2]) > 0 for x in peers),
          f"end_to_end.py --peer prints both peers with a ratio:\n{p.stdout}")
    # "  summary  1 alone 0.101 s, 2 at once 0.110 s (median): ceiling 1.84; roisim on 2 threads 1.70 (92% of it)"
    ceil = re.findall(r"^  (summary|full)\s+1 alone ([0-9.]+) s, 2 at once ([0-9.]+) s \(median\): ceiling ([0-9.]+); "
                      r"roisim on 2 threads ([0-9.]+) \(([0-9]+)% of it\)$", p.stdout, re.M)
    check([c[0] for c in ceil] == ["summary", "full"], f"end_to_end.py --ceiling prints a line per mode:\n{p.stdout}")
    medians = {(r[0], r[1], r[2]): float(r[3]) for r in rows}
    for mode, alone, at_once, limit, own, share in ceil:
        ok = (abs(float(alone) - medians[("roisim", mode, "1")]) < 0.0015 and float(at_once) > 0
              and abs(float(limit) - 2 * float(alone) / float(at_once)) < 0.01 + 0.02 * float(limit)
              and abs(float(own) - medians[("roisim", mode, "1")] / medians[("roisim", mode, "2")]) < 0.02 * float(own) + 0.01
              and abs(int(share) - 100 * float(own) / float(limit)) <= 2)
        check(ok, f"the {mode} ceiling follows from the times printed (2 x alone / at once; own speed-up / ceiling): "
                  f"{(alone, at_once, limit, own, share)} vs medians {medians}")

    # Each configuration replaces only the file its own command wrote the round before (a user
    # re-running it): a wrapper logs every run's -o target and whether it existed. Until 8c33379
    # all runs of a binary wrote one target, so a summary-only run replaced a full-output file.
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "runs.log")
        wrapper = os.path.join(tmp, "roisim-logged")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    "if [ \"$1\" = run ]; then\n"
                    "  prev=$(echo \"$@\" | sed 's/.* -o \\([^ ]*\\) .*/\\1/')\n"
                    "  mode=full; case \"$*\" in *--summary-only*) mode=summary;; esac\n"
                    "  threads=$(echo \"$@\" | sed 's/.*--threads \\([0-9]*\\).*/\\1/')\n"
                    "  if [ -e \"$prev\" ]; then existed=1; else existed=0; fi\n"
                    f"  echo \"$mode $threads $prev $existed\" >> {log}\n"
                    "fi\n"
                    f"exec {roisim} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        p = subprocess.run([py, e2e, "--roisim", wrapper, "--rounds", "2", "--trials", TRIALS, "--threads", "1,2",
                            "--ceiling"], capture_output=True, text=True, timeout=600)
        check(p.returncode == 0, f"end_to_end.py through a logging wrapper exits 0 (got {p.returncode}: {p.stderr.strip()})")
        runs = [line.split() for line in open(log)] if os.path.exists(log) else []
        # Per round: 2 modes x (2 thread counts + 2 one-thread runs at once).
        check(len(runs) == 16, f"2 rounds x 2 modes x (2 thread counts + 2 runs at once) = 16 runs logged, got {len(runs)}")
        by_target = {}
        for mode, threads, target, existed in runs:
            by_target.setdefault(target, []).append((mode, threads, existed))
        alone = {t for t, v in by_target.items() if "at-once" not in t}
        at_once = {t for t, v in by_target.items() if "at-once" in t}
        check(len(alone) == 4 and len({(v[0][0], v[0][1]) for t, v in by_target.items() if t in alone}) == 4,
              f"each (mode, threads) writes one target of its own: {by_target}")
        check(len(at_once) == 4 and all(v[0][1] == "1" for t, v in by_target.items() if t in at_once),
              f"each one-thread run started at once writes a target of its own: {by_target}")
        check(all(len({(m, th) for m, th, _ in v}) == 1 and [e for _, _, e in v] == ["0", "1"] for v in by_target.values()),
              f"each target is written by one configuration, new in the first round and replaced in the second: {by_target}")

    for bad in (["--threads", "0"], ["--modes", "fast"], ["--roisim", os.path.join(root, "no-such-binary")],
                ["--ceiling", "--threads", "1"], ["--ceiling", "--threads", "2,1"]):
        q = subprocess.run([py, e2e, *bad], capture_output=True, text=True, timeout=60)
        check(q.returncode == 2 and "error:" in q.stderr, f"end_to_end.py {' '.join(bad)}: exit 2 with a message (got {q.returncode}: {q.stderr.strip()})")

    c = subprocess.run(["sh", os.path.join(root, "bench", "peers", "compare.sh"), roisim, seed, TRIALS],
                       capture_output=True, text=True, timeout=600)
    check(c.returncode == 0, f"compare.sh exits 0 (got {c.returncode}: {c.stderr.strip()})")
    table = re.findall(r"^(roisim \(1 thread\)|numpy peer \([a-z -]+\))\s+([0-9.e+-]+)\s+([0-9.]+)\s*$", c.stdout, re.M)
    check(len(table) == 3 and all(float(r[1]) > 0 and float(r[2]) > 0 for r in table),
          f"compare.sh prints roisim and both peers with positive rates and ratios:\n{c.stdout}")
    check.finish()


if __name__ == "__main__":
    main()
