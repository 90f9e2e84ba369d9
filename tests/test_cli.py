#!/usr/bin/python3
"""End-to-end tests of the roisim command line: exit codes, files, SPEC §6 layout (official
checker), xarray, exact type-7 quantiles, reports, thread-count reproducibility, interruption.
Usage: test_cli.py ROISIM_BINARY REPO_ROOT LAYOUT_CHECKER"""
import json, os, re, shutil, signal, subprocess, sys, tempfile, time, unicodedata

import h5py
import numpy as np

ROISIM, ROOT, CHECKER = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import Checks, runner  # noqa: E402

check = Checks()
roisim = runner(ROISIM)

SEED = os.path.join(ROOT, "scenarios", "seed_portfolio.yaml")


def write(name, text):
    """Writes text (UTF-8) to a file of that name in the test's folder; its path."""
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def width(text):
    """Terminal columns: 2 for East Asian wide and fullwidth characters, 0 for combining marks."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def blocks(text):
    """A report's or run's output as its paragraphs (tables), each a list of lines."""
    return [b.splitlines() for b in text.split("\n\n") if b.strip()]


def cells(line):
    """A table line's cells: the columns stand at least two spaces apart, and no cell holds two."""
    return re.split(r" {2,}", line.strip())


def shown_as(printed, name):
    """Whether a table's name cell stands for `name`: the name itself, or its start and end around '…'."""
    if printed == name:
        return True
    head, sep, tail = printed.partition("\u2026")
    return sep == "\u2026" and name.startswith(head) and name.endswith(tail) and len(head) + len(tail) < len(name)




tmp = tempfile.mkdtemp(prefix="roisim-cli-")
try:
    # validate
    r = roisim("validate", SEED)
    check(r.returncode == 0 and "563 scenarios" in r.stdout, f"validate: {r.returncode} {r.stdout} {r.stderr}")

    # run, full output
    out = os.path.join(tmp, "seed.h5")
    r = roisim("run", SEED, "--trials", "400", "-o", out, "--threads", "2")
    check(r.returncode == 0, f"run: {r.returncode} {r.stderr}")
    check("P10 ROI" in r.stdout and "results: " + out in r.stdout, "run prints the P10/P50/P90 table and the file")
    check(not [f for f in os.listdir(tmp) if ".tmp-" in f], "no temporary file left after a run")
    check(os.path.exists(CHECKER), f"the layout checker {CHECKER} exists")
    if os.path.exists(CHECKER):
        c = subprocess.run(["/usr/bin/python3", CHECKER, out], capture_output=True, text=True)
        check(c.returncode == 0, "layout checker (full): " + c.stdout + c.stderr)
    with h5py.File(out, "r") as f:
        roi, q = f["roi"][:], f["roi_quantile"][:]
        check(roi.shape == (563, 400), f"roi shape {roi.shape}")
        exact = all(np.array_equal(np.quantile(roi[i], [0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95]), q[i]) for i in range(563))
        check(exact, "numpy.quantile(roi[i], q) == roi_quantile[i] exactly for every scenario")
        for a in ["filetype", "format_version", "roisim_version", "git_sha", "build_type", "created_utc", "command_line",
                  "seed", "trials", "sampler", "rng", "horizon_months", "discount_rate", "quantile_method", "config",
                  "config_sha256"]:
            check(a in f.attrs, f"root attribute {a}")
        check(int(f.attrs["trials"]) == 400 and int(f.attrs["seed"]) == 20261122, "trials/seed attributes")
        check("correlation_spearman" in f, "correlation matrix stored")
        names = [s.decode() if isinstance(s, bytes) else s for s in f["scenario"][:]]
        check(names[0] == "base" and names[5].startswith("macro=base/"), "scenario names")
    import xarray as xr
    ds = xr.open_dataset(out, engine="h5netcdf")
    check(float(np.quantile(ds["roi"][1].values, 0.1)) == float(ds["roi_quantile"][1, 1]), "xarray: P10 equals numpy's")
    check(len(ds[["roi_mean", "prob_loss"]].to_dataframe()) == 563, "xarray summary table")
    ds.close()

    # the same bits with one thread (and with glibc's default heap: sim/heap.h)
    out1 = os.path.join(tmp, "seed1.h5")
    r = roisim("run", SEED, "--trials", "400", "-o", out1, "--threads", "1", "--quiet",
               env=dict(os.environ, ROISIM_NO_HUGE_HEAP="1"))
    check(r.returncode == 0 and r.stdout == "", f"--quiet run: {r.returncode} {r.stdout!r}")
    with h5py.File(out, "r") as a, h5py.File(out1, "r") as b:
        for k in ["roi", "npv", "payback_month", "roi_mean", "roi_quantile", "spearman", "cvar10", "payback_p50"]:
            check(a[k][:].tobytes() == b[k][:].tobytes(), f"{k}: identical bits for 1 and 2 threads")

    # the same file layout at every thread count: the engine's batch is 32 scenarios on one or two
    # threads and 64 on more, but chunk rows follow the layout's batch (1,000 trials: 64 rows,
    # which a batch of 32 would have made 65)
    outs = [os.path.join(tmp, f"seed-t{t}.h5") for t in (1, 4)]
    for t, o in zip((1, 4), outs):
        r = roisim("run", SEED, "--trials", "1000", "--quiet", "-o", o, "--threads", str(t))
        check(r.returncode == 0, f"--threads {t}: {r.returncode} {r.stderr}")
    with h5py.File(outs[0], "r") as a, h5py.File(outs[1], "r") as b:
        check(a["roi"].chunks == (64, 1000), f"roi chunks at 1,000 trials: {a['roi'].chunks}")
        for k in ["roi", "npv", "payback_month", "roi_mean", "cashflow_quantile"]:
            check(a[k].chunks == b[k].chunks and a[k][:].tobytes() == b[k][:].tobytes(),
                  f"{k}: same chunks and bits for 1 and 4 threads")

    # replay: one trial's numbers equal the file's bit for bit
    with h5py.File(out, "r") as f:
        names = [x.decode() if isinstance(x, bytes) else x for x in f["scenario"][:]]
        for scen, trial in [("base", 0), ("recession", 17), (names[300], 399), ("7", 123)]:
            i = int(scen) if scen.isdigit() else names.index(scen)
            r = roisim("run", SEED, "--trials", "400", "--replay", f"{scen}:{trial}")
            last = [l for l in r.stdout.splitlines() if l.startswith("portfolio:")]
            ok = r.returncode == 0 and len(last) == 1
            if ok:
                parts = dict(p.strip().split(" ") for p in last[0][len("portfolio:"):].split(","))
                ok = (float(parts["roi"]) == f["roi"][i, trial] and float(parts["npv"]) == f["npv"][i, trial]
                      and float(parts["payback_month"]) == f["payback_month"][i, trial])
            check(ok, f"--replay {scen}:{trial} equals the file: {r.stdout[-300:]} {r.stderr}")
        check("recommendations.sessions_per_month = " in roisim("run", SEED, "--replay", "base:3").stdout, "replay lists inputs")
    r = roisim("run", SEED, "--replay", "nope:3")
    check(r.returncode == 1 and "no scenario named 'nope'" in r.stderr, "replay unknown scenario")
    r = roisim("run", SEED, "--trials", "10", "--replay", "base:10")
    check(r.returncode == 1 and "out of range" in r.stderr, "replay trial out of range")

    # a non-PSD correlation matrix with correlation_repair: nearest runs and stores both matrices
    rep = write("repair.yaml", """roisim: 1
settings: {trials: 200, correlation_repair: nearest}
factors:
  a: {dist: uniform, min: 0, max: 1}
  b: {dist: uniform, min: 0, max: 1}
  c: {dist: uniform, min: 0, max: 1}
projects:
  p: {kind: direct, initial_cost: 1, inputs: {annual_value: {factor: a}}}
  q: {kind: direct, initial_cost: 1, inputs: {annual_value: {factor: b}}}
  r: {kind: direct, initial_cost: 1, inputs: {annual_value: {factor: c}}}
correlations: [[a, b, 0.9], [b, c, 0.9], [a, c, -0.9]]
""")
    r = roisim("run", rep, "--quiet")
    check(r.returncode == 0, "repaired correlation runs: " + r.stderr)
    with h5py.File(os.path.join(tmp, "repair.h5"), "r") as f:
        orig, fixed = f["correlation_spearman"][:], f["correlation_spearman_repaired"][:]
        check(orig[0, 2] == -0.9 and np.linalg.eigvalsh(fixed).min() > -1e-9 and int(f.attrs["correlation_repaired"]) == 1,
              "both correlation matrices stored")
    with open(rep) as f:
        nonpsd = f.read().replace(", correlation_repair: nearest", "")
    with open(rep, "w") as f:
        f.write(nonpsd)
    r = roisim("run", rep, "-o", os.path.join(tmp, "nonpsd.h5"))
    check(r.returncode == 1 and "not positive semi-definite (smallest eigenvalue -0.8) among a, b, c" in r.stderr
          and not os.path.exists(os.path.join(tmp, "nonpsd.h5")), "non-PSD refused: " + r.stderr)

    # resource checks: refused before simulating, with the estimate and a suggestion
    r = roisim("run", SEED, "--trials", "20000000", "-o", os.path.join(tmp, "huge.h5"))
    check(r.returncode == 1 and ("--summary-only" in r.stderr or "memory" in r.stderr), "huge run refused: " + r.stderr)
    r = roisim("run", SEED, "--trials", "1000000000", "-o", os.path.join(tmp, "huge.h5"), "--summary-only")
    check(r.returncode == 1 and "of memory but" in r.stderr, "run beyond memory refused: " + r.stderr)
    # a billion scenarios of one trial: what does not fit is the plan of identical scenarios
    big9 = write("big9.yaml", "roisim: 1\nsettings: {trials: 1, seed: 1}\nprojects:\n"
                "  p: {kind: direct, initial_cost: 1, inputs: {annual_value: {dist: uniform, min: 0, max: 3}}}\n"
                "sweep:\n  funded: [[p]]\n  axes:\n"
                + "".join(f"    a{i}: {{" + ", ".join(f"v{j}: {{}}" for j in range(10)) + "}\n" for i in range(9)))
    r = roisim("run", big9, "--summary-only", "-o", os.path.join(tmp, "huge.h5"))
    check(r.returncode == 1 and "of memory but" in r.stderr and "use --no-reuse" in r.stderr, "reuse plan beyond memory: " + r.stderr)
    # lhs and sobol precompute O(trials x inputs): the estimate must refuse before allocating it
    for sampler in ("lhs", "sobol"):
        t0 = time.time()
        r = roisim("run", SEED, "--sampler", sampler, "--trials", "1000000000", "-o", os.path.join(tmp, "huge.h5"), "--summary-only")
        check(r.returncode == 1 and "of memory but" in r.stderr and time.time() - t0 < 10,
              f"{sampler} run beyond memory refused before allocating: " + r.stderr)

    # the estimate the check uses is an upper bound of the peak RSS, also where most memory is the
    # success inputs of a sweep whose every scenario has its own variant (the peak through
    # /usr/bin/time: a child forked from this Python would count Python's pages before its exec)
    axis = "".join(f"      v{i:03d}: {{scale: {{p.annual_value: {1 + (i + 1) / 1000}}}}}\n" for i in range(63))
    succ = write("succ.yaml", "roisim: 1\nsettings: {trials: 150000, seed: 1}\nprojects:\n"
                "  p: {kind: direct, initial_cost: 1, p_success: 0.5, inputs: {annual_value: {dist: uniform, min: 0, max: 3}}}\n"
                "sweep:\n  funded: [[p]]\n  axes:\n    a:\n" + axis)
    # (not under AddressSanitizer, whose shadow memory and quarantine are not the program's)
    with open(ROISIM, "rb") as fh:
        asan = b"__asan_init" in fh.read()
    def peak_within_estimate(run_args, what=""):
        args = ["/usr/bin/time", "-f", "peak %M", ROISIM, "run", *run_args]
        r = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, ROISIM_TIMELINE="1"))
        est = [int(l.split()[-1]) for l in r.stderr.splitlines() if "memory estimate (MiB)" in l]
        peak = [int(l.split()[-1]) / 1024 for l in r.stderr.splitlines() if l.startswith("peak ")]
        check(r.returncode == 0 and est and peak and peak[0] <= est[0],
              f"memory estimate {est} MiB >= peak {peak} MiB{what}: {' '.join(args[5:])}")
    for threads, extra in ((("1", ["--summary-only"]), ("2", ["--summary-only"]), ("1", []), (None, [SEED, "--trials", "3000"]))
                           if not asan else ()):
        peak_within_estimate([*(extra[:1] if threads is None else [succ]), "-o", os.path.join(tmp, "est.h5"), "--quiet",
                              "--threads", threads or "2", *(extra[1:] if threads is None else extra)])
    # ... and where the one cash-flow buffer grows: a first batch kept by variant (31 variants for 32
    # scenarios), a second by scenario (64 variants): grown by resize(), it had held both batches'
    # cash flows at once (161-164 MiB against estimates of 116 and 123, found by a review)
    grow = ["roisim: 1", "settings: {trials: 2000, seed: 1, horizon_months: 150}", "projects:"]
    grow += [f"  {p}: {{kind: direct, initial_cost: 100, inputs: {{annual_value: {{dist: uniform, min: 0, max: 300}}}}}}" for p in "pq"]
    grow += ["scenarios:"] + [f"  - {{name: a{i}, projects: [p], scale: {{p.annual_value: {1 + i / 100}}}}}" for i in range(30)]
    grow += ["  - {name: a30, projects: [q]}", "  - {name: a31, projects: [p, q]}"]
    grow += [f"  - {{name: b{i}, projects: [p, q], scale: {{p.annual_value: {2 + i / 100}, q.annual_value: {2 + i / 100}}}}}"
             for i in range(32)]
    grow_file = write("grow.yaml", "\n".join(grow) + "\n")
    for threads in (("1", "2") if not asan else ()):
        peak_within_estimate([grow_file, "-o", os.path.join(tmp, "est.h5"), "--quiet", "--threads", threads,
                              "--summary-only", "--cashflow-trials", "0"], " where the cash-flow buffer grows")
    # auto-stop: the same file and target stop at the same trial count with the same bits
    small = write("small.yaml", """roisim: 1
settings: {seed: 3}
projects:
  p: {kind: direct, initial_cost: 1000000, inputs: {annual_value: {dist: uniform, min: 0, max: 1000000}}}
""")
    outs_ac = [os.path.join(tmp, f"ac{i}.h5") for i in range(2)]
    for o in outs_ac:
        r = roisim("run", small, "--target-ci", "0.05", "-o", o)
        check(r.returncode == 0 and "auto-stop: target met" in r.stdout, "auto-stop meets its target: " + r.stdout)
    with h5py.File(outs_ac[0], "r") as a, h5py.File(outs_ac[1], "r") as b:
        n = int(a.attrs["trials"])
        check(n == int(b.attrs["trials"]) and n in (2000, 4000, 8000, 16000, 32000), f"auto-stop trial count {n}")
        check(a["roi"][:].tobytes() == b["roi"][:].tobytes(), "auto-stop: same bits twice")
        check(int(a.attrs["target_ci_met"]) == 1 and float(a.attrs["target_ci_widest"]) <= 0.05, "auto-stop attributes")
        q, lo, hi = a["roi_quantile"][0], a["roi_quantile_lo"][0], a["roi_quantile_hi"][0]
        check(all(max(q[j] - lo[j], hi[j] - q[j]) <= 0.05 for j in (1, 3, 5)), "the reported target holds in the file")
    r = roisim("run", small, "--target-ci", "0.001", "--max-trials", "4000", "-o", outs_ac[0])
    check(r.returncode == 0 and "target NOT met" in r.stdout and "--max-trials 4000 reached" in r.stdout, "auto-stop reports the cap: " + r.stdout)
    with h5py.File(outs_ac[0], "r") as a:
        check(int(a.attrs["trials"]) == 4000 and int(a.attrs["target_ci_met"]) == 0, "capped auto-stop file")
    # 20 trials: no trial bounds P10 from below with 95% confidence (0.9^20 = 0.12 > 0.025), so the
    # interval is unbounded there and a loose target is not met (the sample minimum once made it "met")
    r = roisim("run", small, "--target-ci", "10", "--max-trials", "20", "-o", outs_ac[0])
    check(r.returncode == 0 and "target NOT met" in r.stdout and "unbounded" in r.stdout and "under 36 trials" in r.stdout,
          "auto-stop at 20 trials is not met: " + r.stdout[:400])
    with h5py.File(outs_ac[0], "r") as a:
        check(np.isneginf(a["roi_quantile_lo"][0, :2]).all() and np.isposinf(a["roi_quantile_hi"][0, 5:]).all()
              and np.isfinite(a["roi_quantile_lo"][0, 2:]).all(), "unbounded interval ends are -inf/+inf in the file")
    # a scenario whose ROI overflows to +inf: its intervals are undefined, so the target is not met
    # (a later finite half-width once replaced the undefined one, and the run stopped "met")
    inf_yaml = write("inf.yaml", "roisim: 1\nsettings: {trials: 1000, seed: 3, horizon_months: 12}\nprojects:\n"
                 "  huge: {kind: direct, initial_cost: 1.0e-300, inputs: {annual_value: {dist: uniform, min: 1.0e+307, max: 1.0e+308}}}\n"
                 "  fine: {kind: direct, initial_cost: 100, inputs: {annual_value: {dist: uniform, min: 50, max: 150}}}\n"
                 "scenarios:\n  - {name: fine, projects: [fine]}\n  - {name: huge, projects: [huge]}\n")
    r = roisim("run", inf_yaml, "--target-ci", "0.5", "--max-trials", "4000", "-o", os.path.join(tmp, "inf.h5"))
    check(r.returncode == 0 and "target NOT met" in r.stdout and "undefined: huge: P10 ROI is infinite" in r.stdout,
          "auto-stop with an infinite ROI is not met: " + r.stdout[:400])

    # summary only
    outs = os.path.join(tmp, "summary.h5")
    r = roisim("run", SEED, "--trials", "300", "--summary-only", "-o", outs, "--quiet", "--compression", "0")
    check(r.returncode == 0, f"summary-only run: {r.stderr}")
    with h5py.File(outs, "r") as f:
        check("roi" not in f and "roi_mean" in f, "summary-only omits the per-trial datasets")
    # scenarios identical to an earlier one (80 in the seed sweep) are computed once and copied:
    # the same datasets, bit for bit, as computing every scenario (--no-reuse); the run says so
    outn = os.path.join(tmp, "summary-noreuse.h5")
    r = roisim("run", SEED, "--trials", "300", "--summary-only", "-o", outn, "--compression", "0", "--no-reuse")
    check(r.returncode == 0 and "identical to an earlier" not in r.stdout, f"--no-reuse run: {r.returncode} {r.stderr}")
    r = roisim("run", SEED, "--trials", "300", "--summary-only", "-o", os.path.join(tmp, "summary2.h5"))
    check(r.returncode == 0 and "(80 identical to an earlier scenario: statistics computed once)" in r.stdout,
          f"the run reports the identical scenarios: {r.stdout[:300]}")
    with h5py.File(outs, "r") as a, h5py.File(outn, "r") as b:
        check(sorted(a.keys()) == sorted(b.keys()), "same datasets with and without reuse")
        for k in a.keys():
            x, y = a[k][()], b[k][()]
            same = x.tobytes() == y.tobytes() if x.dtype.kind in "fiu" else list(x) == list(y)
            check(same, f"{k}: identical with and without reuse")
    if os.path.exists(CHECKER):
        c = subprocess.run(["/usr/bin/python3", CHECKER, outs, "--summary-only"], capture_output=True, text=True)
        check(c.returncode == 0, "layout checker (summary-only): " + c.stdout)

    # reports
    r = roisim("report", out, "--format", "csv")
    lines = r.stdout.strip().splitlines()
    check(r.returncode == 0 and len(lines) == 564 and lines[0].startswith("scenario,funded,roi_mean"), "report csv")
    # one trial: roi_sd and its kin are undefined, an empty field in the CSV (a blank cell in Excel)
    one = os.path.join(tmp, "one.h5")
    roisim("run", SEED, "--trials", "1", "--quiet", "--summary-only", "-o", one)
    import csv, io
    rows = list(csv.DictReader(io.StringIO(roisim("report", one, "--format", "csv").stdout)))
    check(len(rows) == 563 and rows[0]["roi_sd"] == "" and rows[0]["roi_se"] == "" and float(rows[0]["roi_mean"]) == float(rows[0]["roi_p50"])
          and not any(v == "nan" for row in rows for v in row.values()), "csv: NaN is an empty field, never 'nan'")
    # names that Excel would run as formulas get a leading apostrophe; separators and quotes are quoted
    names_yaml = write("names.yaml", 'roisim: 1\nsettings: {trials: 50, seed: 1}\nprojects:\n'
                '  "@proj": {kind: direct, initial_cost: 100, inputs: {annual_value: {dist: uniform, min: 10, max: 90}}}\n'
                'scenarios:\n  - name: "+SUM(1,2)"\n  - name: "-2+3"\n  - name: "@SUM(A1)"\n'
                '  - name: "a, \\"quoted\\" | pipe"\n  - name: "plain -"\n')
    names_h5 = os.path.join(tmp, "names.h5")
    r = roisim("run", names_yaml, "-o", names_h5, "--quiet")
    rows = list(csv.DictReader(io.StringIO(roisim("report", names_h5, "--format", "csv").stdout)))
    check(r.returncode == 0 and [row["scenario"] for row in rows] == ["'+SUM(1,2)", "'-2+3", "'@SUM(A1)", 'a, "quoted" | pipe', "plain -"]
          and all(row["funded"] == "'@proj" for row in rows), f"csv: formula-like names neutralised, others intact: {rows and [row['scenario'] for row in rows]}")
    r = roisim("report", out, "--format", "json", "--scenario", "base", "--scenario", "recession")
    doc = json.loads(r.stdout)
    check([s["scenario"] for s in doc["scenarios"]] == ["base", "recession"], "report json with --scenario")
    check(doc["provenance"]["seed"] == 20261122, "report json provenance")
    with h5py.File(out, "r") as f:
        check(doc["scenarios"][0]["roi_p10"] == float(f["roi_quantile"][0, 1]), "json P10 equals the file's")
    r = roisim("report", out)
    check(r.returncode == 0 and "P50 ROI" in r.stdout, "report table")
    # the sweep's names are long and differ at the end (the funded subset): each row keeps the start
    # and the end of its name, and no two rows read the same (they were cut to
    # "macro=base/translation=low/maintenance=lean/funded=recomm...")
    with h5py.File(out, "r") as f:
        names = [x.decode() if isinstance(x, bytes) else x for x in f["scenario"][:]]
    table = blocks(r.stdout)[1]
    printed = [cells(l)[0] for l in table[1:]]
    check(len(table) == 564 and len(set(printed)) == 563 and all(shown_as(p, n) for p, n in zip(printed, names)),
          "report table: long sweep names keep their start and end, all distinct: "
          + repr([p for p in printed if printed.count(p) > 1][:3]))

    # columns never touch: every value of a file where every trial loses (-100.0% [-100.0%, -100.0%]
    # filled the interval column), ROI below -1000% beside the name; a ROI no input moves has no drivers
    lose = write("lose.yaml", "roisim: 1\nname: all-lose\nsettings: {trials: 200, seed: 3, horizon_months: 12}\nprojects:\n"
                "  a: {kind: direct, initial_cost: 1000000, p_success: 0.0, inputs: {annual_value: {dist: uniform, min: 10, max: 20}}}\n"
                "  b: {kind: direct, initial_cost: 500000, inputs: {annual_value: 1000}}\n"
                "  c: {kind: direct, initial_cost: 1, inputs: {annual_value: {dist: uniform, min: -2000, max: 1000}}}\n"
                "sweep: {funded: all_subsets, axes: {m: {x: {}}}}\n")
    lose_h5 = os.path.join(tmp, "lose.h5")
    r = roisim("run", lose, "-o", lose_h5)
    run_table = blocks(r.stdout)[1]
    check(r.returncode == 0 and len(run_table) == 9 and all(len(cells(l)) == 7 for l in run_table),
          "run table: seven columns apart on every line: " + repr(run_table))
    r = roisim("report", lose_h5, "--scenario", "m=x/funded=a", "--scenario", "m=x/funded=b", "--scenario", "m=x/funded=c")
    parts = blocks(r.stdout)
    check(r.returncode == 0 and len(parts) == 6 and all(len(cells(l)) == 7 for l in parts[1])
          and all(len(cells(l)) == 6 for l in parts[2][1:]) and "-100.0% [-100.0%, -100.0%]" in parts[2][2],
          "report: table and intervals columns apart on every line: " + repr(parts[1:3]))
    check(parts[3:5] == [["drivers of m=x/funded=a: no input varies the ROI"], ["drivers of m=x/funded=b: no input varies the ROI"]]
          and parts[5][0].startswith("drivers of m=x/funded=c (") and all(len(cells(l)) == 6 for l in parts[5][1:]),
          "report: a ROI no input varies says so instead of an empty drivers table: " + repr(parts[3:]))

    # names in other scripts: cut between characters (never inside one: the output stays UTF-8),
    # padded by terminal columns (an East Asian character takes two), never two rows alike
    uni = os.path.join(tmp, "unicode.yaml")
    uni_names = ["\u00e4" * 78 + " A", "\u00e4" * 78 + " B", "X" * 40 + "1" + "Y" * 40, "X" * 40 + "2" + "Y" * 40,
                 "\u6771\u4eac\u652f\u5e97\u306e\u6295\u8cc7", "Zu\u0308rich", "launch \U0001F680 done \u2705", "plain"]
    with open(uni, "w", encoding="utf-8") as f:
        f.write("roisim: 1\nsettings: {trials: 50, seed: 1}\nprojects:\n"
                "  p: {kind: direct, initial_cost: 100, inputs: {annual_value: {dist: uniform, min: 10, max: 90}}}\n"
                "scenarios:\n" + "".join(f'  - name: "{n}"\n' for n in uni_names))
    uni_h5 = os.path.join(tmp, "unicode.h5")
    for args in (("run", uni, "-o", uni_h5), ("report", uni_h5)):
        r = subprocess.run([ROISIM, *args], capture_output=True)
        try:
            text = r.stdout.decode("utf-8")
        except UnicodeDecodeError as e:
            text = None
            check(False, f"{args[0]}: the output is UTF-8: {e}")
        if text is not None:
            for table in [blocks(text)[1], blocks(text)[2][1:]]:
                printed = [cells(l)[0] for l in table[1:]]
                check(r.returncode == 0 and len({width(l) for l in table}) == 1 and len(set(printed)) == len(uni_names)
                      and all(shown_as(p, n) for p, n in zip(printed, uni_names)) and "\u2026" in printed[0],
                      f"{args[0]}: names aligned by terminal columns, cut between characters, all distinct: " + repr(table))
                if args[0] == "run":
                    break
    r = roisim("report", out, "--scenario", "nope")
    check(r.returncode == 1 and "no scenario named 'nope'" in r.stderr, "report unknown scenario")

    # bad input: exit 1, located message, nothing written, an existing target untouched
    bad = os.path.join(tmp, "bad.yaml")
    with open(SEED) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace("initial_cost: 900000", "initial_cost: -5").replace("catch_rate:", "catch_rat:"))
    target = write("bad.h5", "sentinel")
    r = roisim("run", bad, "-o", target)
    check(r.returncode == 1, f"bad input exits 1 (got {r.returncode})")
    check(f"{bad}:21:19: error: recommendations.initial_cost must be > 0 (got -5)" in r.stderr, "located error: " + r.stderr)
    check("did you mean 'catch_rate'?" in r.stderr and "missing input catch_rate" in r.stderr, "all errors reported: " + r.stderr)
    check(open(target).read() == "sentinel", "existing target untouched on bad input")
    check(not [f for f in os.listdir(tmp) if ".tmp-" in f], "no temporary file after bad input")

    # usage errors exit 2; unavailable sampler and bad output paths exit 1
    check(roisim().returncode == 2, "no subcommand -> 2")
    check(roisim("run").returncode == 2, "missing file -> 2")
    check(roisim("run", SEED, "--bogus").returncode == 2, "unknown option -> 2")
    check(roisim("run", SEED, "--compression", "12").returncode == 2, "compression out of range -> 2")
    r = roisim("run", SEED, "--sampler", "halton", "-o", os.path.join(tmp, "x.h5"))
    check(r.returncode == 2 and "halton" in r.stderr, "unknown sampler is a usage error")
    r = roisim("run", SEED, "-o", os.path.join(tmp, "missing", "x.h5"))
    check(r.returncode == 1 and "does not exist" in r.stderr, "missing output folder refused")
    copy = os.path.join(tmp, "copy.yaml")
    shutil.copy(SEED, copy)
    r = roisim("run", copy, "-o", copy)
    check(r.returncode == 1 and open(copy).read() == text, "output = input refused, input untouched")
    r = roisim("run", SEED, "-o", "/proc/roisim-not-writable.h5", "--trials", "10")
    check(r.returncode == 1 and "error" in r.stderr, "unwritable output folder refused: " + r.stderr)
    r = roisim("run", SEED, "-o", os.path.join(copy, "x.h5"))
    check(r.returncode == 1 and "does not exist" in r.stderr, "output under a file refused: " + r.stderr)
    r = roisim("run", os.path.join(tmp, "nope.yaml"))
    check(r.returncode == 1 and "cannot open the scenario file (No such file or directory)" in r.stderr,
          "missing scenario file -> 1, with the reason: " + r.stderr)
    r = roisim("validate", os.path.join(tmp, "nope.yaml"))
    check(r.returncode == 1 and "nope.yaml: error: cannot open the scenario file (No such file or directory)" in r.stderr,
          "validate a missing file: the reason: " + r.stderr)
    if os.geteuid() != 0:  # root reads it anyway
        locked = write("locked.yaml", text)
        os.chmod(locked, 0)
        r = roisim("validate", locked)
        check(r.returncode == 1 and "cannot open the scenario file (Permission denied)" in r.stderr,
              "validate an unreadable file: the reason: " + r.stderr)

    # counts of one read in the singular
    one = write("one.yaml", "roisim: 1\nprojects:\n  p: {kind: direct, initial_cost: 1, inputs: {annual_value: {dist: uniform, min: 0, max: 2}}}\n")
    r = roisim("validate", one)
    check(r.returncode == 0 and r.stdout == f"{one}: ok, 1 project, 1 uncertain input, 1 scenario\n", "validate, counts of one: " + r.stdout)
    r = roisim("run", one, "--trials", "1", "--quiet", "-o", os.path.join(tmp, "one.h5"))
    r = roisim("report", os.path.join(tmp, "one.h5"))
    check(r.returncode == 0 and r.stdout.startswith(os.path.join(tmp, "one.h5") + ": 1 scenario x 1 trial\n"), "report, counts of one: " + r.stdout[:200])
    os.unlink(os.path.join(tmp, "one.h5"))

    # default output name: FILE with .h5
    r = roisim("run", copy, "--trials", "50", "--quiet")
    check(r.returncode == 0 and os.path.exists(os.path.join(tmp, "copy.h5")), "default output path")

    # outputs that are not regular files, reports written with -o, standard output that fails
    # (a link to /dev/null and a named pipe in the test's folder: a regression replaces them, not /dev/null)
    fifo, devnull = os.path.join(tmp, "fifo"), os.path.join(tmp, "devnull")
    os.mkfifo(fifo)
    os.symlink("/dev/null", devnull)
    for path, kind in ((devnull, "a character device"), (fifo, "a named pipe")):
        r = roisim("run", SEED, "--trials", "50", "--quiet", "-o", path)
        check(r.returncode == 1 and f"not a regular file ({kind})" in r.stderr, f"-o {kind} refused: " + r.stderr)
    check(os.path.islink(devnull) and not os.path.isfile(fifo) and os.path.exists(fifo), "the link and the pipe are still there")
    os.unlink(fifo)
    rep = os.path.join(tmp, "copy.h5")
    before = open(rep, "rb").read()
    r = roisim("report", rep, "-o", rep)
    check(r.returncode == 1 and "is the results file being read" in r.stderr and open(rep, "rb").read() == before,
          "report -o its own input refused, the input untouched: " + r.stderr)
    for fmt in ("table", "csv", "json", "markdown"):
        dest = os.path.join(tmp, "report." + fmt)
        r = roisim("report", rep, "--format", fmt, "-o", dest)
        ref = roisim("report", rep, "--format", fmt)
        check(r.returncode == 0 and r.stdout == "" and os.path.isfile(dest) and open(dest).read() == ref.stdout,
              f"report --format {fmt} -o FILE writes the file, not standard output")
    out_link = os.path.join(tmp, "stdout")  # -> /dev/stdout (a pipe here): written through, not replaced
    os.symlink("/dev/stdout", out_link)
    r = roisim("report", rep, "--format", "csv", "-o", out_link)
    check(r.returncode == 0 and r.stdout.startswith("scenario,funded,") and os.path.islink(out_link),
          "report -o a link to /dev/stdout writes to the pipe")
    # ... and with standard output redirected to a file (the descriptor's link then leads to a
    # regular file, which must be written, not renamed over): report writes it, run refuses
    redirected = os.path.join(tmp, "redirected.csv")
    with open(redirected, "w") as f:
        r = subprocess.run([ROISIM, "report", rep, "--format", "csv", "-o", out_link], stdout=f, stderr=subprocess.PIPE, text=True)
    check(r.returncode == 0 and open(redirected).read().startswith("scenario,funded,") and os.path.islink(out_link),
          "report -o a link to /dev/stdout, stdout a file: the file gets the report, the link stays: " + r.stderr)
    with open(redirected, "a") as f:  # >> : what the file held stays
        r = subprocess.run([ROISIM, "report", rep, "--format", "csv", "-o", out_link], stdout=f, stderr=subprocess.PIPE, text=True)
    check(r.returncode == 0 and open(redirected).read().count("scenario,funded,") == 2, "report -o /dev/stdout appended with >>")
    with open(redirected, "w") as f:
        r = subprocess.run([ROISIM, "run", SEED, "--trials", "20", "--quiet", "-o", out_link], stdout=f, stderr=subprocess.PIPE, text=True)
    check(r.returncode == 1 and "a file descriptor of a process" in r.stderr and os.path.islink(out_link),
          "run -o a link to /dev/stdout is refused: " + r.stderr)
    # a leftover temporary name (a killed run whose pid is reused) does not block report -o
    for pid_guess in range(os.getpid(), os.getpid() + 50):
        open(os.path.join(tmp, f"again.csv.tmp-{pid_guess}"), "w").close()
    r = roisim("report", rep, "--format", "csv", "-o", os.path.join(tmp, "again.csv"))
    check(r.returncode == 0 and os.path.isfile(os.path.join(tmp, "again.csv")), "report -o beside leftover temporary names")
    for f in os.listdir(tmp):
        if f.startswith("again.csv.tmp-"):
            os.unlink(os.path.join(tmp, f))
    # an output name that fits NAME_MAX but not with ".tmp-<pid>-<hex>" after it (241-255 bytes):
    # written through a shorter temporary name, nothing left over; one past NAME_MAX is refused
    name_max = os.pathconf(tmp, "PC_NAME_MAX")
    for n in (name_max, name_max - 10):
        long_h5, long_csv = os.path.join(tmp, "y" * (n - 3) + ".h5"), os.path.join(tmp, "r" * (n - 4) + ".csv")
        r = roisim("run", copy, "--trials", "20", "--quiet", "-o", long_h5)
        check(r.returncode == 0 and os.path.isfile(long_h5) and not [f for f in os.listdir(tmp) if ".tmp-" in f],
              f"run -o a {n}-byte name: written, no temporary file left: {r.returncode} {r.stderr.strip()}")
        r, ref = roisim("report", long_h5, "--format", "csv", "-o", long_csv), roisim("report", long_h5, "--format", "csv")
        check(r.returncode == 0 and os.path.isfile(long_csv) and open(long_csv).read() == ref.stdout
              and not [f for f in os.listdir(tmp) if ".tmp-" in f],
              f"report -o a {n}-byte name: written, no temporary file left: {r.returncode} {r.stderr.strip()}")
        for f in (long_h5, long_csv):
            if os.path.exists(f):
                os.unlink(f)
    too_long = os.path.join(tmp, "z" * (name_max - 2) + ".h5")
    r = roisim("run", copy, "--trials", "20", "--quiet", "-o", too_long)
    check(r.returncode == 1 and "File name too long" in r.stderr and not [f for f in os.listdir(tmp) if ".tmp-" in f],
          f"run -o a name past NAME_MAX: exit 1, the reason, no file: {r.returncode} {r.stderr.strip()}")
    r = roisim("report", rep, "-o", tmp)
    check(r.returncode == 1 and "is a folder" in r.stderr, "report -o FOLDER refused")
    r = roisim("report", rep, "-o", os.path.join(tmp, "missing", "r.txt"))
    check(r.returncode == 1 and "cannot write" in r.stderr and "No such file or directory" in r.stderr, "report -o in a missing folder: " + r.stderr)
    with open("/dev/full", "w") as full:
        for args in (("validate", SEED), ("report", rep, "--format", "csv")):
            r = subprocess.run([ROISIM, *args], stdout=full, stderr=subprocess.PIPE, text=True)
            check(r.returncode == 1 and "writing to standard output failed" in r.stderr,
                  f"{args[0]} > /dev/full: exit 1 with a message (got {r.returncode}: {r.stderr.strip()})")
        # run: its table could not be written, but the results file was, and the message says so
        written = os.path.join(tmp, "full.h5")
        r = subprocess.run([ROISIM, "run", SEED, "--trials", "20", "-o", written], stdout=full, stderr=subprocess.PIPE, text=True)
        check(r.returncode == 1 and f"the results file '{written}' was written" in r.stderr and os.path.isfile(written),
              "run > /dev/full: exit 1, and the message says the file was written: " + r.stderr)
    other = os.path.join(tmp, "other.h5")
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2, 3]
    r = roisim("report", other)
    check(r.returncode == 1 and "not a roisim results file" in r.stderr, "another program's HDF5 file: " + r.stderr)
    r = roisim("report", tmp)
    check(r.returncode == 1 and "is a folder, not a results file" in r.stderr, "report FOLDER: " + r.stderr)
    r = roisim("validate", tmp)
    check(r.returncode == 1 and "is a folder, not a scenario file" in r.stderr, "validate FOLDER: " + r.stderr)

    # option values out of range are usage errors with a plain message
    for args, what in ((("run", SEED, "--seed", "-1"), "--seed: must be a whole number from 0 to 9223372036854775807"),
                       (("run", SEED, "--seed", "18446744073709551616"), "--seed: must be a whole number"),
                       (("run", SEED, "--target-ci", "nan"), "--target-ci: must be a finite number above 0"),
                       (("run", SEED, "--target-ci", "0"), "--target-ci: must be a finite number above 0"),
                       (("report", rep, "--hurdle", "nan"), "--hurdle: must be a finite number"),
                       (("frontier", rep, "--budget", "inf"), "--budget: must be a finite number of at least 0"),
                       (("frontier", rep, "--budget", "0x1388"), "--budget: must be a finite number"),
                       (("report", rep, "--hurdle", "0x1"), "--hurdle: must be a finite number"),
                       (("run", SEED, "--target-ci", " 0.5"), "--target-ci: must be a finite number above 0"),
                       (("run", SEED, "--target-ci", "0x1p-2"), "--target-ci: must be a finite number above 0"),
                       (("run", SEED, "--trials", "1.5"), "--trials: must be a whole number"),
                       (("run", SEED, "--trials", "0x10"), "--trials: must be a whole number"),
                       (("run", SEED, "--seed", "+-0"), "--seed: must be a whole number"),
                       (("run", SEED, "--target-ci", "0.5", "--max-trials", "0x1"), "--max-trials: must be a whole number"),
                       (("run", SEED, "--compression", "011"), "--compression: must be a whole number from 0 to 9"),
                       (("run", SEED, "--threads", "0x2"), "--threads: must be a whole number from 1 to 4096"),
                       (("run", SEED, "--replay", "base"), "--replay: takes SCENARIO:TRIAL"),
                       (("run", SEED, "--replay", "base:-1"), "--replay: takes SCENARIO:TRIAL"),
                       (("run", SEED, "--replay", "base:99999999999999999999999"), "--replay: takes SCENARIO:TRIAL")):
        r = roisim(*args, "-o" if args[0] == "run" else "--format", os.path.join(tmp, "x.h5") if args[0] == "run" else "table")
        check(r.returncode == 2 and what in r.stderr, f"{' '.join(args[2:])}: exit 2 with '{what}' (got {r.returncode}: {r.stderr.strip()[:200]})")
    # CLI11's messages for a command that is not one ("A subcommand is required", also for a typo)
    # and an option given twice ("At Most 1 required but received 2"), in plain words
    commands = "the commands are run, validate, report, bench, compare, frontier"
    for args, says in ((("frobnicate",), "unknown command 'frobnicate'; " + commands),
                       (("reprot", rep), "unknown command 'reprot' (did you mean 'report'?); " + commands),
                       (("valid", SEED), "unknown command 'valid' (did you mean 'validate'?)"),
                       (("rep", rep), "unknown command 'rep' (did you mean 'report'?)"),  # a prefix before distance ('run')
                       (("RUN", SEED), "unknown command 'RUN' (did you mean 'run'?)"),
                       (("r", SEED), "unknown command 'r'; " + commands),  # run or report: no hint
                       ((), "a command is required: one of run, validate, report, bench, compare, frontier"),
                       (("--trials", "5", "run", SEED), "unknown option '--trials' before the command (a command's options follow it); " + commands),
                       (("--", "run", SEED), "'--' ends the options: the command comes before it; " + commands),
                       (("run", SEED, "--trials", "5", "--trials", "6", "-o", os.path.join(tmp, "x.h5")),
                        "--trials: given 2 times; give it once"),
                       (("run", SEED, "--trials", "5", "--trials", "6", "--trials", "7", "-o", os.path.join(tmp, "x.h5")),
                        "--trials: given 3 times; give it once"),
                       (("report", rep, "--format", "csv", "--format", "json"), "--format: given 2 times; give it once"),
                       # errors inside a command keep CLI11's words (not "given N times", not "unknown command")
                       (("compare", rep, rep, rep, rep, rep), "args: At Most 4 required but received 5"),
                       (("run",), "file is required")):
        r = roisim(*args)
        check(r.returncode == 2 and r.stderr.startswith(says) and "Run with --help" in r.stderr and r.stdout == ""
              and not os.path.exists(os.path.join(tmp, "x.h5")),
              f"roisim {' '.join(args)}: exit 2 with '{says}' (got {r.returncode}: {r.stderr.strip()[:200]})")
    small_seed = os.path.join(tmp, "small_seed.h5")
    roisim("run", SEED, "--trials", "50", "--summary-only", "-o", small_seed, "--quiet")
    # the user's words in a message are escaped: an ESC sequence had reached the terminal, a line
    # break had started a line of its own
    for args, says in ((("fro\x1b[2Jb", SEED), "unknown command 'fro\\x1b[2Jb'"),
                       (("run", SEED, "--sampler", "mc\nerror: forged"), "--sampler: mc\\nerror: forged not in {mc,lhs,sobol}"),
                       (("report", os.path.join(tmp, "no\nsuch.h5")), "error: results file '" + tmp + "/no\\nsuch.h5': opening failed")):
        r = roisim(*args)
        check(r.returncode in (1, 2) and says in r.stderr and "\x1b" not in r.stderr and r.stderr.count("\n") <= 2,
              f"roisim {args!r}: escaped in the message (got {r.returncode}: {r.stderr!r})")
    # a device as the scenario file: read up to a limit, then refused (it had been read until memory ran out)
    r = roisim("validate", "/dev/zero")
    check(r.returncode == 1 and "/dev/zero: error: is larger than 256 MiB, too large for a scenario file" in r.stderr,
          f"validate /dev/zero: refused after 256 MiB (got {r.returncode}: {r.stderr[:200]})")
    # a whole number is whole as written (these ran seed ...498 and 50 trials)
    for opt, val in (("--seed", "4503599627370497.5"), ("--trials", "50.000000000000001"), ("--seed", "9007199254740993.0")):
        r = roisim("run", SEED, opt, val, "-o", os.path.join(tmp, "x.h5"))
        check(r.returncode == 2 and f"{opt}: must be a whole number from" in r.stderr and f"(got '{val}')" in r.stderr
              and not os.path.exists(os.path.join(tmp, "x.h5")), f"run {opt} {val}: refused (got {r.returncode}: {r.stderr[:200]})")
    # a file asking for sobol with more inputs than Boost's 3667 dimensions: validate says so at
    # settings.sampler, and --sampler lhs runs it (the check at load had refused that too)
    many = write("sobol_many.yaml", "roisim: 1\nsettings: {trials: 20, seed: 1, sampler: sobol}\nfactors:\n"
                 + "".join(f"  f{k}: {{dist: uniform, min: 1, max: 2}}\n" for k in range(3700))
                 + "projects:\n  a: {kind: direct, initial_cost: 1, inputs: {annual_value: {factor: f0}}}\n")
    r = roisim("validate", many)
    check(r.returncode == 1 and f"{many}:2:42: error: settings.sampler sobol: input" in r.stderr,
          f"validate of a sobol file beyond Boost's tables: refused at settings.sampler ({r.stderr[:200]})")
    r = roisim("run", many, "--sampler", "lhs", "--summary-only", "-o", os.path.join(tmp, "many.h5"), "--quiet")
    check(r.returncode == 0, f"--sampler lhs runs a file that asks for sobol beyond Boost's tables ({r.stderr[:200]})")
    r = roisim("bench", many, "--threads", "1", "--repeat", "1")
    check(r.returncode == 1 and f"{many}:2:42: error: settings.sampler sobol: input" in r.stderr,
          f"bench of it: refused at settings.sampler ({r.stderr[:200]})")
    r = roisim("run", many, "-o", os.path.join(tmp, "many2.h5"), "--quiet")
    check(r.returncode == 1 and "settings.sampler sobol" in r.stderr and not os.path.exists(os.path.join(tmp, "many2.h5")),
          f"run of it with its own sampler: refused at settings.sampler ({r.stderr[:200]})")
    # ... also in the messages built from a plain string (a scenario name given to report), and a
    # byte outside UTF-8 (0x9B, the 8-bit CSI) in an argument
    r = roisim("report", small_seed, "--scenario", "zz\x1b[2J\nerror: x")
    check(r.returncode == 1 and "\x1b" not in r.stderr and "zz\\x1b[2J\\nerror: x" in r.stderr and r.stderr.count("\n") == 1,
          f"report --scenario with ESC and a line break: escaped ({r.stderr!r})")
    r = subprocess.run([ROISIM.encode(), b"report", small_seed.encode(), b"--format", b"\x9b2J"], capture_output=True)
    check(r.returncode == 2 and b"\x9b" not in r.stderr and b"\\x9b2J" in r.stderr,
          f"a byte outside UTF-8 in an argument: escaped ({r.stderr!r})")
    # help names each value once, without CLI11's type before it ("--trials UINT:INT",
    # "--sampler TEXT:{mc,lhs,sobol}", "--replay TEXT:SCENARIO:TRIAL" before)
    helps = {c: roisim(c, "--help") for c in ("run", "validate", "report", "bench", "compare", "frontier")}
    for c, r in helps.items():
        typed = re.findall(r"\b(?:TEXT|UINT|INT|FLOAT):\S*", r.stdout)
        check(r.returncode == 0 and not typed, f"{c} --help: no CLI11 type before a value's name (got {typed})")
    for c, shown in (("run", "--trials INT Excludes: --target-ci"), ("run", "--sampler {mc,lhs,sobol}"),
                     ("run", "--replay SCENARIO:TRIAL"), ("run", "--target-ci NUMBER"), ("run", "-o,--output PATH"),
                     ("bench", "--threads INT,..."), ("frontier", "--risk {roi_p10,cvar10}")):
        check(shown in helps[c].stdout, f"{c} --help shows '{shown}': {helps[c].stdout[:600]}")
    # bench's list of thread counts: an empty element is an error (CLI11's delimiter dropped it, so
    # "1,,2", "1," and ",2" ran; the other three were refused before too, in other words), each
    # element reads as --threads does; repeating the option adds to it; the list is one argument, so
    # a FILE after it stays the file (the list option had taken it as a further value)
    for bad in ("1,,2", "1,", ",2", "", "0x2", "1,5000"):
        r = roisim("bench", SEED, "--trials", "10", "--repeat", "1", "--threads", bad)
        check(r.returncode == 2 and f"--threads: must be a comma-separated list of whole numbers from 1 to 4096 (got '{bad}')" in r.stderr
              and r.stdout == "", f"bench --threads '{bad}': exit 2 with a message (got {r.returncode}: {r.stderr.strip()[:200]})")
    r = roisim("bench", SEED, "--trials", "10", "--repeat", "1", "--threads", "2,+1", "--threads", "1e0", "--json")
    counts = [row.get("threads") for row in json.loads(r.stdout).get("runs", [])] if r.returncode == 0 else None
    check(counts == [2, 1, 1], f"bench --threads 2,+1 --threads 1e0 runs 2, 1 and 1 threads (got {counts}: {r.stderr.strip()[:200]})")
    r = roisim("bench", "--trials", "10", "--repeat", "1", "--threads", "1,2", SEED, "--json")
    runs = json.loads(r.stdout).get("runs", []) if r.returncode == 0 else []
    check([row.get("threads") for row in runs] == [1, 2] and json.loads(r.stdout).get("file") == SEED,
          f"bench --threads 1,2 FILE runs FILE at 1 and 2 threads (got {r.returncode}: {r.stdout[:200]} {r.stderr.strip()[:200]})")
    # options that would be ignored, and empty paths, are usage errors (they were accepted and ignored:
    # --replay wrote no file to -o, --target-ci ran 2000 trials whatever --trials said, -o "" wrote
    # FILE.h5, --hurdle did nothing outside the memo)
    for args, what in ((("run", SEED, "--replay", "base:0", "-o", os.path.join(tmp, "x.h5")), "--output excludes --replay"),
                       (("run", SEED, "--replay", "base:0", "--summary-only"), "--summary-only excludes --replay"),
                       (("run", SEED, "--replay", "base:0", "--quiet"), "--quiet excludes --replay"),
                       (("run", SEED, "--target-ci", "0.5", "--trials", "50"), "--trials excludes --target-ci"),
                       (("run", SEED, "--max-trials", "5000"), "--max-trials requires --target-ci"),
                       (("bench", SEED, "--compression", "3"), "--compression requires --full-output"),
                       (("run", SEED, "-o", ""), "--output: must not be empty"),
                       (("report", rep, "-o", ""), "--output: must not be empty"),
                       (("report", rep, "--hurdle", "0.2"), "--hurdle applies to the memo (--format markdown or html)"),
                       (("report", rep, "--hurdle", "0.2", "--format", "csv"), "not to the csv format")):
        before = sorted(os.listdir(tmp))
        r = roisim(*args)
        check(r.returncode == 2 and what in r.stderr and sorted(os.listdir(tmp)) == before and r.stdout == "",
              f"{' '.join(args[2:])}: exit 2 with '{what}', nothing written (got {r.returncode}: {r.stderr.strip()[:200]})")
    # a scenario file that is not a regular file in a folder (a pipe, /dev/stdin) has no folder to
    # put the results beside: -o is asked for (it wrote /dev/stdin.h5 into /dev); with -o it runs
    with open(SEED, "rb") as f:
        seed_text = f.read()
    r = subprocess.run([ROISIM, "run", "/dev/stdin", "--trials", "20"], input=seed_text, capture_output=True, timeout=60)
    check(r.returncode == 1 and b"give the results file's path with -o" in r.stderr and not os.path.exists("/dev/stdin.h5"),
          "run /dev/stdin without -o: " + r.stderr.decode()[:200])
    piped = os.path.join(tmp, "piped.h5")
    r = subprocess.run([ROISIM, "run", "/dev/stdin", "--trials", "20", "-o", piped, "--quiet"], input=seed_text, capture_output=True,
                       timeout=60)
    check(r.returncode == 0 and os.path.isfile(piped), "run /dev/stdin -o FILE: " + r.stderr.decode()[:200])
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):  # a folder of files under /dev: FILE.h5 beside it
        shm = tempfile.mkdtemp(dir="/dev/shm")
        try:
            shutil.copy(SEED, os.path.join(shm, "s.yaml"))
            r = roisim("run", os.path.join(shm, "s.yaml"), "--trials", "20", "--quiet")
            check(r.returncode == 0 and os.path.isfile(os.path.join(shm, "s.h5")), "run /dev/shm/.../s.yaml writes s.h5 beside it: " + r.stderr)
        finally:
            shutil.rmtree(shm, ignore_errors=True)
    r = roisim("run", SEED, "--trials", "20", "-o", "/proc/roisim-x.h5")
    check(r.returncode == 1 and "exists" not in r.stderr and "not writable" in r.stderr, "-o /proc/x.h5 is not writable, not 'exists': " + r.stderr)
    # huge ROIs print as numbers with their '%' (from 10^15 % on in scientific notation; %f of 3e67
    # was cut to 63 wrong digits), money likewise; the memo's hurdle too
    big = write("bigroi.yaml", "roisim: 1\nsettings: {trials: 100}\nprojects:\n"
                "  a: {kind: direct, initial_cost: 1, inputs: {annual_value: 1e65}}\n")
    bigh5 = os.path.join(tmp, "bigroi.h5")
    r = roisim("run", big, "-o", bigh5)
    row = [l for l in r.stdout.splitlines() if l.startswith("base")]
    check(r.returncode == 0 and row and re.search(r"\b3\.00e\+67%", row[0]) and not re.search(r"[0-9]{20}", r.stdout),
          "huge ROI in the run table: " + repr(row))
    r = roisim("report", bigh5, "--format", "markdown", "--hurdle", "1e300")
    check(r.returncode == 0 and "1e+302% hurdle" in r.stdout and not re.search(r"[0-9]{20}", r.stdout), "huge ROI and hurdle in the memo")
    # a mean ROI or NPV that is not finite (inputs beyond a double) is warned of, even with --quiet
    huge = write("huge.yaml", "roisim: 1\nsettings: {trials: 100}\nprojects:\n"
                 "  a: {kind: direct, initial_cost: 1, inputs: {annual_value: {dist: normal, mean: 1e308, sd: 1e308}}}\n"
                 "  b: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"
                 "scenarios:\n  - {name: ok, projects: [b]}\n  - {name: huge, projects: [a]}\n")
    r = roisim("run", huge, "-o", os.path.join(tmp, "huge.h5"), "--quiet")
    check(r.returncode == 0 and "warning: 1 of 2 scenarios has a mean ROI or NPV that is not a finite number" in r.stderr
          and "first 'huge'" in r.stderr, "non-finite means warned of: " + r.stderr)
    # bench --json escapes the file name (a '"' in it made invalid JSON)
    odd = write('q"b\\x.yaml', "roisim: 1\nsettings: {trials: 10}\nprojects:\n"
                "  a: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n")
    r = roisim("bench", odd, "--trials", "10", "--repeat", "1", "--threads", "1", "--json")
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {}
    check(r.returncode == 0 and doc.get("file") == odd, "bench --json with a quote and a backslash in the file name: " + r.stdout[:200])
    # the html memo is written whole: a damaged file leaves nothing on standard output (it left the page's head)
    broken = os.path.join(tmp, "broken.h5")
    shutil.copy(bigh5, broken)
    with h5py.File(broken, "a") as f:
        del f["roi"]
        f["roi"] = np.array([[b"x"] * 100])  # text where numbers belong: read after the page's head
    r = roisim("report", broken, "--format", "html")
    check(r.returncode == 1 and r.stdout == "" and "'roi'" in r.stderr, "html memo of a damaged file: nothing on stdout: " + r.stdout[:100])
    r = roisim("run", SEED, "--trials", "1e2", "--seed", "+7", "--quiet", "-o", os.path.join(tmp, "decimal.h5"))
    with h5py.File(os.path.join(tmp, "decimal.h5")) as f:
        check(r.returncode == 0 and int(f.attrs["trials"]) == 100 and int(f.attrs["seed"]) == 7,
              "--trials 1e2 --seed +7 read as the scenario file reads them: " + r.stderr)
    r = roisim("run", SEED, "--trials", "010", "--seed", "0123", "--quiet", "-o", os.path.join(tmp, "decimal.h5"))
    with h5py.File(os.path.join(tmp, "decimal.h5")) as f:
        check(r.returncode == 0 and int(f.attrs["trials"]) == 10 and int(f.attrs["seed"]) == 123,
              "--trials 010 --seed 0123 are decimal, as in the scenario file (not octal)")
    r = roisim("run", SEED, "--trials", "20", "--quiet", "--seed", "9223372036854775807", "-o", os.path.join(tmp, "maxseed.h5"))
    check(r.returncode == 0, "the largest seed runs")
    with h5py.File(os.path.join(tmp, "maxseed.h5")) as f:
        check(int(f.attrs["seed"]) == 9223372036854775807, "the largest seed is stored as given")

    # bench without a file, from another folder: the seed portfolio of the source tree
    r = subprocess.run([os.path.abspath(ROISIM), "bench", "--trials", "100", "--threads", "1", "--repeat", "1", "--json"], cwd=tmp,
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and json.loads(r.stdout)["scenarios"] == 563, "bench's default file outside the repository: " + r.stderr)

    # scenario files the parser used to let through, each with a located error
    base = "roisim: 1\nprojects:\n  a: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"
    cases = [
        (base + 'scenarios:\n  - name: "x\n    projects: [a]\n', ":5:11: error: this quoted text has no closing double quote"),
        (base + "scenarios: [{name: 'y}]\n", ":4:20: error: this quoted text has no closing single quote"),
        (base + 'scenarios:\n  - name: &n "x\n    projects: [a]\n', ":5:11: error: this quoted text has no closing double quote"),
        (base + 'scenarios:\n  - name: ! "x\n    projects: [a]\n', ":5:11: error: this quoted text has no closing double quote"),
        (base.encode().decode() + "scenarios: [{name: b\xe9se}]\n", ":4:21: error: the file is not UTF-8 text (byte 0xE9 here)"),
        ("roisim: 1\nsettings: {trials: 2305843009213693952}\n" + base[10:], ":2:20: error: settings.trials must be at most 1099511627776"),
        ("roisim: 1\nsettings: {seed: 9223372036854775808}\n" + base[10:], ":2:18: error: settings.seed must be at most 9223372036854775807"),
        (base + '  "": {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n', ":4:3: error: a project name must not be empty"),
        ("roisim: 1\nfactors: {c0: {dist: uniform, min: 100, max: 200}}\nprojects:\n"
         "  a: {kind: direct, initial_cost: {factor: c0}, inputs: {annual_value: 1000}}\n"
         "scenarios:\n  - {name: neg, set: {c0: -50}}\n  - {name: zero, scale: {c0: 0}}\n",
         ":6:27: error: scenario 'neg'.set.c0 (factor read by a.initial_cost) must be > 0"),
        ("roisim: 1\nprojects:\n  a:\n    kind: direct\n    initial_cost:\n    inputs: {annual_value: 2}\n",
         ":5:18: error: a.initial_cost must be a number, not nothing"),
        ("roisim: 1\nprojects:\n  a:\n\tkind: direct\n", "(line 4 is indented with a tab; YAML indents with spaces only)"),
        ("roisim: 1\nprojects:\n  a: {kind: direct, initial_cost: 1, maintenance_share: 0.2, inputs: {annual_value: 2}}\n"
         "scenarios:\n  - {name: s, scale: {a.maintenance_share: -1}}\n", ":5:44: error: scaling a.maintenance_share by -1 would make it negative"),
    ]
    for i, (text_, want) in enumerate(cases):
        path = os.path.join(tmp, f"parse{i}.yaml")
        with open(path, "wb") as f:
            f.write(text_.encode("latin-1") if "\xe9" in text_ else text_.encode())
        r = roisim("validate", path)
        check(r.returncode == 1 and (path + want if want.startswith(":") else want) in r.stderr, f"parse case {i}: want '{want}', got {r.returncode}: {r.stderr.strip()[:300]}")
    ok_text = base + 'scenarios:\n  - {name: "\u00e9\u00e9\u00e9\u00e9\u00e9", projects: [&p "a"]}\n  - {name: &q "b", projects: [*p]}\n'
    with open(os.path.join(tmp, "quotes_ok.yaml"), "w", encoding="utf-8") as f:
        f.write(ok_text)
    r = roisim("validate", os.path.join(tmp, "quotes_ok.yaml"))
    check(r.returncode == 0, "closed quotes after multi-byte text, anchors and aliases are accepted: " + r.stderr)
    r = roisim("validate", os.path.join(tmp, "parse8.yaml"))  # the factor cases (both errors reported)
    check("scaling factor 'c0' by 0 would make a.initial_cost <= 0" in r.stderr, "a zero scale of a cost factor is refused too")

    # correlation_repair: nearest says what it changed
    with open(os.path.join(tmp, "repair.yaml"), "w") as f:
        f.write(text.replace("  seed: 20261122\n", "  seed: 20261122\n  correlation_repair: nearest\n").replace(
            "  - [recommendations.conversion_rate, recommendations.avg_order_value, -0.2]\n",
            "  - [recommendations.conversion_rate, recommendations.avg_order_value, 0.9]\n"
            "  - [recommendations.conversion_rate, fraud.fraud_rate, 0.9]\n"
            "  - [recommendations.avg_order_value, fraud.fraud_rate, -0.9]\n"))
    r = roisim("validate", os.path.join(tmp, "repair.yaml"))
    check(r.returncode == 0 and "correlation_repair: nearest imposes the nearest valid one" in r.stdout, "repair note: " + r.stdout + r.stderr)
    # ... and reports both matrices (SPEC section 3): every changed pair, as given and as repaired,
    # the largest change first; the repaired values are those the results file stores
    pairs = [l.split() for l in r.stdout.splitlines() if l.startswith("  ") and "->" in l]
    changes = [abs(float(p[-3]) - float(p[-1])) for p in pairs]
    given = {frozenset((p[0], p[2])): p[3] for p in pairs}
    check("changing %d pairs of inputs" % len(pairs) in r.stdout and len(pairs) >= 3 and changes == sorted(changes, reverse=True)
          and given.get(frozenset(("recommendations.conversion_rate", "fraud.fraud_rate"))) == "0.900"
          and given.get(frozenset(("recommendations.avg_order_value", "fraud.fraud_rate"))) == "-0.900", "repaired pairs listed: " + r.stdout)
    r = roisim("run", os.path.join(tmp, "repair.yaml"), "--trials", "20", "--summary-only", "-o", os.path.join(tmp, "repair_run.h5"))
    with h5py.File(os.path.join(tmp, "repair_run.h5"), "r") as f:
        names = [x.decode() for x in f["corr_input"][:]]
        fixed = f["correlation_spearman_repaired"][:]
    listed = {(p[0], p[2]): float(p[5]) for p in pairs}
    check(r.returncode == 0 and all(abs(fixed[names.index(a), names.index(b)] - v) <= 0.0005 for (a, b), v in listed.items())
          and sum(l.startswith("  ") and "->" in l for l in r.stderr.splitlines()) == len(pairs),
          "run lists the same pairs, as the file stores them: " + r.stderr)

    # a write that fails mid-run (a file size limit, `ulimit -f`, standing in for a full disk): a
    # clean error, no crash at exit, no temporary file, the previous target intact. SIGXFSZ keeps
    # its default action here (subprocess restores it), which would kill roisim unless it ignores it.
    import resource
    def limit(size):
        def f():
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        return f
    target = write("limited.h5", "old results")
    for extra, size in (((), 2 << 20), (("--summary-only",), 300 << 10)):
        r = subprocess.run([ROISIM, "run", SEED, "--trials", "3000", "-o", target, "--quiet", *extra], preexec_fn=limit(size),
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 1 and "File too large" in r.stderr and "HDF5-DIAG" not in r.stderr,
              f"failed write {extra}: exit 1, errno in the message (got {r.returncode}: {r.stderr.strip()[:300]})")
        check(f"results file '{target}'" in r.stderr and ".tmp-" not in r.stderr,
              f"failed write {extra}: the message names the file asked for, not the removed temporary one: {r.stderr.strip()[:300]}")
        check(open(target).read() == "old results" and not [f for f in os.listdir(tmp) if ".tmp-" in f],
              "failed write: old target intact, no temporary file")
    r = subprocess.run([ROISIM, "report", rep, "--format", "json", "-o", os.path.join(tmp, "big.json")],
                       preexec_fn=limit(1000),
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "File too large" in r.stderr and not os.path.exists(os.path.join(tmp, "big.json"))
          and not [f for f in os.listdir(tmp) if ".tmp-" in f], "report -o that cannot be written: " + r.stderr)

    # progress: a one-line bar on a terminal (here a pseudo-terminal from `script`), cleared at the
    # end; nothing when stderr is not a terminal or with --quiet
    if shutil.which("script"):
        pb = os.path.join(tmp, "progress.h5")

        def on_terminal(command):  # rc, output, its progress lines (bytes: text mode reads '\r' as '\n')
            # stdin not a terminal: script would give the pty the caller's window size (not 80 columns)
            r = subprocess.run(["script", "-qc", command, "/dev/null"], capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
            out = r.stdout.decode("utf-8", "replace")
            return r.returncode, out, [l.replace("\x1b[K", "") for l in re.split(r"[\r\n]+", out) if " simulated, " in l]

        rc, out, lines = on_terminal(f"{ROISIM} run {SEED} --trials 2000 -o {pb}")
        check(rc == 0 and len(lines) >= 2 and "s left" in lines[-1] and "100%" in lines[-1] and re.search(r"\[#{8,}\]", lines[-1]) and out.count("\x1b[K") >= 3
              and "\r\x1b[K" in out and "stage" not in out, "progress bar on a terminal, cleared at the end: " + repr(out[:300]))
        # auto-stop: each trial count tried is a stage of its own, named with its trial count, and the
        # run that writes the file counts that file's trials; with --summary-only the 80 copies of
        # identical scenarios are not simulated (the bar showed 563 x settings.trials per stage)
        rc, out, lines = on_terminal(f"{ROISIM} run {SEED} --target-ci 0.05 --max-trials 4000 --threads 2 --summary-only -o {pb}")
        with h5py.File(pb, "r") as f:
            n = int(f.attrs["trials"])
        final = [l for l in lines if f"final run ({n} trials)" in l and "100%" in l]
        simulated = [re.search(r" ([0-9.]+)([kM]?) simulated", l) for l in final]
        simulated = [float(m[1]) * {"": 1, "k": 1e3, "M": 1e6}[m[2]] for m in simulated if m]
        check(rc == 0 and any("stage 1 (2000 trials)" in l for l in lines) and simulated
              and abs(simulated[-1] - 483 * n) <= 0.005 * 483 * n,
              f"progress under --target-ci names the stage and counts the trials simulated: {lines[-3:]!r}")
        # the line fits 80 columns (the terminal's width when it gives none; the stage label made it
        # ~100): a line that wraps is not overwritten by the next; on 40 columns the bar gives way,
        # then the words are cut
        check(lines and max(len(l) for l in lines) <= 79 and all(re.search(r"\) \[[#.]{8,}\] ", l) for l in lines),
              f"progress line fits 80 columns, with a bar of 8 or more beside the stage label: {max(lines, key=len)!r}")
        rc, out, lines = on_terminal(f"stty cols 40; {ROISIM} run {SEED} --trials 2000 --threads 2 --summary-only -o {pb}")
        check(rc == 0 and lines and max(len(l) for l in lines) <= 39 and "[" not in "".join(lines),
              f"progress line on 40 columns: {lines[-2:]!r}")
        rc, out, lines = on_terminal(f"stty cols 120; {ROISIM} run {SEED} --trials 2000 --threads 2 --summary-only -o {pb}")
        check(rc == 0 and lines and all(re.match(r"  \[[#.]{24}\] ", l) for l in lines), f"progress bar of 24 columns on 120: {lines[-2:]!r}")
        rc, out, lines = on_terminal(f"{ROISIM} run {SEED} --trials 2000 -o {pb} --quiet")
        check(rc == 0 and not lines, "--quiet: no progress bar")
    r = roisim("run", SEED, "--trials", "500", "-o", os.path.join(tmp, "pipe.h5"))
    check(r.returncode == 0 and r.stderr == "", "no progress bar when stderr is not a terminal")

    # SIGINT stops the run promptly, leaves no file and exits 130
    slow = os.path.join(tmp, "slow.h5")
    p = subprocess.Popen([ROISIM, "run", SEED, "--trials", "200000", "-o", slow, "--quiet"], stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    t0 = time.time()
    rc = p.wait(timeout=60)
    check(rc == 130, f"SIGINT exits 130 (got {rc})")
    check(time.time() - t0 < 5, "SIGINT stops promptly")
    check(not os.path.exists(slow) and not [f for f in os.listdir(tmp) if ".tmp-" in f], "SIGINT leaves no file")
    # SIGHUP left ignored by the caller (nohup) stays ignored: the run completes
    p = subprocess.Popen([ROISIM, "run", SEED, "--trials", "20000", "-o", slow, "--quiet"], stderr=subprocess.PIPE,
                         preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    time.sleep(0.5)
    p.send_signal(signal.SIGHUP)
    rc = p.wait(timeout=120)
    check(rc == 0 and os.path.isfile(slow), f"SIGHUP under nohup is ignored (got {rc})")
    os.unlink(slow)
    # SIGHUP (a closed terminal or ssh session) too, exit 129
    p = subprocess.Popen([ROISIM, "run", SEED, "--trials", "200000", "-o", slow, "--quiet"], stderr=subprocess.PIPE)
    time.sleep(1.0)
    p.send_signal(signal.SIGHUP)
    rc = p.wait(timeout=60)
    check(rc == 129 and not os.path.exists(slow) and not [f for f in os.listdir(tmp) if ".tmp-" in f],
          f"SIGHUP exits 129 and leaves no file (got {rc})")

    # a reader that goes away (SIGPIPE): a run whose stderr it was stops, exit 141, leaving neither
    # the target nor its temporary file (it was killed with the temporary file left behind); a
    # report piped into `head` ends quietly with 141, printing no "interrupted"
    for attempt in range(3):
        p = subprocess.Popen([ROISIM, "run", SEED, "--trials", "20000", "-o", slow], stderr=subprocess.PIPE,
                             env=dict(os.environ, ROISIM_TIMELINE="1"))
        while True:  # the temporary file exists once a batch is simulated
            line = p.stderr.readline()
            if not line or b"batch simulated" in line:
                break
        p.stderr.close()
        rc = p.wait(timeout=120)
        check(rc == 141 and not os.path.exists(slow) and not [f for f in os.listdir(tmp) if ".tmp-" in f],
              f"SIGPIPE on a run's stderr: exit 141, no file left (got {rc}: {os.listdir(tmp)})")
    small_pipe = os.path.join(tmp, "small_pipe.h5")
    roisim("run", SEED, "--trials", "200", "-o", small_pipe, "--quiet")
    many = [a for _ in range(2000) for a in ("--scenario", "base")]
    p = subprocess.Popen([ROISIM, "report", small_pipe, "--format", "csv"] + many, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    rc = p.wait(timeout=60)
    check(rc == 141 and err == "", f"report into a closed pipe: exit 141 quietly (got {rc}: {err[:200]})")

    # report, compare and frontier end at a signal too (a long report had run to its end through
    # SIGINT and SIGTERM), removing report -o's temporary file; a signal that breaks a blocking open
    # (a FIFO with no writer) exits 128 + the signal, not 1
    small = os.path.join(tmp, "small.h5")
    roisim("run", SEED, "--trials", "200", "-o", small, "--quiet")
    big = os.path.join(tmp, "big.html")
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        many = [a for _ in range(3000) for a in ("--scenario", "base")]
        p = subprocess.Popen([ROISIM, "report", small, "--format", "html", "-o", big] + many, stderr=subprocess.PIPE)
        time.sleep(1.0)
        p.send_signal(sig)
        t0 = time.time()
        rc = p.wait(timeout=120)
        err = p.stderr.read().decode()
        check(rc == code and time.time() - t0 < 2 and "interrupted" in err and not os.path.exists(big)
              and not [f for f in os.listdir(tmp) if ".tmp-" in f],
              f"report -o at {sig.name}: exit {code}, at once, no file (got {rc} after {time.time() - t0:.1f} s: {err[:200]})")
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    for args in (["compare", fifo, "a", "b"], ["report", fifo], ["frontier", fifo, "--budget", "1"], ["run", fifo, "-o", big]):
        p = subprocess.Popen([ROISIM] + args, stderr=subprocess.PIPE)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=60)
        check(rc == 130 and not os.path.exists(big), f"{args[0]} blocked on a FIFO, SIGINT: exit 130 (got {rc})")
    os.unlink(fifo)

    # interrupted at random moments (fixed seed): the target is the old file or a complete new one
    import random
    rng = random.Random(12345)
    target = write("target.h5", "old results")
    for i in range(8):
        sig = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
        p = subprocess.Popen([ROISIM, "run", SEED, "--trials", "3000", "-o", target, "--quiet"], stderr=subprocess.PIPE)
        # From 0.3 s: a signal that arrives before main() runs (the dynamic loader, ASan's start-up
        # in the sanitizer build) takes the default action in any program.
        time.sleep(rng.uniform(0.3, 2.5))
        p.send_signal(sig)
        rc = p.wait(timeout=60)
        expected = 130 if sig == signal.SIGINT else 143
        check(rc in (0, expected), f"interrupt {i}: exit {rc}")
        check(not [f for f in os.listdir(tmp) if ".tmp-" in f], f"interrupt {i}: no temporary file")
        with open(target, "rb") as f:
            head = f.read(11)
        if head == b"old results":
            check(rc != 0, f"interrupt {i}: old file kept only when the run was interrupted")
        else:
            with h5py.File(target, "r") as f:
                check(f["roi"].shape == (563, 3000) and np.isfinite(f["roi_mean"][:]).all(), f"interrupt {i}: complete new file")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

check.finish()
