#!/usr/bin/python3
"""End-to-end test of tools/roisim-plot.

Usage: test_plot.py ROISIM_BINARY REPO_ROOT
Runs roisim on scenarios/seed_portfolio.yaml (1,000 trials, full and --summary-only), renders every
chart, and checks that each expected PNG decodes, is not blank and each SVG parses as XML. The
payback fan chart is also rendered from a copy of the results file with a synthetic
cashflow_quantile [scenario, month, quantile] dataset, so that code path is covered whether or
not roisim writes the dataset yet. Prints 'N passed, M failed'; exit 1 on any failure.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import xml.etree.ElementTree as ET

import numpy as np
import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402

PY = "/usr/bin/python3"
SKIP_FAN = "payback fan: skipped"
SKIP_HIST = "histogram: skipped"

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", file=sys.stderr)
    return cond


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def plot(repo, *args):
    return run([PY, os.path.join(repo, "tools", "roisim-plot"), *args])


def check_png(path):
    if not check(os.path.isfile(path), f"{path} exists"):
        return
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    check(h >= 400 and w >= 600, f"{path}: size {w}x{h} is at least 600x400")
    rgb = img[..., :3].astype(float)
    check(float(rgb.std()) > 0.05, f"{path}: not blank (pixel std {float(rgb.std()):.3f} > 0.05)")
    # Mostly white background with some ink: the share of non-white pixels is neither 0 nor ~1.
    ink = float(np.mean(rgb.min(axis=2) < 0.9))
    check(0.02 < ink < 0.8, f"{path}: share of drawn pixels {ink:.3f} in (0.02, 0.8)")


def check_svg(path):
    if not check(os.path.isfile(path), f"{path} exists"):
        return
    try:
        root = ET.parse(path).getroot()
        check(root.tag.endswith("svg"), f"{path}: root element is <svg> (got {root.tag})")
        check(sum(1 for _ in root.iter()) > 50, f"{path}: has drawn elements")
    except ET.ParseError as e:
        check(False, f"{path}: parses as XML ({e})")


def check_outputs(out_dir, stems, stdout):
    listed = set(stdout.split())
    for stem in stems:
        for ext, checker in (("png", check_png), ("svg", check_svg)):
            path = os.path.join(out_dir, f"{stem}.{ext}")
            check(path in listed, f"{path} is listed on stdout")
            checker(path)


def add_synthetic_cashflow(src, dst):
    """Copy a results file and add cashflow_quantile [scenario, month, quantile] (+ month scale)."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        for name in ("cashflow_quantile", "month"):
            if name in f:
                del f[name]
        H = int(f.attrs["horizon_months"])
        S = f["scenario"].shape[0]
        q = f["quantile"][()]
        # Each trial's path: flat at -C until it rises linearly through (payback month, 0) to its NPV
        # at month H (a straight line from -C to the NPV when it never pays back); then quantiles.
        npv = f["npv"][()]                                  # [S, N]
        pb = f["payback_month"][()]                         # [S, N]
        cost = np.abs(f["npv_mean"][()] / np.where(f["roi_mean"][()] != 0, f["roi_mean"][()], 1.0))
        C = cost[:, None, None]
        m = np.arange(H + 1, dtype=float)[None, None, :]
        fin = np.isfinite(pb) & (pb < H)
        pbf = np.where(fin, pb, 0.0)[:, :, None]
        through = npv[:, :, None] * (m - pbf) / np.maximum(H - pbf, 1.0)
        line = -C + (npv[:, :, None] + C) * m / H
        paths = np.where(fin[:, :, None], np.maximum(-C, through), line)
        paths[:, :, 0] = -C[:, :, 0]
        cf = np.moveaxis(np.quantile(paths, q, axis=1), 0, -1)  # [S, M, Q]
        month = f.create_dataset("month", data=np.arange(H + 1, dtype=np.int64))
        month.make_scale("month")
        ds = f.create_dataset("cashflow_quantile", data=cf.astype(np.float64))
        ds.dims[0].attach_scale(f["scenario"])
        ds.dims[1].attach_scale(month)
        ds.dims[2].attach_scale(f["quantile"])
        assert ds.shape == (S, H + 1, len(q))


def main():
    if len(sys.argv) != 3:
        print("usage: test_plot.py ROISIM_BINARY REPO_ROOT", file=sys.stderr)
        return 2
    roisim, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    yaml_path = os.path.join(repo, "scenarios", "seed_portfolio.yaml")
    tmp = tempfile.mkdtemp(prefix="roisim-plot-test-")
    try:
        seed = os.path.join(tmp, "seed.h5")
        r = run([roisim, "run", yaml_path, "--trials", "1000", "-o", seed, "--quiet"])
        if not check(r.returncode == 0 and os.path.isfile(seed), f"roisim run succeeds ({r.stderr.strip()})"):
            return 1
        with h5py.File(seed, "r") as f:
            names = [s.decode() if isinstance(s, bytes) else s for s in f["scenario"][()]]
            has_cf = "cashflow_quantile" in f
        explicit = [s for s in names if "=" not in s][:5]
        slugs = explicit  # the seed's explicit names are already file-name safe

        # 1. Full file, default scenarios.
        out = os.path.join(tmp, "full")
        r = plot(repo, seed, "--out", out)
        check(r.returncode == 0, f"roisim-plot on the full file exits 0 (stderr: {r.stderr.strip()})")
        stems = ["scurve", "risk_return"] + [f"histogram_{s}" for s in slugs] + [f"tornado_{s}" for s in slugs]
        if has_cf:
            stems += [f"payback_fan_{s}" for s in slugs]
            check(SKIP_FAN not in r.stderr, "no fan-chart skip message when cashflow_quantile is present")
        else:
            check(SKIP_FAN in r.stderr, "fan chart skipped with a message when cashflow_quantile is absent")
        check_outputs(out, stems, r.stdout)
        check(len(r.stdout.split()) == 2 * len(stems), f"exactly {2 * len(stems)} files listed")

        # 2. The fan chart from a file with a synthetic cashflow_quantile; a chosen sweep scenario.
        synth = os.path.join(tmp, "synthetic_cashflow.h5")
        add_synthetic_cashflow(seed, synth)
        sweep_name = next(s for s in names if "=" in s)
        out = os.path.join(tmp, "synthetic")
        r = plot(repo, synth, "--out", out, "--scenario", "recession", "--scenario", sweep_name)
        check(r.returncode == 0, f"roisim-plot on the synthetic file exits 0 (stderr: {r.stderr.strip()})")
        check(SKIP_FAN not in r.stderr, "no fan-chart skip message on the synthetic file")
        fans = sorted(os.path.basename(p) for p in r.stdout.split() if "payback_fan_" in p)
        check(len(fans) == 4, f"two payback fan charts (png + svg) for two scenarios: {fans}")
        check(os.path.join(out, "payback_fan_recession.png") in r.stdout.split(), "payback_fan_recession.png listed")
        for p in r.stdout.split():
            (check_png if p.endswith(".png") else check_svg)(p)
        check(not any(c in os.path.basename(p) for p in r.stdout.split() for c in "=/ "),
              "sweep scenario slugs are file-name safe")

        # 3. --format png only.
        out = os.path.join(tmp, "pngonly")
        r = plot(repo, synth, "--out", out, "--scenario", "base", "--format", "png")
        check(r.returncode == 0 and r.stdout.split() and all(p.endswith(".png") for p in r.stdout.split()),
              f"--format png writes PNGs only ({r.stdout.split()})")

        # 4. Summary-only file: S-curve from the stored quantiles, histogram skipped with a message.
        summ = os.path.join(tmp, "summary.h5")
        r = run([roisim, "run", yaml_path, "--trials", "1000", "-o", summ, "--quiet", "--summary-only"])
        check(r.returncode == 0, "roisim run --summary-only succeeds")
        out = os.path.join(tmp, "summary")
        r = plot(repo, summ, "--out", out)
        check(r.returncode == 0, f"roisim-plot on the summary-only file exits 0 ({r.stderr.strip()})")
        check(SKIP_HIST in r.stderr and "--summary-only" in r.stderr,
              f"summary-only: histogram skip message ({r.stderr.strip()})")
        check("stored quantiles" in r.stderr, "summary-only: S-curve note about the stored quantiles")
        check(not any("histogram_" in p for p in r.stdout.split()), "summary-only: no histogram written")
        check_outputs(out, ["scurve", "risk_return"] + [f"tornado_{s}" for s in slugs], r.stdout)

        # 5. Errors: missing file, not HDF5, not a roisim file, another format_version, unknown
        # scenario -> exit 1 with a message.
        r = plot(repo, os.path.join(tmp, "no-such-file.h5"), "--out", os.path.join(tmp, "e1"))
        check(r.returncode == 1 and "no such file" in r.stderr, f"missing file: exit 1 ({r.returncode}, {r.stderr.strip()})")
        check(r.stdout == "", "missing file: nothing on stdout")
        junk = os.path.join(tmp, "junk.h5")
        with open(junk, "w") as fh:
            fh.write("not hdf5\n")
        r = plot(repo, junk, "--out", os.path.join(tmp, "e2"))
        check(r.returncode == 1 and "not an HDF5 file" in r.stderr, f"junk file: exit 1 ({r.stderr.strip()})")
        other = os.path.join(tmp, "other.h5")
        with h5py.File(other, "w") as f:
            f["x"] = np.zeros(3)
        r = plot(repo, other, "--out", os.path.join(tmp, "e3"))
        check(r.returncode == 1 and "not a roisim results file" in r.stderr,
              f"foreign HDF5 file: exit 1 ({r.stderr.strip()})")
        # A results file of another major format_version, or none, or a garbled one: refused before
        # any chart, as roisim's readers refuse it (its datasets may mean something else).
        for k, (value, says) in enumerate((("2.0", "format_version 2.0 is newer than this roisim-plot's 1.x"),
                                           (np.bytes_(b"2.1"), "format_version 2.1 is newer"),  # a fixed-length string
                                           ("0.9", "format_version 0.9 is older than 1.0"),
                                           ("1.x", "format_version '1.x' is not a version (MAJOR.MINOR)"),
                                           ("1.", "format_version '1.' is not a version"),
                                           ("\u0661.0", "is not a version"),  # an Arabic-Indic one: not ASCII
                                           ("4294967297.0", "is not a version"),  # beyond roisim's int
                                           (np.int64(1), "root attribute 'format_version' is not a text"),
                                           (None, "no root attribute 'format_version'"))):
            copy = os.path.join(tmp, f"version{k}.h5")
            shutil.copyfile(seed, copy)
            with h5py.File(copy, "r+") as f:
                del f.attrs["format_version"]
                if value is not None:
                    f.attrs["format_version"] = value
            r = plot(repo, copy, "--out", os.path.join(tmp, f"e5{k}"))
            check(r.returncode == 1 and says in r.stderr and "1.x" in r.stderr
                  and not os.path.exists(os.path.join(tmp, f"e5{k}")),
                  f"format_version {value!r}: exit 1 with '{says}', no chart ({r.returncode}: {r.stderr.strip()})")
        for k, value in enumerate(("1.7", "1", "01.0.3", np.array([b"1.0"]))):  # one element of a (1,) array, as roisim reads it
            copy = os.path.join(tmp, f"version_ok{k}.h5")
            shutil.copyfile(seed, copy)
            with h5py.File(copy, "r+") as f:
                f.attrs["format_version"] = value
            r = plot(repo, copy, "--out", os.path.join(tmp, f"e6{k}"), "--scenario", "base", "--format", "png")
            check(r.returncode == 0 and r.stdout.split(),
                  f"format_version {value!r} (a 1.x version): charts drawn ({r.returncode}: {r.stderr.strip()})")
        # Driver rows of another shape (an edited file): the tornado is skipped with a note (a
        # TypeError traceback had ended the script, exit 1).
        copy = os.path.join(tmp, "spearman3d.h5")
        shutil.copyfile(seed, copy)
        with h5py.File(copy, "r+") as f:
            S, K = f["spearman"].shape
            del f["spearman"]
            f["spearman"] = np.zeros((S, K, 2))
        r = plot(repo, copy, "--out", os.path.join(tmp, "e7"), "--scenario", "base", "--format", "png")
        check(r.returncode == 0 and "Traceback" not in r.stderr
              and f"tornado: skipped: spearman has rows of shape ({K}, 2), expected one value per input ({K},)" in r.stderr,
              f"a 3-D spearman: tornado skipped with a note ({r.returncode}: {r.stderr.strip()[-300:]})")
        r = plot(repo, seed, "--out", os.path.join(tmp, "e4"), "--scenario", "recesion")
        check(r.returncode == 1 and "unknown scenario 'recesion'" in r.stderr and "recession" in r.stderr,
              f"unknown scenario: exit 1 with a suggestion ({r.stderr.strip()})")
        check(not os.path.exists(os.path.join(tmp, "e4")) or not os.listdir(os.path.join(tmp, "e4")),
              "unknown scenario: no charts written")
        for bad, says in ((["--axis", "macro=nope"], "axis 'macro' has no such value (its values: macro=base, macro=boom, macro=recession)"),
                          (["--axis", "mood=sunny"], "the sweep has no axis 'mood'")):
            r = plot(repo, seed, "--out", os.path.join(tmp, "e6"), *bad)
            check(r.returncode == 1 and says in r.stderr and not os.path.exists(os.path.join(tmp, "e6")),
                  f"{' '.join(bad)}: exit 1 before any chart ({r.stderr.strip()})")

        # 6. risk_return compares funded subsets within one sweep world (the first scenario's, or
        # the one --axis names), never across worlds, which are assumptions and not choices.
        from importlib.machinery import SourceFileLoader
        rp = SourceFileLoader("roisim_plot", os.path.join(repo, "tools", "roisim-plot")).load_module()
        res = rp.Results(seed)
        first = next(s for s in names if "=" in s)
        check(rp.choose_world(res, []) == rp.sweep_world(first), f"default world: the first sweep scenario's ({first})")
        w = rp.choose_world(res, ["translation=high", "macro=recession"])
        check("macro=recession" in w and "translation=high" in w and len(w) == 3, f"--axis picks the world: {w}")
        out = os.path.join(tmp, "world")
        r = plot(repo, seed, "--out", out, "--format", "png", "--axis", "macro=recession", "--axis", "translation=high")
        check(r.returncode == 0 and os.path.join(out, "risk_return.png") in r.stdout.split(), f"--axis renders ({r.stderr.strip()})")
        r = plot(repo, seed, "--out", os.path.join(tmp, "e5"), "--format", "gif")
        check(r.returncode == 2 and "--format" in r.stderr, f"bad --format: usage error ({r.stderr.strip()})")
    except Exception:  # noqa: BLE001 - report and count as a failure
        traceback.print_exc()
        check(False, "unexpected exception")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
