#!/usr/bin/python3
"""End-to-end tests of `roisim compare` (paired comparison under common random numbers) and
`roisim frontier` (efficient funded subsets within a budget), checked against h5py + NumPy and a
brute force over the sweep.
Usage: test_decisions.py ROISIM_BINARY REPO_ROOT"""
import json, math, os, shutil, struct, subprocess, sys, tempfile, time

import h5py
import numpy as np
import yaml

ROISIM, ROOT = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import Checks, runner  # noqa: E402

check = Checks()
roisim = runner(ROISIM)

SEED = os.path.join(ROOT, "scenarios", "seed_portfolio.yaml")




def rel_close(x, y, tol, scale=None):
    if x is None or y is None:
        return x is y
    s = max(abs(y), scale or 0.0, 1e-300)
    return abs(x - y) <= tol * s


def names_of(f):
    return [s.decode() if isinstance(s, bytes) else s for s in f["scenario"][:]]


def strs(ds):
    return [s.decode() if isinstance(s, bytes) else s for s in ds[:]]


Z = 1.959963984540054


def expected_paired(a, b):
    """What compare must report for one measure, from NumPy."""
    d = a - b
    n = len(d)
    wins, ties = int(np.sum(a > b)), int(np.sum(a == b))
    p = (wins + 0.5 * ties) / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denom
    if ties == n:  # every trial a tie: exactly one half, no interval around it
        centre, half = 0.5, 0.0
    var_d = np.var(d, ddof=1)
    return {
        "mean_a": float(np.mean(a)), "mean_b": float(np.mean(b)),
        "diff_mean": float(np.mean(d)), "diff_sd": float(np.std(d, ddof=1)),
        "diff_se": float(np.std(d, ddof=1) / math.sqrt(n)),
        "quantiles": [float(x) for x in np.quantile(d, [0.05, 0.10, 0.50, 0.90, 0.95])],
        "variance_ratio": float((np.var(a, ddof=1) + np.var(b, ddof=1)) / var_d) if var_d > 0 else None,
        "correlation": float(np.corrcoef(a, b)[0, 1]),
        "p": p, "wins": wins, "ties": ties, "losses": n - wins - ties, "ci": (centre - half, centre + half),
        "scale": float(np.mean(np.abs(d))),
    }


def check_paired(got, exp, what):
    check(rel_close(got["diff_mean"], exp["diff_mean"], 1e-12, exp["scale"]),
          f"{what}: mean difference {got['diff_mean']} vs numpy {exp['diff_mean']}")
    check(rel_close(got["mean_a"], exp["mean_a"], 1e-12) and rel_close(got["mean_b"], exp["mean_b"], 1e-12),
          f"{what}: means of A and B")
    check(rel_close(got["diff_sd"], exp["diff_sd"], 1e-10) and rel_close(got["diff_se"], exp["diff_se"], 1e-10),
          f"{what}: sd and se of the difference")
    check(rel_close(got["diff_ci95"][0], exp["diff_mean"] - Z * exp["diff_se"], 1e-10, exp["scale"])
          and rel_close(got["diff_ci95"][1], exp["diff_mean"] + Z * exp["diff_se"], 1e-10, exp["scale"]),
          f"{what}: paired 95% CI of the mean difference")
    qs = [got[k] for k in ["diff_p05", "diff_p10", "diff_p50", "diff_p90", "diff_p95"]]
    check(qs == exp["quantiles"], f"{what}: quantiles of the difference equal numpy.quantile exactly: {qs} vs {exp['quantiles']}")
    check(got["p_a_beats_b"] == exp["p"] and got["wins"] == exp["wins"] and got["ties"] == exp["ties"]
          and got["losses"] == exp["losses"], f"{what}: P(A beats B) exact ({got['p_a_beats_b']} vs {exp['p']})")
    check(rel_close(got["p_a_beats_b_ci95"][0], exp["ci"][0], 1e-12) and rel_close(got["p_a_beats_b_ci95"][1], exp["ci"][1], 1e-12),
          f"{what}: Wilson interval {got['p_a_beats_b_ci95']} vs {exp['ci']}")
    if exp["variance_ratio"] is None:
        check(got["variance_ratio"] is None, f"{what}: variance ratio undefined (null) for identical scenarios")
    else:
        check(rel_close(got["variance_ratio"], exp["variance_ratio"], 1e-9),
              f"{what}: variance ratio {got['variance_ratio']} vs {exp['variance_ratio']}")
    if not math.isnan(exp["correlation"]):
        check(rel_close(got["correlation"], exp["correlation"], 1e-9), f"{what}: correlation")


def brute_frontier(cands, budget):
    """cands: list of (scenario, cost, value, risk); the non-dominated ones within budget, by cost."""
    fit = [c for c in cands if c[1] <= budget]
    front = []
    for c in fit:
        dominated = any(o[2] >= c[2] and o[3] >= c[3] and (o[2] > c[2] or o[3] > c[3]) for o in fit)
        if not dominated:
            front.append(c)
    front.sort(key=lambda c: (c[1], -c[2], c[0]))
    return fit, front


def sweep_groups(path, costs_of, value="npv_mean", risk="roi_p10"):
    """{axis prefix: [(scenario, cost, value, risk)]} from the file, costs from costs_of(prefix, funded list)."""
    with h5py.File(path, "r") as f:
        names, funded = names_of(f), strs(f["funded"])
        npv, q, cvar = f["npv_mean"][:], f["roi_quantile"][:], f["cvar10"][:]
    groups = {}
    for i, n in enumerate(names):
        if "funded=" not in n:
            continue
        prefix = n[: n.rindex("funded=")]
        cost = 0.0
        for p in funded[i].split("+"):
            cost += costs_of(prefix, p)
        v = float(npv[i]) if value == "npv_mean" else float(q[i, 3])
        r = float(q[i, 1]) if risk == "roi_p10" else float(cvar[i])
        groups.setdefault(prefix, []).append((n, cost, v, r))
    return groups


def check_frontier(doc_frontier, cands, budget, what):
    fit, front = brute_frontier(cands, budget)
    pts = doc_frontier["points"]
    check(doc_frontier["candidates"] == len(cands) and doc_frontier["within_budget"] == len(fit)
          and doc_frontier["on_frontier"] == len(front),
          f"{what}: counts {doc_frontier['candidates']}/{doc_frontier['within_budget']}/{doc_frontier['on_frontier']} "
          f"vs {len(cands)}/{len(fit)}/{len(front)}")
    got = [(p["scenario"], p["cost"], p["value"], p["risk"]) for p in pts]
    ok = len(got) == len(front) and all(g[0] == e[0] and rel_close(g[1], e[1], 1e-12) and g[2] == e[2] and g[3] == e[3]
                                        for g, e in zip(got, front))
    check(ok, f"{what}: frontier equals the brute force\n  got {got}\n  expected {front}")


tmp = tempfile.mkdtemp(prefix="roisim-decisions-")
try:
    a = os.path.join(tmp, "a.h5")
    b = os.path.join(tmp, "b.h5")
    c = os.path.join(tmp, "c.h5")
    s = os.path.join(tmp, "s.h5")
    for out, extra in [(a, []), (b, []), (c, ["--seed", "7"]), (s, ["--summary-only"])]:
        r = roisim("run", SEED, "--trials", "2000", "-o", out, "--quiet", *extra)
        check(r.returncode == 0, f"run {out}: {r.stderr}")

    # ---- compare ------------------------------------------------------------------------------
    r = roisim("compare", "--help")
    check(r.returncode == 0 and "compare [OPTIONS] OUT.h5 A B | A.h5 A B.h5 B" in r.stdout
          and "x 3 or 4" in r.stdout and "(3x)" not in r.stdout, f"compare --help shows both forms: {r.stdout}")
    with h5py.File(a, "r") as f:
        names = names_of(f)
        roi, npv = f["roi"][:], f["npv"][:]
    ib, ir = names.index("base"), names.index("recession")
    r = roisim("compare", a, "base", "recession", "--format", "json")
    check(r.returncode == 0, f"compare json: {r.returncode} {r.stderr}")
    doc = json.loads(r.stdout)
    check(doc["trials"] == 2000 and doc["scenario_a"]["name"] == "base" and doc["scenario_b"]["name"] == "recession",
          "compare json names the scenarios and trials")
    check(doc["provenance"]["seed"] == 20261122 and "config" not in doc["provenance"], "compare json provenance")
    check_paired(doc["roi"], expected_paired(roi[ib], roi[ir]), "ROI base vs recession")
    check_paired(doc["npv"], expected_paired(npv[ib], npv[ir]), "NPV base vs recession")

    # a scenario that funds fewer projects, by index
    io = names.index("in-production-only")
    r = roisim("compare", a, str(ib), str(io), "--format", "json")
    check(r.returncode == 0, f"compare by index: {r.stderr}")
    d2 = json.loads(r.stdout)
    check(d2["scenario_b"]["name"] == "in-production-only", "compare: scenario by index")
    check_paired(d2["roi"], expected_paired(roi[ib], roi[io]), "ROI base vs in-production-only")

    # a sweep scenario that differs from the base only in funding: ties exist where both fail
    sw = [n for n in names if n.startswith("macro=base/translation=mid/maintenance=lean/funded=")]
    sa, sb = sw[0], sw[-1]
    r = roisim("compare", a, sa, sb, "--format", "json")
    d3 = json.loads(r.stdout)
    check_paired(d3["roi"], expected_paired(roi[names.index(sa)], roi[names.index(sb)]), f"ROI {sa} vs {sb}")

    # identical scenarios: every trial a tie, P = 1/2, the variance ratio undefined
    r = roisim("compare", a, "base", "base", "--format", "json")
    d4 = json.loads(r.stdout)
    check(d4["roi"]["p_a_beats_b"] == 0.5 and d4["roi"]["ties"] == 2000 and d4["roi"]["variance_ratio"] is None
          and d4["roi"]["diff_mean"] == 0, "compare of a scenario with itself: all ties count as half")
    # ... exactly: no Wilson interval around it (it had said 47.8% - 52.2%)
    check(d4["roi"]["p_a_beats_b_ci95"] == [0.5, 0.5] and d4["npv"]["p_a_beats_b_ci95"] == [0.5, 0.5],
          f"compare of a scenario with itself: P(A beats B) interval {d4['roi']['p_a_beats_b_ci95']}")
    check_paired(d4["roi"], expected_paired(roi[names.index("base")], roi[names.index("base")]), "ROI base vs base")

    r = roisim("compare", a, "base", "base")
    check(r.stdout.rstrip().endswith("A and B are identical trial by trial: every difference is zero.")
          and "2000 ties" in r.stdout and "Wilson" not in r.stdout
          and "P(A beats B on ROI) = 50.0%  (every trial ties; 0 wins, 2000 ties, 0 losses" in r.stdout,
          "compare table of a scenario with itself: " + r.stdout[-400:])

    # a difference without spread that is not zero (constant ROIs): the closing line says the
    # difference is exact (it said "identical trial by trial" of a +100 pp difference); a Wilson
    # interval of all wins ends at exactly 1 (it was 0.9999999999999998); one trial says so
    def run_file(name, text, *args):  # writes the scenario file, runs it; the results file's path
        path = os.path.join(tmp, name)
        with open(path + ".yaml", "w") as f:
            f.write(text)
        r = roisim("run", path + ".yaml", "-o", path + ".h5", "--quiet", *args)
        check(r.returncode == 0, f"run {name}.yaml: " + r.stderr)
        return path + ".h5"

    ch5 = run_file("const", "roisim: 1\nname: const\nsettings: {trials: 50, seed: 3, horizon_months: 12, discount_rate: 0.0}\n"
                "projects:\n  fixed: {kind: direct, initial_cost: 1000000, inputs: {annual_value: 1500000}}\n"
                "  slow: {kind: direct, initial_cost: 1000000, launch_month: 2, inputs: {annual_value: 600000}}\n"
                "  noisy: {kind: direct, initial_cost: 1000000, inputs: {annual_value: {dist: normal, mean: 1500000, sd: 100000}}}\n"
                "scenarios:\n  - {name: fixed, projects: [fixed]}\n  - {name: slow, projects: [slow]}\n"
                "  - {name: noisy, projects: [noisy]}\n")
    r = roisim("compare", ch5, "fixed", "slow")
    check(r.returncode == 0 and "A - B is the same in every trial for ROI (+100.00 pp) and NPV (+1,000,000)" in r.stdout
          and "identical" not in r.stdout and "50 wins, 0 ties, 0 losses" in r.stdout, "compare of a constant difference: " + r.stdout[-400:])
    r = roisim("compare", ch5, "fixed", "slow", "--format", "json")
    dj = json.loads(r.stdout)
    check(dj["roi"]["p_a_beats_b_ci95"][1] == 1.0 and dj["npv"]["p_a_beats_b_ci95"][1] == 1.0
          and dj["roi"]["p_a_beats_b_ci95"][0] < 1, "Wilson interval of all wins ends at exactly 1: " + str(dj["roi"]["p_a_beats_b_ci95"]))
    r = roisim("compare", ch5, "slow", "fixed", "--format", "json")
    dj = json.loads(r.stdout)
    check(dj["roi"]["p_a_beats_b_ci95"][0] == 0.0, "Wilson interval of all losses starts at exactly 0")
    r = roisim("compare", ch5, "fixed", "noisy")
    check(r.returncode == 0 and "identical" not in r.stdout and "same in every trial" not in r.stdout
          and "as many trials" in r.stdout, "compare of a constant with a noisy scenario: " + r.stdout[-300:])
    hh5 = run_file("huge", "roisim: 1\nsettings: {trials: 100}\nprojects:\n"
                   "  a: {kind: direct, initial_cost: 1, inputs: {annual_value: {dist: normal, mean: 1e308, sd: 1e308}}}\n"
                   "  b: {kind: direct, initial_cost: 1, inputs: {annual_value: 2}}\n"
                   "scenarios:\n  - {name: ok, projects: [b]}\n  - {name: huge, projects: [a]}\n")
    r = roisim("compare", hh5, "huge", "ok")
    check(r.returncode == 0 and "not a finite number in some trials" in r.stdout and "exact" not in r.stdout,
          "compare with NaN differences does not call them exact: " + r.stdout[-300:])
    # NaN ROIs (costs and values beyond a double: inf - inf): such a trial is neither a tie nor a win,
    # and P(A beats B) and the quantiles of A - B are undefined, as numpy.quantile says (they had
    # counted as ties, and the quantiles came from a sort around the NaNs)
    nh5 = run_file("nan", "roisim: 1\nsettings: {trials: 200, seed: 7}\nprojects:\n"
                   "  good: {kind: direct, initial_cost: 100000, maintenance_share: 0.2,\n"
                   "         inputs: {annual_value: {dist: uniform, min: 1e5, max: 3e5}}}\n"
                   "  wild: {kind: direct, initial_cost: {dist: uniform, min: 1e307, max: 1.7e308}, maintenance_share: 0.2,\n"
                   "         inputs: {annual_value: {dist: uniform, min: 1e307, max: 1.7e308}}}\n"
                   "scenarios:\n  - {name: both, projects: [good, wild]}\n  - {name: good, projects: [good]}\n")
    with h5py.File(nh5, "r") as f:
        nroi = f["roi"][:]
    ra, rb = nroi[0], nroi[1]
    nans = int(np.sum(np.isnan(ra - rb)))
    r = roisim("compare", nh5, "both", "good", "--format", "json")
    dn = json.loads(r.stdout)["roi"] if r.returncode == 0 else {}
    check(0 < nans < 200 and dn.get("not_a_number") == nans and dn.get("ties") == int(np.sum(ra == rb))
          and dn.get("wins") == int(np.sum(ra > rb)) and dn.get("p_a_beats_b") is None and dn.get("diff_p50") is None
          and dn.get("p_a_beats_b_ci95") == [None, None],
          f"compare with NaN trials: {nans} not a number, P and quantiles null (got {str(dn)[:400]})")
    r = roisim("compare", nh5, "both", "good")
    check(r.returncode == 0 and f"P(A beats B on ROI) = n/a  ({nans} trials where A - B is not a number;" in r.stdout
          and "Wilson" not in r.stdout, "compare table with NaN trials: " + r.stdout[-500:])
    ch1 = os.path.join(tmp, "const1.h5")
    roisim("run", os.path.join(tmp, "const.yaml"), "-o", ch1, "--quiet", "--trials", "1")
    r = roisim("compare", ch1, "noisy", "slow")
    check(r.returncode == 0 and "One trial: the difference has no spread" in r.stdout and "1 win, 0 ties, 0 losses" in r.stdout
          and "paired comparison of 1 trial (" in r.stdout,
          "compare of one trial: " + r.stdout[-300:])

    # table output
    r = roisim("compare", a, "base", "recession")
    check(r.returncode == 0 and "P(A beats B on ROI)" in r.stdout and "variance ratio" in r.stdout
          and "as many trials" in r.stdout and "tie counts as half" in r.stdout, "compare table: " + r.stdout[-500:])
    check(any("," in line for line in r.stdout.splitlines() if line.startswith("mean A ")), "NPV with thousands separators")

    # across two files run with the same seed, trials and sampler: the same numbers
    r = roisim("compare", a, "base", b, "recession", "--format", "json")
    check(r.returncode == 0, f"cross-file compare: {r.stderr}")
    if r.returncode == 0:
        dx = json.loads(r.stdout)
        check(dx["roi"] == doc["roi"] and dx["npv"] == doc["npv"] and "provenance_b" in dx,
              "cross-file compare of identical runs equals the same-file compare")
    r = roisim("compare", a, "base", c, "base")
    check(r.returncode == 1 and "seed" in r.stderr and "20261122" in r.stderr and "7" in r.stderr,
          "cross-file compare with a different seed refused: " + r.stderr)
    # Sobol across files: pairable when the files declare the same inputs (a file with one more
    # scenario, which makes an input uncertain whose name sorts first), refused when they do not
    # (one more project)
    one = ("roisim: 1\nsettings: {trials: 256, seed: 5, sampler: sobol, horizon_months: 12}\nprojects:\n"
           "  b: {kind: direct, initial_cost: 100, inputs: {annual_value: {dist: uniform, min: 50, max: 150}}}\n"
           "  a0: {kind: direct, initial_cost: 100, inputs: {annual_value: 100}}\n"
           "scenarios:\n  - {name: only_b, projects: [b]}\n")
    plus_scenario = one + "  - {name: a0_uncertain, set: {a0.annual_value: {dist: uniform, min: 0, max: 200}}}\n"
    plus_project = one.replace("projects:\n", "projects:\n  a: {kind: direct, initial_cost: 100, inputs: "
                               "{annual_value: {dist: uniform, min: 80, max: 120}}}\n", 1)
    sob = {}
    for tag, text in (("one", one), ("scen", plus_scenario), ("proj", plus_project)):
        path = os.path.join(tmp, f"sobol_{tag}.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        sob[tag] = os.path.join(tmp, f"sobol_{tag}.h5")
        r = roisim("run", path, "-o", sob[tag], "--quiet")
        check(r.returncode == 0, f"sobol run {tag}: {r.stderr}")
    r = roisim("compare", sob["one"], "only_b", sob["scen"], "only_b")
    check(r.returncode == 0 and "identical trial by trial" in r.stdout,
          "sobol: a file with one more scenario pairs with the first, trial for trial: " + r.stdout[-300:] + r.stderr)
    # a sobol file from before the dimensions were fixed by the declarations (no attribute) is refused
    old_style = os.path.join(tmp, "sobol_old.h5")
    shutil.copy(sob["one"], old_style)
    with h5py.File(old_style, "a") as f:
        check(f.attrs["sobol_dimensions"] == "declared uncertain inputs by name, then every other input name by name",
              "sobol files name their dimension scheme")
        del f.attrs["sobol_dimensions"]
    r = roisim("compare", old_style, "only_b", sob["scen"], "only_b")
    check(r.returncode == 1 and "gave inputs their Sobol dimensions another way" in r.stderr,
          "sobol: a file without the dimension scheme is not paired: " + r.stderr)
    r = roisim("compare", sob["one"], "only_b", sob["proj"], "only_b")
    check(r.returncode == 1 and "Sobol dimension 0 is 'a0.success' in one and 'a.annual_value' in the other" in r.stderr
          and "--sampler mc or lhs" in r.stderr, "sobol: files declaring different inputs are not paired: " + r.stderr)
    r = roisim("compare", s, "base", "recession")
    check(r.returncode == 1 and "summary-only" in r.stderr, "compare on a --summary-only file refused: " + r.stderr)
    r = roisim("compare", a, "base", s, "base")
    check(r.returncode == 1 and "summary-only" in r.stderr, "compare against a --summary-only file refused: " + r.stderr)
    r = roisim("compare", a, "base", "nope")
    check(r.returncode == 1 and "no scenario named 'nope'" in r.stderr, "compare unknown scenario refused: " + r.stderr)
    r = roisim("compare", a, "base", "99999")
    check(r.returncode == 1 and "no scenario named '99999'" in r.stderr, "compare index out of range refused")
    check(roisim("compare", a, "base").returncode == 2, "compare with one scenario is a usage error")

    # ---- frontier -----------------------------------------------------------------------------
    with open(SEED) as f:
        cfg = yaml.safe_load(f)
    yaml_costs = {p: float(v["initial_cost"]) for p, v in cfg["projects"].items()}
    check(yaml_costs == {"recommendations": 900000.0, "fraud": 700000.0, "search": 800000.0, "churn": 400000.0,
                         "doc_classification": 300000.0}, "seed portfolio initial costs")
    groups = sweep_groups(a, lambda prefix, p: yaml_costs[p])
    key = "macro=base/translation=mid/maintenance=lean/"
    r = roisim("frontier", a, "--budget", "2000000", "--axis", "macro=base", "--axis", "translation=mid",
               "--axis", "maintenance=lean", "--format", "json")
    check(r.returncode == 0, f"frontier json: {r.returncode} {r.stderr}")
    fd = json.loads(r.stdout)
    check(len(fd["frontiers"]) == 1 and fd["frontiers"][0]["axes"] == {"macro": "base", "translation": "mid", "maintenance": "lean"},
          "frontier with every axis fixed: one frontier")
    check(len(groups[key]) == 31, "31 funded subsets per combination")
    check_frontier(fd["frontiers"][0], groups[key], 2e6, "frontier npv_mean vs roi_p10")
    check(fd["provenance"]["seed"] == 20261122 and fd["budget"] == 2e6, "frontier json provenance and budget")

    # the other measures
    groups2 = sweep_groups(a, lambda prefix, p: yaml_costs[p], value="roi_p50", risk="cvar10")
    r = roisim("frontier", a, "--budget", "2000000", "--axis", "macro=base", "--axis", "translation=mid",
               "--axis", "maintenance=lean", "--value", "roi_p50", "--risk", "cvar10", "--format", "json")
    check(r.returncode == 0, f"frontier roi_p50/cvar10: {r.stderr}")
    check_frontier(json.loads(r.stdout)["frontiers"][0], groups2[key], 2e6, "frontier roi_p50 vs cvar10")

    # no filter: one frontier per combination of axis values (3 x 3 x 2), each against the brute force
    r = roisim("frontier", a, "--budget", "1500000", "--format", "json")
    check(r.returncode == 0, f"frontier without --axis: {r.stderr}")
    fa = json.loads(r.stdout)
    check(len(fa["frontiers"]) == 18, f"one frontier per combination: {len(fa['frontiers'])}")
    for fr in fa["frontiers"]:
        prefix = "".join(f"{k}={v}/" for k, v in fr["axes"].items())
        check_frontier(fr, groups[prefix], 1.5e6, f"frontier {prefix}")
    # a partial filter: the remaining axes still split the frontiers
    r = roisim("frontier", a, "--budget", "1500000", "--axis", "macro=boom", "--format", "json")
    check(r.returncode == 0 and len(json.loads(r.stdout)["frontiers"]) == 6, "frontier with one axis fixed: 6 frontiers")

    # table output
    r = roisim("frontier", a, "--budget", "2000000", "--axis", "macro=base", "--axis", "translation=mid",
               "--axis", "maintenance=lean")
    check(r.returncode == 0 and "on the frontier" in r.stdout and "within budget" in r.stdout and "P(loss)" in r.stdout
          and "2,000,000" in r.stdout, "frontier table: " + r.stdout)
    r = roisim("frontier", a, "--budget", "100000", "--axis", "macro=base", "--axis", "translation=mid",
               "--axis", "maintenance=lean", "--format", "json")
    fr = json.loads(r.stdout)["frontiers"][0]
    check(r.returncode == 0 and fr["within_budget"] == 0 and fr["points"] == [] and fr["cheapest_cost"] == 300000,
          "a budget below every subset: empty frontier, the cheapest cost reported")

    # bad filters
    r = roisim("frontier", a, "--budget", "2000000", "--axis", "macro=bse")
    check(r.returncode == 1 and "bse" in r.stderr and "base, recession, boom" in r.stderr,
          "unknown axis value refused, listing the values: " + r.stderr)
    r = roisim("frontier", a, "--budget", "2000000", "--axis", "mcro=base")
    check(r.returncode == 1 and "mcro" in r.stderr and "macro" in r.stderr and "translation" in r.stderr,
          "unknown axis refused, listing the axes: " + r.stderr)
    r = roisim("frontier", a, "--budget", "2000000", "--axis", "macro")
    check(r.returncode == 1 and "AXIS=VALUE" in r.stderr, "filter without = refused: " + r.stderr)
    check(roisim("frontier", a).returncode == 2, "frontier without --budget is a usage error")
    check(roisim("frontier", a, "--budget", "-5").returncode == 2, "negative budget is a usage error")
    # long non-ASCII project names: the table cuts funded subsets between characters, keeps their
    # ends (where subsets differ) and lines its columns up by terminal width
    uni = os.path.join(tmp, "uni.yaml")
    names = ["ä" * 40 + "_one", "ö" * 40 + "_two", "x"]
    with open(uni, "w", encoding="utf-8") as f:
        f.write("roisim: 1\nsettings: {trials: 200, seed: 5}\nprojects:\n" + "".join(
            f"  {n}: {{kind: direct, initial_cost: {100000 * (k + 1)}, inputs: {{annual_value: {{dist: uniform, min: {10000 * k}, max: {90000 + 80000 * k}}}}}}}\n"
            for k, n in enumerate(names)) + "scenarios: []\nsweep:\n  funded: all_subsets\n")
    unih5 = os.path.join(tmp, "uni.h5")
    r = roisim("run", uni, "-o", unih5, "--summary-only", "--quiet")
    r = subprocess.run([os.path.abspath(ROISIM), "frontier", unih5, "--budget", "1e9"], capture_output=True)
    try:
        text = r.stdout.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    rows = [l for l in (text or "").splitlines() if l.startswith("  ")]
    widths = {len(l.rstrip()) for l in rows}
    check(r.returncode == 0 and text is not None and len(rows) >= 2 and len(widths) == 1
          and len({l.split()[0] for l in rows[1:]}) == len(rows) - 1,
          f"frontier table of long non-ASCII names: valid UTF-8, aligned, distinct: {text!r}")
    # a summary-only file is enough for the frontier
    r = roisim("frontier", s, "--budget", "2000000", "--axis", "macro=base")
    check(r.returncode == 0, "frontier works on a --summary-only file: " + r.stderr)

    # 2^15 funded subsets, costs from distributions and a cost-overrun axis that scales one project
    big = os.path.join(tmp, "big.yaml")
    projects, costs = {}, {}
    for k in range(15):
        if k % 3 == 0:
            cost_yaml, cost = f"{100000 + 10000 * k}", float(100000 + 10000 * k)
        elif k % 3 == 1:
            lo, hi = 50000 + 5000 * k, 150000 + 7000 * k
            cost_yaml, cost = f"{{dist: uniform, min: {lo}, max: {hi}}}", 0.5 * (lo + hi)
        else:
            lo, mo, hi = 80000 + 1000 * k, 100000 + 3000 * k, 190000 + 2000 * k
            cost_yaml, cost = f"{{dist: triangular, min: {lo}, mode: {mo}, max: {hi}}}", (lo + mo + hi) / 3.0
        costs[f"p{k}"] = cost
        projects[f"p{k}"] = (f"  p{k}: {{kind: direct, initial_cost: {cost_yaml}, p_success: 0.9, inputs: "
                             f"{{annual_value: {{dist: lognormal, median: {60000 + 9000 * k}, sigma: {0.2 + 0.05 * (k % 7)}}}}}}}")
    with open(big, "w") as f:
        f.write("roisim: 1\nsettings: {trials: 40, seed: 5}\nprojects:\n" + "\n".join(projects.values()) +
                "\nscenarios: []\nsweep:\n  funded: all_subsets\n  axes:\n    cost:\n      plan: {}\n"
                "      overrun: {scale: {p0.initial_cost: 1.5}}\n")
    bigh5 = os.path.join(tmp, "big.h5")
    r = roisim("run", big, "-o", bigh5, "--summary-only", "--quiet")
    check(r.returncode == 0, "2^15-subset sweep runs: " + r.stderr)
    if r.returncode == 0:
        t0 = time.time()
        r = roisim("frontier", bigh5, "--budget", "900000", "--format", "json")
        elapsed = time.time() - t0
        check(r.returncode == 0 and elapsed < 20, f"frontier over 2 x 2^15 subsets: rc {r.returncode}, {elapsed:.2f} s {r.stderr}")
        fb = json.loads(r.stdout)["frontiers"]
        check([x["axes"]["cost"] for x in fb] == ["plan", "overrun"], "one frontier per cost axis value")
        bg = sweep_groups(bigh5, lambda prefix, p: costs[p] * (1.5 if p == "p0" and "overrun" in prefix else 1.0))
        for fr in fb:
            prefix = f"cost={fr['axes']['cost']}/"
            cands = bg[prefix]
            fit = [x for x in cands if x[1] <= 900000 * (1 + 1e-12)]
            check(fr["candidates"] == 32767 and fr["within_budget"] == len(fit), f"{prefix}: counts {fr['candidates']} "
                  f"{fr['within_budget']} vs 32767 {len(fit)}")
            # exact check in O(n k): no point of the frontier is dominated, and every other candidate is
            # dominated by a point of the frontier (domination is transitive)
            v = np.array([x[2] for x in fit]); rk = np.array([x[3] for x in fit])
            names_fit = [x[0] for x in fit]
            on = set(p["scenario"] for p in fr["points"])
            pv = np.array([p["value"] for p in fr["points"]]); pr = np.array([p["risk"] for p in fr["points"]])
            ok = len(on) == len(fr["points"]) and len(on) > 0
            for p in fr["points"]:
                dom = (v >= p["value"]) & (rk >= p["risk"]) & ((v > p["value"]) | (rk > p["risk"]))
                ok = ok and not dom.any()
            offm = np.array([n not in on for n in names_fit])
            dom_any = np.zeros(len(fit), dtype=bool)
            for a_v, a_r in zip(pv, pr):
                dom_any |= (a_v >= v) & (a_r >= rk) & ((a_v > v) | (a_r > rk))
            ok = ok and bool(np.all(dom_any[offm]))
            cost_of = {x[0]: x[1] for x in cands}
            ok = ok and all(rel_close(p["cost"], cost_of[p["scenario"]], 1e-12) for p in fr["points"])
            check(ok, f"{prefix}: frontier of {len(fr['points'])} points verified against the {len(fit)} candidates")

    # ---- files the readers refuse -------------------------------------------------------------
    # Every reading command: exit 1, the file and the cause named, nothing on stdout, no crash.
    def refused(path, needle, what):
        for args in (["report", path], ["report", path, "--format", "markdown"], ["compare", path, "base", "recession"],
                     ["frontier", path, "--budget", "2000000"]):
            r = roisim(*args)
            check(r.returncode == 1 and path in r.stderr and needle in r.stderr and r.stdout == "",
                  f"{what}: {args[0]} {args[2:3]} refused: rc {r.returncode} {r.stderr[-400:]}")

    def altered(tag, change):
        path = os.path.join(tmp, f"altered_{tag}.h5")
        shutil.copy(a, path)
        with h5py.File(path, "a") as f:
            change(f)
        return path

    # format_version was never read: a major version newer than this build's, or none, read silently
    refused(altered("v2", lambda f: f.attrs.__setitem__("format_version", "2.0")),
            "format_version 2.0 is newer than this roisim's 1.0", "format_version 2.0")
    refused(altered("nov", lambda f: f.attrs.__delitem__("format_version")),
            "no root attribute 'format_version'", "no format_version")
    refused(altered("badv", lambda f: f.attrs.__setitem__("format_version", "one")),
            "format_version 'one' is not a version", "format_version garbled")
    r = roisim("report", altered("v11", lambda f: f.attrs.__setitem__("format_version", "1.1")))
    check(r.returncode == 0, "a later minor version reads: " + r.stderr)

    # datasets every results file has held since format 1.0: their absence is damage, not an older
    # layout (report had shown n/a for every ROI figure, exit 0)
    def drop(*names):
        def change(f):
            for n in names:
                del f[n]
        return change
    refused(altered("core4", drop("roi_mean", "roi_quantile", "npv_quantile", "spearman")),
            "dataset 'roi_mean' is missing", "four core datasets deleted")
    for name in ("roi_quantile", "npv_quantile", "spearman", "payback_p50", "funded"):
        path = altered("no_" + name, drop(name))
        r = roisim("report", path)
        check(r.returncode == 1 and f"'{path}': dataset '{name}' is missing" in r.stderr and r.stdout == "",
              f"report without {name} refused: {r.stderr}")
    # added later (decision statistics, cash-flow fan): a file from before lacks them and still reads
    path = altered("older", drop("npv_se", "prob_loss_lo", "prob_loss_hi", "prob_payback_lo", "prob_payback_hi",
                                 "roi_quantile_lo", "roi_quantile_hi", "variance_contribution", "tornado_low",
                                 "tornado_high", "downside_shift", "cashflow_quantile", "month"))
    for args in (["report", path], ["report", path, "--format", "markdown"], ["compare", path, "base", "recession"]):
        r = roisim(*args)
        check(r.returncode == 0, f"a file of the older layout reads: {args[0]}: {r.stderr}")
    # shapes and levels the readers rely on (edited files): refused, not printed under wrong labels
    def replace(name, data):
        def change(f):
            del f[name]
            f.create_dataset(name, data=data)
        return change
    refused(altered("qlevels", lambda f: f["quantile"].__setitem__(slice(None), np.arange(1, 8) / 10)),
            "its levels are not roisim's 0.05 0.10 0.25 0.50 0.75 0.90 0.95", "quantile levels 0.1 ... 0.7")
    refused(altered("trial50", replace("trial", np.arange(50))),
            "its shape is not [scenario, trial] = [", "a 'trial' of 50 beside 2000 trials")
    with h5py.File(a, "r") as f:
        S = f["roi"].shape[0]
    for tag, shape in (("cf1", (S, 1, 7)), ("cf3", (S, 37, 3))):
        path = altered(tag, replace("cashflow_quantile", np.zeros(shape)))
        r = roisim("report", path, "--format", "html")
        check(r.returncode == 1 and "its shape is not [scenario, month, quantile]" in r.stderr and r.stdout == "",
              f"cashflow_quantile of shape {shape}: refused (the fan chart had drawn 'M-nan'): {r.returncode} {r.stderr[-300:]}")

    # the stored scenario file changed after the run: frontier would read other costs than the run's
    def edit_config(f):
        text = f.attrs["config"]
        text = text.decode() if isinstance(text, bytes) else text
        f.attrs["config"] = text.replace("initial_cost: ", "initial_cost: 1") + "\n# edited after the run\n"
    path = altered("cfg", edit_config)
    r = roisim("frontier", path, "--budget", "2000000")
    check(r.returncode == 1 and "does not match its config_sha256" in r.stderr and r.stdout == "",
          f"frontier of an edited config: refused ({r.returncode} {r.stderr[-300:]})")

    # one driver detail missing (an edited file): read as none of them, n/a (report, the memo and its
    # tornado had ended in SIGSEGV, exit 139)
    for name in ("variance_contribution", "tornado_low", "tornado_high", "downside_shift"):
        path = altered("no_" + name, drop(name))
        for args in (["report", path, "--scenario", "base"], ["report", path, "--format", "markdown"],
                     ["report", path, "--format", "html"], ["report", path, "--format", "json"]):
            r = roisim(*args)
            check(r.returncode == 0 and r.stderr == "", f"{' '.join(args[2:])} without {name}: exit {r.returncode} {r.stderr[-300:]}")
        r = roisim("report", path, "--format", "json")
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        drivers = [v for sc in doc.get("scenarios", []) for v in (sc.get("drivers") or {}).values()]
        check(drivers and all(d.get("spearman") is not None and d.get("tornado_low") is None for d in drivers),
              f"json without {name}: spearman kept, the four details null ({str(drivers[:1])[:200]})")

    # A damaged string in the global heap: HDF5 1.10.8 trusts a heap object's size field (h5dump and
    # h5py die with SIGSEGV on such a file) and a string record's length (gigabytes allocated).
    def heap_objects(data):
        """(collection address, object index, offset of its header, size) of every global heap object."""
        out, g = [], data.find(b"GCOL")
        while g >= 0:
            size = struct.unpack_from("<Q", data, g + 8)[0]
            off = g + 16
            while off + 16 <= g + size:
                idx, _, _, sz = struct.unpack_from("<HHIQ", data, off)
                if idx == 0:
                    break
                out.append((g, idx, off, sz))
                off += 16 + (sz + 7) // 8 * 8
            g = data.find(b"GCOL", g + 1)
        return out

    with open(a, "rb") as fh:
        raw = bytearray(fh.read())
    objs = heap_objects(raw)

    def patched(tag, at, fmt, value):
        b = bytearray(raw)
        struct.pack_into(fmt, b, at, value)
        path = os.path.join(tmp, f"heap_{tag}.h5")
        with open(path, "wb") as fh:
            fh.write(b)
        return path

    first = [o for o in objs if o[0] == objs[0][0]]
    check(len(first) > 5, "the first heap collection holds objects")
    # the reviewer's case: object 5 of the first collection (an input name) claims 0x7fffffff bytes
    refused(patched("obj5", first[4][2] + 8, "<Q", 0x7fffffff), "is damaged", "heap object 5's size 0x7fffffff")
    # the object that holds the scenario name "recession", and its record in the 'scenario' dataset
    rec = [o for o in objs if raw[o[2] + 16:o[2] + 16 + o[3]] == b"recession" and o[3] == 9]
    check(len(rec) == 1, f"one heap object holds 'recession': {rec}")
    if rec:
        g, idx, off, sz = rec[0]
        refused(patched("recsize", off + 8, "<Q", 0x7fffffff), "is damaged", "'recession' object's size 0x7fffffff")
        # a size that stays inside the collection: only the record's length tells it is wrong
        refused(patched("recsize24", off + 8, "<Q", 24), "is damaged", "'recession' object's size 24")
        at = raw.find(struct.pack("<IQI", sz, g, idx))
        check(at > 0, "the 'scenario' record of 'recession' is in the file")
        refused(patched("reclen", at, "<I", 0x7fffffff), "holds 9 bytes where the string has 2147483647",
                "'recession' record's length 0x7fffffff")
        refused(patched("recidx", at + 12, "<I", 999), "is not in the collection", "'recession' record's index 999")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

check.finish()
