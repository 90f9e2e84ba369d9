#!/usr/bin/python3
"""The benchmark scripts behind README "Performance" still run and print what the README reads
from them (small trial counts: this checks the plumbing, not the speed).

    /usr/bin/python3 tests/test_bench_scripts.py BUILD_ROISIM_BINARY REPO_ROOT

- bench/end_to_end.py: one round at 1 and 2 threads, both output modes, against itself as the
  baseline, with the NumPy peer and the machine's ceiling: every row present with positive times,
  the peer's lines and ratios, a ceiling line per mode whose figures follow from the printed
  times; bad arguments exit 2 with a message; through a wrapper that logs each run's -o target,
  two rounds with --ceiling: every (mode, threads) and every one of the runs started at once
  writes one target of its own, new in the first round and replaced in the second, and the runs
  started at once overlap in time; --baseline-env sets its variable for the baseline's runs only
  (the other side runs without it, even where the shell exports it).
- bench/peers/compare.sh: the three-row table with positive rates and ratios.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

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
    # "  summary  1 alone 0.1010 s, 2 at once 0.1100 s (median): ceiling 1.836 (per round 1.840);
    #   roisim on 2 threads 1.700 (93% of it; per round 92%)" (4 and 3 decimals: the checks below
    # allow for that rounding and for the rows' 3 decimals, nothing more)
    ceil = re.findall(r"^  (summary|full)\s+1 alone ([0-9.]+) s, 2 at once ([0-9.]+) s \(median\): ceiling ([0-9.]+) "
                      r"\(per round ([0-9.]+)\); roisim on 2 threads ([0-9.]+) \(([0-9]+)% of it; per round ([0-9]+)%\)$",
                      p.stdout, re.M)
    check([c[0] for c in ceil] == ["summary", "full"], f"end_to_end.py --ceiling prints a line per mode:\n{p.stdout}")
    medians = {(r[0], r[1], r[2]): float(r[3]) for r in rows}
    for mode, alone, at_once, limit, limit_r, own, share, share_r in ceil:
        alone, at_once, limit, own = float(alone), float(at_once), float(limit), float(own)
        two = medians[("roisim", mode, "2")]
        ok = (abs(alone - medians[("roisim", mode, "1")]) <= 0.00051 and at_once > 0
              and abs(limit - 2 * alone / at_once) <= 2 * alone / at_once * (0.00005 / alone + 0.00005 / at_once) + 0.0005
              and abs(own - alone / two) <= alone / two * (0.00005 / alone + 0.0005 / two) + 0.0005
              and abs(int(share) - 100 * own / limit) <= 0.51 + 100 * own / limit * (0.0005 / own + 0.0005 / limit)
              and float(limit_r) > 0 and int(share_r) > 0)
        check(ok, f"the {mode} ceiling follows from the times printed (2 x alone / at once; own speed-up / ceiling): "
                  f"{(alone, at_once, limit, own, share)} vs medians {medians}")

    # --pause: slept before every timed run, and not counted in its time.
    t0 = time.perf_counter()
    p = subprocess.run([py, e2e, "--roisim", roisim, "--rounds", "3", "--trials", TRIALS, "--threads", "1",
                        "--modes", "summary", "--pause", "0.8"], capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - t0
    one = re.findall(r"^roisim\s+summary\s+1\s+([0-9.]+)\s", p.stdout, re.M)
    check(p.returncode == 0 and "0.8 s pause before each run" in p.stdout and elapsed >= 2.4
          and len(one) == 1 and float(one[0]) < 0.8,
          f"end_to_end.py --pause 0.8 sleeps before each of 3 runs, untimed ({elapsed:.2f} s in all): {p.stdout} {p.stderr}")
    p = subprocess.run([py, e2e, "--roisim", roisim, "--pause", "-1"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "--pause" in p.stderr, f"end_to_end.py --pause -1 is refused: {p.returncode} {p.stderr}")

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
                    "  start=$(date +%s.%N)\n"
                    f"  {roisim} \"$@\"; rc=$?\n"
                    "  end=$(date +%s.%N)\n"
                    f"  echo \"$mode $threads $prev $existed $start $end\" >> {log}\n"
                    "  exit $rc\n"
                    "fi\n"
                    f"exec {roisim} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        p = subprocess.run([py, e2e, "--roisim", wrapper, "--rounds", "2", "--trials", TRIALS, "--threads", "1,2",
                            "--ceiling"], capture_output=True, text=True, timeout=600)
        check(p.returncode == 0, f"end_to_end.py through a logging wrapper exits 0 (got {p.returncode}: {p.stderr.strip()})")
        runs = [line.split() for line in open(log)] if os.path.exists(log) else []
        # Per round: 2 modes x (2 thread counts + 2 one-thread runs at once).
        check(len(runs) == 16, f"2 rounds x 2 modes x (2 thread counts + 2 runs at once) = 16 runs logged, got {len(runs)}")
        by_target, spans = {}, {}
        for mode, threads, target, existed, start, end in runs:
            by_target.setdefault(target, []).append((mode, threads, existed))
            spans.setdefault(target, []).append((float(start), float(end)))
        alone = {t for t, v in by_target.items() if "at-once" not in t}
        at_once = {t for t, v in by_target.items() if "at-once" in t}
        check(len(alone) == 4 and len({(v[0][0], v[0][1]) for t, v in by_target.items() if t in alone}) == 4,
              f"each (mode, threads) writes one target of its own: {by_target}")
        check(len(at_once) == 4 and all(v[0][1] == "1" for t, v in by_target.items() if t in at_once),
              f"each one-thread run started at once writes a target of its own: {by_target}")
        check(all(len({(m, th) for m, th, _ in v}) == 1 and [e for _, _, e in v] == ["0", "1"] for v in by_target.values()),
              f"each target is written by one configuration, new in the first round and replaced in the second: {by_target}")
        # The runs started at once ran at once: in each round and mode, the two runs' spans overlap.
        for mode in ("summary", "full"):
            pair = sorted(t for t in at_once if by_target[t][0][0] == mode)
            for rnd in range(2):
                both = [spans[t][rnd] for t in pair if len(spans[t]) > rnd]
                check(len(both) == 2 and max(b[0] for b in both) < min(b[1] for b in both),
                      f"{mode}, round {rnd + 1}: the two runs started at once overlap in time: {both}")

    # --baseline-env: the binary against itself under a switch, the variable set for the baseline's
    # runs only, the two alternating (a wrapper logs the variable each run saw).
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "env.log")
        wrapper = os.path.join(tmp, "roisim-env")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\n"
                    f"if [ \"$1\" = run ]; then echo \"${{ROISIM_E2E_PROBE-unset}}\" >> {log}; fi\n"
                    f"exec {roisim} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        p = subprocess.run([py, e2e, "--roisim", wrapper, "--baseline-env", "ROISIM_E2E_PROBE=on", "--rounds", "2",
                            "--trials", TRIALS, "--threads", "1", "--modes", "summary"],
                           capture_output=True, text=True, timeout=600, env=dict(os.environ, ROISIM_E2E_PROBE="exported"))
        seen = [line.strip() for line in open(log)] if os.path.exists(log) else []
        check(p.returncode == 0 and seen == ["on", "unset", "unset", "on"],
              f"--baseline-env: the baseline's runs (first in round 1, second in round 2) alone see the variable, the others not even "
              f"the shell's: {seen} ({p.returncode}: {p.stderr.strip()})")
        check(re.search(r"^baseline\s+summary\s+1\s", p.stdout, re.M) and "with ROISIM_E2E_PROBE=on" in p.stdout
              and re.search(r"roisim / baseline, per round.*\n\s+summary\s+1 thread\(s\) [0-9.]+", p.stdout),
              f"--baseline-env: the baseline's rows, its variable and the per-round ratios printed:\n{p.stdout}")

    for bad in (["--threads", "0"], ["--modes", "fast"], ["--roisim", os.path.join(root, "no-such-binary")],
                ["--ceiling", "--threads", "1"], ["--ceiling", "--threads", "2,1"], ["--baseline-env", "NOEQUALS"]):
        q = subprocess.run([py, e2e, *bad], capture_output=True, text=True, timeout=60)
        check(q.returncode == 2 and "error:" in q.stderr and ("--ceiling" not in bad or "--ceiling:" in q.stderr), f"end_to_end.py {' '.join(bad)}: exit 2 with a message (got {q.returncode}: {q.stderr.strip()})")

    c = subprocess.run(["sh", os.path.join(root, "bench", "peers", "compare.sh"), roisim, seed, TRIALS],
                       capture_output=True, text=True, timeout=600)
    check(c.returncode == 0, f"compare.sh exits 0 (got {c.returncode}: {c.stderr.strip()})")
    table = re.findall(r"^(roisim \(1 thread\)|numpy peer \([a-z -]+\))\s+([0-9.e+-]+)\s+([0-9.]+)\s*$", c.stdout, re.M)
    check(len(table) == 3 and all(float(r[1]) > 0 and float(r[2]) > 0 for r in table),
          f"compare.sh prints roisim and both peers with positive rates and ratios:\n{c.stdout}")
    check.finish()


if __name__ == "__main__":
    main()
