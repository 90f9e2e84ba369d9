#!/usr/bin/python3
"""The planner's memo: `roisim report --format markdown` against a golden text for a seeded run
(ROISIM_UPDATE_GOLDEN=1 rewrites it), its numbers against the file, the verdict rule and its
sentences, the hurdle's decimals, which scenarios it covers, the sampler, few trials, names with
Markdown's special characters (rendered by cmark-gfm where installed), a constant ROI, and the HTML
page rendered in headless Chromium. Usage: test_memo.py ROISIM_BINARY REPO_ROOT"""
import decimal, math, os, re, shutil, subprocess, sys, tempfile

import h5py

ROISIM, ROOT = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import Checks, runner  # noqa: E402

check = Checks()
run = runner(ROISIM)

SEED = os.path.join(ROOT, "scenarios", "seed_portfolio.yaml")
GOLDEN = os.path.join(ROOT, "tests", "golden", "memo_seed.md")




def normalise(text, path):
    # Lines that change from build to build or run to run (the results file's path, in a fresh
    # temporary folder, may get backslashes before its underscores).
    text = re.sub(r"^- roisim .*$", "- roisim VERSION", text, flags=re.M)
    text = re.sub(r"^- created .*$", "- created DATE", text, flags=re.M)
    return re.sub(r"^- results file .*$", "- results file RESULTS.h5", text, flags=re.M)


def project(value="{dist: normal, mean: 150000, sd: 50000}", cost=200000):
    return f"{{kind: direct, initial_cost: {cost}, inputs: {{annual_value: {value}}}}}"


def run_memo(yaml_text, *report_args, run_args=("--trials", "300")):
    """The markdown memo of a run of yaml_text ("" and the run's stderr if it failed)."""
    cfg, h5 = os.path.join(tmp, "t.yaml"), os.path.join(tmp, "t.h5")
    with open(cfg, "w") as f:
        f.write(yaml_text)
    r = run("run", cfg, "-o", h5, "--quiet", *run_args)
    if not check(r.returncode == 0, "run of a test file: " + r.stderr):
        return ""
    r = run("report", h5, "--format", "markdown", *report_args)
    check(r.returncode == 0, "memo of a test file: " + r.stderr)
    return r.stdout


def table_cells(line):
    """The cells of a Markdown table row, split at the pipes that are not escaped."""
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def verdicts(memo):
    return re.findall(r"^- \*\*(.*?)\*\* — \*\*([A-Za-z ]+)\.\*\*", memo, flags=re.M)


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

    # The hurdle is printed as given, in the verdicts, the rule and the sweep's paragraph; a figure
    # judged against it is printed with the decimals that keep it on its side of the hurdle.
    r = run("report", out, "--format", "markdown", "--hurdle", "0.2965")
    check("above the 29.65% hurdle" in r.stdout and "at least the 29.65% hurdle" in r.stdout
          and "clears the 29.65% hurdle in every" in r.stdout and "30% hurdle" not in r.stdout, "hurdle 0.2965 printed as 29.65%")
    r = run("report", out, "--format", "markdown", "--hurdle", "0.125", "--scenario", "base")
    check("12.5% hurdle" in r.stdout and "12% hurdle" not in r.stdout, "hurdle 0.125 printed as 12.5%")
    # every digit given: hurdles either side of base's P10 judge it differently and print differently
    # (both read 88.112844% with six decimals)
    r = run("report", out, "--format", "markdown", "--hurdle", "0.123456789", "--scenario", "base")
    check("the 12.3456789% hurdle" in r.stdout, "hurdle 0.123456789 printed as 12.3456789%")
    # the value judged is the value printed: a long decimal read once, correctly rounded (CLI11 read
    # the text again through long double, an ulp away from 0.20000000000000004, and printed "20%")
    r = run("report", out, "--format", "markdown", "--hurdle",
            "0.200000000000000024981712119960530760209849177044816315174103", "--scenario", "base")
    check("the 20.000000000000004% hurdle" in r.stdout, "a long hurdle is read correctly rounded: " + r.stdout[:0])
    with h5py.File(out, "r") as f:
        p10 = float(f["roi_quantile"][names.index("base")][1])
    hurdles = (p10, math.nextafter(p10, 2.0))
    texts = [run("report", out, "--format", "markdown", "--hurdle", repr(h), "--scenario", "base").stdout for h in hurdles]
    shown = [re.search(r"the ([0-9.]+)% hurdle", t)[1] for t in texts]
    given = [format(decimal.Decimal(repr(h)).scaleb(2).normalize(), "f") for h in hurdles]
    check("**Fund.**" in texts[0] and "**At risk.**" in texts[1] and shown == given and shown[0] != shown[1],
          f"hurdles a ulp apart either side of the P10 print apart, as given: {shown} vs {given}")
    with h5py.File(out, "r") as f:
        p10s = {n: f["roi_quantile"][i][1] for i, n in enumerate(names) if "=" not in n}
    # A P10 whose one decimal rounds up onto a hurdle just above it (P10 88.167%, hurdle 88.17%).
    near = [(n, p) for n, p in p10s.items() if round(100 * p, 1) >= math.ceil(10000 * p) / 100]
    check(near, "the seeded run has a P10 that rounds up at one decimal")
    for n, p in near[:1]:
        h = math.ceil(10000 * p) / 10000
        r = run("report", out, "--format", "markdown", "--hurdle", repr(h), "--scenario", n)
        m = re.search(r"clears the ([0-9.]+)% hurdle, but in 1 of 10 futures it is at or below ([0-9.]+)%", r.stdout)
        check(m and float(m.group(2)) < float(m.group(1)), f"{n}: P10 {p!r} below the hurdle {h!r} is printed below it")

    # An At risk verdict names the test that failed: P10 below the hurdle, a chance of a loss of
    # 5% or more, or both; the rule says so too.
    r = run("report", out, "--format", "markdown", "--hurdle", "1.0", "--scenario", "base")
    check(re.search(r"\*\*At risk\.\*\* The median ROI of [0-9.]+% clears the 100% hurdle, but in 1 of 10 futures it is at or below "
                    r"[0-9.]+%, under the hurdle; the chance of losing money is [0-9.]+%\.", r.stdout), "at risk by P10 alone")
    check("or the chance of a loss is 5% or more" in r.stdout, "the rule states the chance-of-a-loss test")

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

    # Without --scenario: the first six explicit scenarios, saying so when there are more.
    eight = ("roisim: 1\nname: eight\nprojects:\n  b: " + project() + "\nscenarios:\n"
             + "".join(f"  - name: s{k}\n    scale: {{b.annual_value: {1 + k / 10}}}\n" for k in range(1, 9)))
    memo = run_memo(eight)
    check([n for n, _ in verdicts(memo)] == [f"s{k}" for k in range(1, 7)], "eight scenarios: the first six covered")
    check("The file holds 8 explicit scenarios; this memo covers the first 6: use `--scenario NAME` (repeatable) to choose." in memo,
          "eight scenarios: the memo says it covers six")
    memo = run_memo(eight, "--scenario", "s8", "--scenario", "s7")
    check([n for n, _ in verdicts(memo)] == ["s8", "s7"] and "covers the first" not in memo, "--scenario chooses")
    # A file of sweep scenarios alone: all of them up to six (the loop stopped after one).
    noaxes = ("roisim: 1\nname: noaxes\nsettings: {trials: 300, seed: 5}\nprojects:\n"
              "  a: {kind: direct, initial_cost: {dist: uniform, min: 50000, max: 150000}, "
              "inputs: {annual_value: {dist: uniform, min: 10000, max: 120000}}}\n"
              "  b: " + project() + "\nscenarios: []\nsweep:\n  funded: [[a], [b], [a, b]]\n")
    memo = run_memo(noaxes)
    check([n for n, _ in verdicts(memo)] == ["funded=a", "funded=b", "funded=a+b"] and "covers the first" not in memo,
          "sweep alone: all three sweep scenarios covered")
    seven = noaxes.replace("scenarios: []", "  c: " + project() + "\nscenarios: []").replace(
        "[[a], [b], [a, b]]", "[[a], [b], [c], [a, b], [a, c], [b, c], [a, b, c]]")
    memo = run_memo(seven)
    check(len(verdicts(memo)) == 6 and "holds 7 sweep scenarios (and no explicit ones); this memo covers the first 6" in memo,
          "sweep alone, seven: six covered, and the memo says so")

    # The sampler is named.
    memo = run_memo(noaxes, run_args=("--trials", "256", "--sampler", "lhs"))
    check("(Latin hypercube sampling, seed 5)" in memo and "Monte Carlo" not in memo, "lhs named")
    memo = run_memo(noaxes, run_args=("--trials", "256", "--sampler", "sobol"))
    check("(scrambled Sobol points, seed 5)" in memo and "Monte Carlo" not in memo, "sobol named")
    check("Few trials" not in memo and "Few trials" not in golden, "no warning with 256 or 2000 trials")

    # One trial: singular, and a warning that the verdicts rest on few futures.
    memo = run_memo(noaxes, run_args=("--trials", "1"))
    check("from 1 simulated future per scenario" in memo and "1 trial," in memo, "1 trial: singular")
    check("**Few trials.** With fewer than 100 simulated futures" in memo, "1 trial: the warning")
    memo = run_memo(noaxes, run_args=("--trials", "99"))
    check("**Few trials.**" in memo and "99 simulated futures per" in memo, "99 trials: the warning")

    # At risk by the chance of a loss alone (P10 clears a 0% hurdle, 5% <= P(loss) < 10%), and by both.
    risky = "roisim: 1\nname: risky\nprojects:\n  b: " + project("{dist: normal, mean: 110000, sd: 30000}") + "\nscenarios:\n  - name: base\n"
    memo = run_memo(risky, "--hurdle", "0", run_args=("--trials", "4000"))
    check(re.search(r"\*\*At risk\.\*\* The median ROI of [0-9.]+% clears the 0% hurdle and in 9 of 10 futures it is at least "
                    r"[0-9.]+%, but there is a [0-9.]+% chance of losing money, at or above the 5% limit\.", memo),
          "at risk by the chance of a loss alone: " + "".join(l for l in memo.splitlines() if l.startswith("- **")))
    memo = run_memo(risky, "--hurdle", "0.1", run_args=("--trials", "4000"))
    check(re.search(r"it is at or below [0-9.]+%, under the hurdle, and there is a [0-9.]+% chance of losing money, at or above the 5% limit\.",
                    memo), "at risk by both tests: " + "".join(l for l in memo.splitlines() if l.startswith("- **")))

    # Names with Markdown's special characters: the table keeps its columns, the text shows them.
    odd = ['a, "quoted" | pipe', "*star* _under_ `tick`", "[link](x) <b> ~~s~~ &amp; back\\slash"]
    names_yaml = "".join("  - name: '" + n.replace("'", "''") + "'\n" for n in odd)
    memo = run_memo("roisim: 1\nname: 'odd | name'\nprojects:\n  b: " + project() + "\nscenarios:\n" + names_yaml)
    rows = [table_cells(l) for l in memo.splitlines() if l.startswith("| ") and "%" in l and "|---" not in l]
    rows = [c for c in rows if len(c) != 2]  # not the assumptions table
    check(len(rows) == 3 and all(len(c) == 11 for c in rows), "odd names: every row has 11 cells")
    unescaped = [re.sub(r"\\(.)", r"\1", c[0]) for c in rows]
    check(unescaped == odd, "odd names: the cells read back as the names: " + repr([c[0] for c in rows]))
    check(r'a, "quoted" \| pipe' in memo and r"\*star\* \_under\_ \`tick\`" in memo and r"\[link\](x) \<b\> \~\~s\~\~ \&amp; back\\slash" in memo,
          "odd names: escaped for Markdown")
    check("# ROI memo: odd \\| name" in memo, "odd names: the title")
    check("fraud.avg_fraud_loss" in golden and "pessimistic-translation" in golden, "plain names are not escaped")
    h5 = os.path.join(tmp, "t.h5")
    r = run("report", h5, "--format", "html")
    # GitHub's renderer (Debian's cmark-gfm), where installed, shows them as the html format does.
    cmark = shutil.which("cmark-gfm")
    rendered = subprocess.run([cmark, "-e", "table"], input=memo, capture_output=True, text=True).stdout if cmark else None
    for n in odd:
        e = n.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        check(f"<td>{e}</td>" in r.stdout and f"<strong>{e}</strong>" in r.stdout, "odd names in html: " + n)
        check(rendered is None or (f"<td>{e}</td>" in rendered and f"<strong>{e}</strong>" in rendered), "odd names by cmark-gfm: " + n)
    check("\\" not in r.stdout.replace("back\\slash", ""), "html has no stray backslashes")

    # Every ROI constant: the drivers part says no input varies instead of an empty list.
    memo = run_memo("roisim: 1\nname: flat\nprojects:\n  b: " + project("120000") + "\nscenarios:\n  - name: base\n")
    check(re.search(r"^\*\*base\*\*: no input varies its ROI, which is [0-9.-]+% in every simulated future\.$", memo, flags=re.M),
          "constant ROI: no input varies")
    check("The base case has no uncertain input" in memo and "| input |" not in memo, "constant inputs: no empty assumptions table")
    memo = run_memo("roisim: 1\nname: flat\nprojects:\n  b: " + project("{dist: discrete, values: [120000], probs: [1]}")
                    + "\nscenarios:\n  - name: base\n")
    check(re.search(r"^\*\*base\*\*: no input varies its ROI", memo, flags=re.M), "constant ROI, a degenerate distribution: no input varies")

    # NaN ROIs (costs and values beyond a double): no verdict, and a subset whose P10 is NaN in some
    # combination does not clear the hurdle (it had been listed as clearing it, worst P10 "1.00e+302%",
    # and base read "Do not fund. The median ROI of n/a is below the hurdle").
    memo = run_memo("roisim: 1\nname: nan\nsettings: {trials: 200, seed: 7}\nprojects:\n"
                    "  good: {kind: direct, initial_cost: 100000, maintenance_share: 0.2,\n"
                    "         inputs: {annual_value: {dist: uniform, min: 100000, max: 300000}}}\n"
                    "  wild: {kind: direct, initial_cost: {dist: uniform, min: 1e307, max: 1.7e308}, maintenance_share: 0.2,\n"
                    "         inputs: {annual_value: {dist: uniform, min: 1e307, max: 1.7e308}}}\n"
                    "sweep:\n  funded: all_subsets\n  axes:\n    macro: {base: {}, down: {scale: {good.annual_value: 0.5}}}\n",
                    "--hurdle", "0", run_args=())
    check(verdicts(memo)[:1] == [("base", "No verdict")] and "The median ROI of n/a" not in memo
          and "**No verdict** where these figures are not numbers." in memo,
          f"NaN percentiles: no verdict ({verdicts(memo)[:2]})")
    best = memo[memo.find("## Best funded subsets"):memo.find("## Key assumptions")]
    check("e+30" not in best and "| wild |" not in best and "| good+wild |" not in best and "| good |" in best,
          "NaN P10 subsets do not clear the hurdle: " + best[:600])

    # A discount_rate attribute missing or not a number: "n/a" as the other provenance figures (the
    # memo had ended with only "error: stod").
    odd_rate = os.path.join(tmp, "odd_rate.h5")
    for what, change in (("missing", lambda a: a.__delitem__("discount_rate")),
                         ("text", lambda a: a.__setitem__("discount_rate", "eight percent"))):
        shutil.copy(out, odd_rate)
        with h5py.File(odd_rate, "a") as f:
            change(f.attrs)
        for fmt in ("markdown", "html"):
            r = run("report", odd_rate, "--format", fmt)
            check(r.returncode == 0 and "at a discount rate of n/a." in r.stdout and r.stderr == "",
                  f"discount_rate {what}, {fmt}: n/a: {r.returncode} {r.stderr}")
    r = run("report", out, "--format", "markdown")
    check("at a discount rate of 0.0%." in r.stdout, "a numeric discount_rate is printed as a percentage")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

check.finish()
