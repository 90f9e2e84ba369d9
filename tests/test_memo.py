#!/usr/bin/python3
"""The planner's memo: `roisim report --format markdown` against a golden text for a seeded run
(ROISIM_UPDATE_GOLDEN=1 rewrites it), its numbers against the file, the verdict rule, and the HTML
page rendered in headless Chromium. Usage: test_memo.py ROISIM_BINARY REPO_ROOT"""
import os, re, shutil, subprocess, sys, tempfile

import h5py

ROISIM, ROOT = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import Checks, runner  # noqa: E402

check = Checks()
run = runner(ROISIM)

SEED = os.path.join(ROOT, "scenarios", "seed_portfolio.yaml")
GOLDEN = os.path.join(ROOT, "tests", "golden", "memo_seed.md")




def normalise(text, path):
    # Lines that change from build to build or run to run.
    text = re.sub(r"^- roisim .*$", "- roisim VERSION", text, flags=re.M)
    text = re.sub(r"^- created .*$", "- created DATE", text, flags=re.M)
    return text.replace(path, "RESULTS.h5")


tmp = tempfile.mkdtemp(prefix="roisim-memo-")
try:
    out = os.path.join(tmp, "seed.h5")
    r = run("run", SEED, "--trials", "2000", "-o", out, "--quiet")
    check(r.returncode == 0, "seeded run: " + r.stderr)
    r = run("report", out, "--format", "markdown")
    check(r.returncode == 0, "markdown memo: " + r.stderr)
    memo = normalise(r.stdout, out)
    if os.environ.get("ROISIM_UPDATE_GOLDEN") == "1":
        with open(GOLDEN, "w") as f:
            f.write(memo)
        print("updated", GOLDEN)
    with open(GOLDEN) as f:
        golden = f.read()
    check(memo == golden, "memo equals tests/golden/memo_seed.md (ROISIM_UPDATE_GOLDEN=1 rewrites it)")
    if memo != golden:
        import difflib
        print("".join(list(difflib.unified_diff(golden.splitlines(True), memo.splitlines(True)))[:40]))

    # Every number in the table equals the file's.
    with h5py.File(out, "r") as f:
        names = [x.decode() for x in f["scenario"][:]]
        for line in memo.splitlines():
            m = re.match(r"\| (base|recession|fraud-wave|pessimistic-translation|in-production-only) \| (.*) \|$", line)
            if not m:
                continue
            i = names.index(m.group(1))
            cells = [c.strip() for c in m.group(2).split("|")]
            q = f["roi_quantile"][i]
            nq = f["npv_quantile"][i]
            check(cells[1:4] == [f"{100 * q[1]:.1f}%", f"{100 * q[3]:.1f}%", f"{100 * q[5]:.1f}%"], f"{m.group(1)}: P10/P50/P90 ROI")
            check(cells[4] == f"{round(nq[1]):,}" and cells[6] == f"{round(nq[5]):,}", f"{m.group(1)}: NPV quantiles")
            check(cells[7] == f"{100 * f['prob_loss'][i]:.1f}%", f"{m.group(1)}: chance of a loss")
            check(cells[8] == f"{f['payback_p50'][i]:g}", f"{m.group(1)}: payback month")

    # The verdict follows the stated rule for other hurdles.
    r = run("report", out, "--format", "markdown", "--hurdle", "1.0", "--scenario", "base")
    check("**base** — **At risk.**" in r.stdout, "hurdle 100%: base is at risk (P10 88% < 100% <= P50 179%)")
    r = run("report", out, "--format", "markdown", "--hurdle", "2.0", "--scenario", "base")
    check("**base** — **Do not fund.**" in r.stdout, "hurdle 200%: do not fund (P50 179%)")
    r = run("report", out, "--format", "markdown", "--scenario", "nope")
    check(r.returncode == 1 and "no scenario named 'nope'" in r.stderr, "unknown scenario refused")

    # HTML: one self-contained page (no network requests), rendered by headless Chromium.
    page = os.path.join(tmp, "memo.html")
    r = run("report", out, "--format", "html", "-o", page)
    check(r.returncode == 0 and os.path.exists(page), "html memo written: " + r.stderr)
    html = open(page).read()
    check(html.count("<svg") >= 3 and "Payback fan" in html and "Tornado" in html, "html has the charts")
    check(not re.search(r"(src|href)\s*=\s*[\"']?https?:", html) and "<link" not in html and "<script" not in html,
          "html makes no network requests")
    chromium = shutil.which("chromium")
    if chromium:
        shot = os.path.join(tmp, "memo.png")
        c = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update", "--disable-sync",
                            f"--user-data-dir={tmp}/chromium", "--window-size=1000,2400", f"--screenshot={shot}",
                            "file://" + page], capture_output=True, text=True, timeout=120)
        check(c.returncode == 0 and os.path.exists(shot), "chromium rendered the page: " + c.stderr[-500:])
        if os.path.exists(shot):
            import matplotlib.image as mpimg
            img = mpimg.imread(shot)
            check(img.shape[0] >= 2000 and img.std() > 0.05, "the screenshot is not blank")
        check("Uncaught" not in c.stderr and "ERR_FILE_NOT_FOUND" not in c.stderr, "no page errors")
    else:
        print("chromium not installed: skipping the browser check (tools/install-deps.sh installs it)")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

check.finish()
