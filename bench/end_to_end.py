#!/usr/bin/python3
"""End-to-end timing of `roisim run` as a user runs it (process start to exit, the results file
written, synced and renamed), for README "Performance".

  /usr/bin/python3 bench/end_to_end.py [--roisim build/roisim] [--baseline OTHER_ROISIM]
      [--baseline-env NAME=VALUE ...] [--file scenarios/seed_portfolio.yaml] [--trials 10000] [--threads 1,2] [--rounds 5]
      [--modes summary,full] [--fresh] [--pause SECONDS] [--peer] [--ceiling]

Each round runs every (output mode, thread count) once per binary; with --baseline the two binaries
alternate (their order flips each round), so that drifts of a shared machine touch both alike.
--baseline-env NAME=VALUE (repeatable) sets a variable for the baseline's runs only (the --roisim
side runs without it, even where the shell exports it); without --baseline the baseline is then
the --roisim binary itself, so that one binary is compared with itself under a switch (e.g.
--baseline-env ROISIM_NO_HUGE_HEAP=1).
Each (binary, mode, thread count) writes a target of its own in a temporary folder, so from the
second round on a run replaces the file the same command wrote before, as a user re-running it
does (--fresh removes it first, untimed). (Until 2026-12-06 every run of a binary wrote one
target: a summary-only run then replaced an 84 MB full-output file and paid for freeing it,
up to ~38 ms inside rename() here, which inflated the summary 1 -> 2 ratio and deflated the
full-output one.) Wall time
is measured around the process, peak RSS comes from wait4(). Prints medians, the speed-up from the
first thread count to each other one (the ratio of the medians, and the median of the per-round
ratios), with --baseline the median (and quartiles) of the per-round ratios of the two binaries'
times, and with --peer the NumPy peer (bench/peers/numpy_peer.py, with and without its
per-project cache) on the same file and trials, timed the same way, with the ratio to roisim's
median for the first mode and thread count given (summary-only on one thread by default).

--pause SECONDS sleeps (untimed) before every timed run, as a user who runs roisim now and then
does: on this project's VMs (Firecracker, virtio-balloon with free page reporting) the guest
kernel hands the memory freed by one run to the next, already backed by the host, for about two
seconds; after that it has reported it free and the host has taken it back, so a run's first
touch of each page costs a host fault as well (README "Performance": ~2-3 ms a MB). Back to back
(the default) measures the warm case, --pause 2.5 the cold one.

--ceiling estimates what the machine itself allows a speed-up from the first thread count (1) to
the largest (T): each round and output mode also starts T one-thread runs of the --roisim binary
(not the baseline) at once, right after that mode's T-thread run, each with a target of its own,
and times them from the first start to the last exit. On a shared VM vCPUs slow each other down
(caches, memory, disk, the host), so T independent runs take longer at once than one alone;
T x (one alone) / (T at once) estimates the speed-up a perfectly parallel program, with no serial
part, could show here (an estimate, not a bound: T processes also repeat their starts, memory and
commits, which one T-thread process shares). It is printed from the medians and as the median of
the per-round values, and the binary's own speed-up as a share of it (per round: (T at once) /
(T x the T-thread run)). Needs only Python's standard library (and, for --peer, numpy, scipy and
yaml).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(cmd, env=None):
    """Runs cmd (in env, or this process's environment); returns (wall seconds, peak RSS in MiB,
    exit status, stderr text)."""
    with tempfile.TemporaryFile() as errf:  # a file, not a pipe: a chatty child cannot block on it
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read().decode(errors="replace")
    return wall, usage.ru_maxrss / 1024.0, p.returncode, err


def timed_together(cmds):
    """Starts every command at once; returns the wall seconds from the first start to the last exit,
    and the first failure as (exit status, stderr text, command) or None."""
    errs = [tempfile.TemporaryFile() for _ in cmds]
    procs = []
    try:
        t0 = time.perf_counter()
        try:
            for c, e in zip(cmds, errs):
                procs.append(subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=e))
        except BaseException:  # no process left writing into the folder that is about to be removed
            for p in procs:
                p.kill()
                p.wait()
            raise
        codes = [p.wait() for p in procs]
        wall = time.perf_counter() - t0
        for c, e, rc in zip(cmds, errs, codes):
            if rc != 0:
                e.seek(0)
                return wall, (rc, e.read().decode(errors="replace"), c)
        return wall, None
    finally:
        for e in errs:
            e.close()


def scenario_count(roisim, path):
    out = subprocess.run([roisim, "validate", path], capture_output=True, text=True, check=True).stdout
    # "FILE: ok, 5 projects, 22 uncertain inputs, 563 scenarios"
    return int(out.strip().rsplit(",", 1)[1].split()[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--roisim", default=os.path.join(ROOT, "build", "roisim"))
    ap.add_argument("--baseline", help="a second roisim binary, run alternately with the first")
    ap.add_argument("--baseline-env", action="append", default=[], metavar="NAME=VALUE",
                    help="an environment variable for the baseline's runs (repeatable; without --baseline the baseline is --roisim)")
    ap.add_argument("--file", default=os.path.join(ROOT, "scenarios", "seed_portfolio.yaml"))
    ap.add_argument("--trials", type=int, default=10000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--modes", default="summary,full", help="summary, full or both (comma-separated)")
    ap.add_argument("--fresh", action="store_true", help="remove the previous results file before each run (untimed)")
    ap.add_argument("--pause", type=float, default=0.0, metavar="SECONDS",
                    help="sleep this long (untimed) before each timed run: 2.5 lets the host take freed memory back first")
    ap.add_argument("--peer", action="store_true", help="also time the NumPy peer, with and without its cache")
    ap.add_argument("--ceiling", action="store_true",
                    help="also time T one-thread runs at once (T: the largest thread count): the machine's own ceiling on the speed-up")
    a = ap.parse_args(argv)

    threads = [int(t) for t in a.threads.split(",") if t]
    modes = [m for m in a.modes.split(",") if m]
    if not threads or any(t < 1 for t in threads):
        ap.error("--threads: a comma-separated list of counts >= 1")
    if not modes or any(m not in ("summary", "full") for m in modes):
        ap.error("--modes: summary, full or summary,full")
    if a.rounds < 1 or a.trials < 1:
        ap.error("--rounds and --trials must be at least 1")
    if not a.pause >= 0:
        ap.error("--pause: seconds >= 0")
    together = max(threads)
    if a.ceiling and (threads[0] != 1 or together < 2):
        ap.error("--ceiling: the first thread count must be 1 and another one larger")
    base_env = dict(os.environ)
    for kv in a.baseline_env:
        name, eq, value = kv.partition("=")
        if not eq or not name:
            ap.error(f"--baseline-env: NAME=VALUE, not {kv!r}")
        base_env[name] = value
    bins = [("roisim", os.path.abspath(a.roisim))]
    if a.baseline or a.baseline_env:
        bins.insert(0, ("baseline", os.path.abspath(a.baseline or a.roisim)))
    # The --roisim side runs without the baseline's variables, even where this shell exports them.
    names = {kv.partition("=")[0] for kv in a.baseline_env}
    env_of = {"roisim": {k: v for k, v in os.environ.items() if k not in names} if names else None,
              "baseline": base_env if a.baseline_env else None}
    for _, b in bins:
        if not os.access(b, os.X_OK):
            ap.error(f"not an executable: {b}")
    scenarios = scenario_count(bins[-1][1], a.file)
    evaluations = scenarios * a.trials

    print(f"file: {a.file}, {scenarios} scenarios x {a.trials} trials; {a.rounds} rounds; "
          f"{os.cpu_count()} CPUs; results file {'removed before' if a.fresh else 'replaced by'} each run"
          + (f"; {a.pause:g} s pause before each run" if a.pause else ""))
    for name, b in bins:
        v = subprocess.run([b, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"  {name}: {b} ({v})" + (f" with {' '.join(a.baseline_env)}" if name == "baseline" and a.baseline_env else ""))

    tmp = tempfile.mkdtemp(prefix="roisim-e2e-")
    times = {}  # (name, mode, threads) -> [(wall, rss)]
    ceiling = {}  # mode -> [wall of `together` one-thread runs of the binary at once]
    try:
        for r in range(a.rounds):
            order = bins if r % 2 == 0 else bins[::-1]
            for mode in modes:
                for t in threads:
                    for name, b in order:
                        out = os.path.join(tmp, f"{name}-{mode}-{t}.h5")
                        if a.fresh and os.path.exists(out):
                            os.unlink(out)
                        cmd = [b, "run", a.file, "-o", out, "--quiet", "--trials", str(a.trials), "--threads", str(t)]
                        if mode == "summary":
                            cmd.append("--summary-only")
                        if a.pause:
                            time.sleep(a.pause)
                        wall, rss, rc, err = timed(cmd, env_of[name])
                        if rc != 0:
                            sys.exit(f"end_to_end.py: {' '.join(cmd)} failed ({rc}): {err.strip()}")
                        times.setdefault((name, mode, t), []).append((wall, rss))
                if a.ceiling:
                    name, b = bins[-1]
                    cmds = []
                    for k in range(together):
                        out = os.path.join(tmp, f"{name}-{mode}-1-at-once-{k}.h5")
                        if a.fresh and os.path.exists(out):
                            os.unlink(out)
                        cmds.append([b, "run", a.file, "-o", out, "--quiet", "--trials", str(a.trials), "--threads", "1"]
                                    + (["--summary-only"] if mode == "summary" else []))
                    if a.pause:
                        time.sleep(a.pause)
                    wall, failed = timed_together(cmds)
                    if failed:
                        sys.exit(f"end_to_end.py: {' '.join(failed[2])} failed ({failed[0]}): {failed[1].strip()}")
                    ceiling.setdefault(mode, []).append(wall)
        peer = []
        if a.peer:
            py = os.environ.get("PYTHON", "/usr/bin/python3")
            for label, extra in (("numpy peer (per-project cache)", []), ("numpy peer (no cache)", ["--no-cache"])):
                cmd = [py, os.path.join(HERE, "peers", "numpy_peer.py"), a.file, "--trials", str(a.trials)] + extra
                wall, rss, rc, err = timed(cmd)
                if rc != 0:
                    sys.exit(f"end_to_end.py: {' '.join(cmd)} failed ({rc}): {err.strip()}")
                peer.append((label, wall, rss))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'binary':10s} {'output':8s} {'threads':>7s} {'median s':>9s} {'min..max s':>13s} "
          f"{'trials/s':>10s} {'peak RSS':>9s} {'speed-up':>9s} {'(per round)':>11s}")
    for name, _ in bins:
        for mode in modes:
            base = times[(name, mode, threads[0])]
            for t in threads:
                w = [x[0] for x in times[(name, mode, t)]]
                rss = statistics.median(x[1] for x in times[(name, mode, t)])
                med = statistics.median(w)
                sp = statistics.median(x[0] for x in base) / med
                per = statistics.median(b[0] / x for b, x in zip(base, w))
                spc = f"{sp:9.2f} {per:11.2f}" if t != threads[0] else f"{'':9s} {'':11s}"
                print(f"{name:10s} {mode:8s} {t:7d} {med:9.3f} {min(w):6.3f}..{max(w):<6.3f} "
                      f"{evaluations / med:10.3g} {rss:6.0f} MiB {spc}")
    if len(bins) == 2:
        # Each round ran the two binaries back to back on the same command: the median of those
        # pairs' ratios (with its quartiles) compares them with less of the machine's drift than
        # the ratio of their medians.
        print("\nroisim / baseline, per round (median, quartiles):")
        for mode in modes:
            for t in threads:
                r = [x[0] / y[0] for x, y in zip(times[("roisim", mode, t)], times[("baseline", mode, t)])]
                q = statistics.quantiles(r, n=4) if len(r) > 1 else [r[0], r[0], r[0]]
                print(f"  {mode:8s} {t:2d} thread(s) {statistics.median(r):.3f} ({q[0]:.3f}..{q[2]:.3f})")
    if a.ceiling:
        name = bins[-1][0]
        print(f"\nthe machine's ceiling on the 1 -> {together} speed-up ({together} one-thread runs of {name} at once, "
              f"each with its own file, timed from the first start to the last exit):")
        for mode in modes:
            alone_r = [x[0] for x in times[(name, mode, 1)]]
            own_r = [x[0] for x in times[(name, mode, together)]]
            alone, at_once = statistics.median(alone_r), statistics.median(ceiling[mode])
            limit = together * alone / at_once
            own = alone / statistics.median(own_r)
            # Per round: the pair beside the same round's one- and T-thread runs.
            limit_r = statistics.median(together * a1 / w for a1, w in zip(alone_r, ceiling[mode]))
            share_r = statistics.median(w / (together * wt) for w, wt in zip(ceiling[mode], own_r))
            print(f"  {mode:8s} 1 alone {alone:.4f} s, {together} at once {at_once:.4f} s (median): ceiling {limit:.3f} "
                  f"(per round {limit_r:.3f}); {name} on {together} threads {own:.3f} ({100 * own / limit:.0f}% of it; "
                  f"per round {100 * share_r:.0f}%)")
    if a.peer:
        ref = statistics.median(x[0] for x in times[(bins[-1][0], modes[0], threads[0])])
        print(f"\nagainst {bins[-1][0]} ({modes[0]}, {threads[0]} thread(s), {ref:.3f} s), each peer run once, end to end:")
        for label, wall, rss in peer:
            print(f"  {label:32s} {wall:8.2f} s {rss:6.0f} MiB   roisim is {wall / ref:6.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
