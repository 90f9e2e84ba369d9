#!/usr/bin/python3
"""Cross-check roisim's statistics against the independent NumPy peer.

    /usr/bin/python3 tests/test_peer.py BUILD_ROISIM_BINARY REPO_ROOT

1. Worked check (SPEC section 2, no uncertainty): the peer must reproduce ROI, NPV and
   payback month of `recs`+`triage`, `recs` alone and `triage` alone to 1e-9 relative
   (roisim is checked against the same numbers too).
2. Statistical check: the seed portfolio, 20,000 trials, first 6 scenarios, run by the
   peer and by `roisim run`.  The random numbers differ, so for each scenario:
     roi_mean, npv_mean        |peer - roisim| <= 5 sqrt(se_p^2 + se_r^2), se = sd/sqrt(N)
                               (npv: the peer's npv sd for both)
     prob_loss, prob_payback   binomial se sqrt(p(1-p)/N), floored at 1/N
     P50 ROI                   se = sqrt(q(1-q)/N) / f(x_q), f estimated from the peer's
                               order statistics around the median
     P50 NPV                   likewise
     Spearman of every input   se = (1 - rho^2) sqrt(1.06 / (N - 3)) per sample; the inputs
                               present must be the same
     cash-flow P50, month H    over each side's first 1000 trials, density from the IQR
   Other quantiles, roi_sd, cvar10, tornado and downside shift are printed (and flagged) for
   information only.
Exit 0 when every check passes, 1 otherwise.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

TRIALS = 20000
NSCEN = 6
Z = 5.0
QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)

WORKED_YAML = """\
roisim: 1
name: worked-check
settings: {trials: 3, seed: 1, horizon_months: 24, discount_rate: 0.10}
projects:
  recs:
    kind: revenue
    initial_cost: 500000
    maintenance_share: 0.3
    infra_annual: 60000
    launch_month: 3
    ramp_months: 4
    decay: 0.2
    inputs:
      sessions_per_month: 5000000
      baseline_ctr: 0.2
      offline_ctr_lift: 0.4
      online_ratio: 0.3
      conversion_rate: 0.1
      avg_order_value: 50
      margin: 0.3
  triage:
    kind: automation
    initial_cost: 200000
    maintenance_share: 0.25
    launch_month: 6
    inputs:
      tasks_per_month: 100000
      manual_cost_per_task: 0.5
      automation_rate: 0.8
      accuracy: 0.95
      review_cost_per_error: 2.0
scenarios:
  - name: both
  - name: recs-alone
    projects: [recs]
  - name: triage-alone
    projects: [triage]
"""
WORKED_EXPECT = {
    "both": (1.827174498087083, 2001806.854158668, 9.0),
    "recs-alone": (2.120658063069892, 1758462.862675308, 9.0),
    "triage-alone": (0.9135602058338941, 243343.9914833594, 14.0),
}

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
    return ok


def rel_close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(abs(a), abs(b))


def load_peer(repo):
    path = os.path.join(repo, "bench", "peers", "numpy_peer.py")
    spec = importlib.util.spec_from_file_location("numpy_peer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return path, mod


def run_roisim(roisim, yaml_path, out_h5, trials, attempts=3):
    cmd = [roisim, "run", yaml_path, "--trials", str(trials), "-o", out_h5, "--quiet"]
    for i in range(attempts):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode == 0:
            return True
        print(f"roisim run failed (rc {p.returncode}, attempt {i + 1}): {p.stderr.strip()}")
    return False


def read_h5(path):
    import h5py
    with h5py.File(path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["scenario"][()]]
        d = {k: f[k][()] for k in ("roi_mean", "roi_sd", "prob_loss", "npv_mean",
                                   "prob_payback", "roi_quantile", "cvar10", "payback_p50",
                                   "npv_quantile", "spearman", "tornado_low", "tornado_high",
                                   "downside_shift", "cashflow_quantile")
             if k in f}
        if "input" in f:
            d["input"] = [n.decode() if isinstance(n, bytes) else str(n) for n in f["input"][()]]
    return names, d


def worked_check(roisim, peer_path, tmp):
    print("== worked check (SPEC section 2) ==")
    y = os.path.join(tmp, "worked.yaml")
    with open(y, "w") as fh:
        fh.write(WORKED_YAML)
    js = os.path.join(tmp, "worked.json")
    p = subprocess.run([sys.executable, peer_path, y, "--trials", "3", "--json", js],
                       capture_output=True, text=True)
    if not check(p.returncode == 0, f"peer failed on worked check: {p.stderr}"):
        return
    peer = json.load(open(js))
    have_roisim = run_roisim(roisim, y, os.path.join(tmp, "worked.h5"), 3)
    check(have_roisim, "roisim run failed on the worked check")
    rnames, rd = read_h5(os.path.join(tmp, "worked.h5")) if have_roisim else ([], {})
    for name, (roi, npv, pay) in WORKED_EXPECT.items():
        s = peer[name]
        ok = (rel_close(s["roi_mean"], roi) and rel_close(s["npv_mean"], npv)
              and float(s["payback_p50"]) == pay)
        check(ok, f"peer worked check {name}: roi {s['roi_mean']!r} npv {s['npv_mean']!r} "
                  f"payback {s['payback_p50']} (want {roi!r} {npv!r} {pay})")
        line = f"  peer   {name:13s} roi {s['roi_mean']:.15g} npv {s['npv_mean']:.15g} payback {s['payback_p50']}  {'ok' if ok else 'FAIL'}"
        print(line)
        if have_roisim and name in rnames:
            i = rnames.index(name)
            rr, rn = float(rd["roi_mean"][i]), float(rd["npv_mean"][i])
            rp = float(rd["payback_p50"][i]) if "payback_p50" in rd else float("nan")
            ok = rel_close(rr, roi) and rel_close(rn, npv) and rp == pay
            check(ok, f"roisim worked check {name}: roi {rr!r} npv {rn!r} payback {rp} "
                      f"(want {roi!r} {npv!r} {pay})")
            print(f"  roisim {name:13s} roi {rr:.15g} npv {rn:.15g} payback {rp}  {'ok' if ok else 'FAIL'}")


def median_se(x, q=0.5, delta=0.02):
    """se of the q-quantile: sqrt(q(1-q)/N)/f(x_q), f from order statistics q +- delta."""
    n = x.size
    lo, hi = np.quantile(x, [q - delta, q + delta])
    f = (2 * delta) / max(hi - lo, 1e-300)
    return math.sqrt(q * (1 - q) / n) / f


def stat_check(roisim, repo, peer, tmp):
    seed_yaml = os.path.join(repo, "scenarios", "seed_portfolio.yaml")
    print(f"\n== statistical cross-check: seed portfolio, {TRIALS} trials, first {NSCEN} scenarios ==")
    names = [s["name"] for s in peer.expand_scenarios(peer.yaml.safe_load(open(seed_yaml)))][:NSCEN]
    pstats, secs, _, N, per = peer.run(seed_yaml, trials=TRIALS, scenarios=NSCEN, keep=names)
    print(f"peer: {secs:.2f} s")
    h5 = os.path.join(tmp, "seed.h5")
    if not check(run_roisim(roisim, seed_yaml, h5, TRIALS), "roisim run failed on the seed portfolio"):
        return
    rnames, rd = read_h5(h5)
    hdr = f"{'scenario':44s} {'stat':13s} {'peer':>14s} {'roisim':>14s} {'diff':>12s} {'se':>11s} {'z':>6s}"
    print(hdr)
    print("-" * len(hdr))
    for name in names:
        if not check(name in rnames, f"scenario {name} missing from roisim output"):
            continue
        i = rnames.index(name)
        s = pstats[name]
        roi, npv, pay = per[name]
        rows = []  # (stat, peer, roisim, se, required)
        se_m = lambda sd_p, sd_r: math.sqrt(sd_p ** 2 / N + sd_r ** 2 / N)
        rows.append(("roi_mean", s["roi_mean"], rd["roi_mean"][i], se_m(s["roi_sd"], rd["roi_sd"][i]), True))
        rows.append(("npv_mean", s["npv_mean"], rd["npv_mean"][i], se_m(s["npv_sd"], s["npv_sd"]), True))
        for st in ("prob_loss", "prob_payback"):
            pp, pr = s[st], float(rd[st][i])
            bse = lambda p: max(math.sqrt(p * (1 - p) / N), 1.0 / N)
            rows.append((st, pp, pr, math.sqrt(bse(pp) ** 2 + bse(pr) ** 2), True))
        for j, q in enumerate(QUANTILES):
            se_q = median_se(roi, q, delta=min(0.02, q / 2, (1 - q) / 2))
            rows.append((f"roi_q{q:.2f}", s["roi_quantile"][j], rd["roi_quantile"][i][j],
                         math.sqrt(2) * se_q, q == 0.5))
        # roi_sd: se(sd) ~ sd * sqrt((kurt - 1) / (4N)) from the peer's sample
        k4 = float(np.mean((roi - roi.mean()) ** 4) / roi.var() ** 2)
        sd_se = s["roi_sd"] * math.sqrt(max(k4 - 1, 0.0) / (4 * N))
        rows.append(("roi_sd", s["roi_sd"], rd["roi_sd"][i], math.sqrt(2) * sd_se, False))
        if "cvar10" in rd:
            n10 = max(1, N // 10)
            tail = np.sort(roi)[:n10]
            # se of the tail mean: the tail's own spread plus the quantile uncertainty
            cse = math.sqrt(tail.var(ddof=1) / n10 + 0.1 * (s["roi_quantile"][1] - tail.mean()) ** 2 / n10)
            rows.append(("cvar10", s["cvar10"], rd["cvar10"][i], math.sqrt(2) * cse, False))
        # The rest of roisim's statistics, which the peer computes too (so that the throughput
        # comparison is like for like). NPV median: se from the peer's sample.
        if "npv_quantile" in rd:
            rows.append(("npv_q0.50", s["npv_quantile"][3], rd["npv_quantile"][i][3],
                         math.sqrt(2) * median_se(npv), True))
        # Spearman: se(rho) ~ (1 - rho^2) sqrt(1.06 / (N - 3)) (Fieller), both samples.
        if "spearman" in rd:
            for k, inp in enumerate(rd["input"]):
                vr = float(rd["spearman"][i][k])
                dp = s["drivers"].get(inp)
                if math.isnan(vr) or dp is None:
                    check(math.isnan(vr) and dp is None,
                          f"{name} spearman[{inp}]: present in {'roisim' if dp is None else 'the peer'} only")
                    continue
                se = (1 - vr * vr) * math.sqrt(1.06 / (N - 3)) * math.sqrt(2)
                rows.append((f"rho {inp[:9]}", dp["spearman"], vr, max(se, 1e-4), True))
        # Tornado and downside shift: printed for information (their se is not simple).
                if inp == "online_ratio":
                    for st in ("tornado_low", "tornado_high", "downside_shift"):
                        rows.append((f"{st[:8]} {inp[:4]}", dp[st], rd[st][i][k], 0.02, False))
        # Cash-flow median at the last month over the first 1000 trials of each: se of a median
        # with the density estimated over the interquartile range.
        if "cashflow_quantile" in rd:
            cq = s["cashflow_quantile"][-1]
            n_c = min(1000, N)
            se = math.sqrt(0.25 / n_c) * (cq[4] - cq[2]) / 0.5
            rows.append(("cash P50 H", cq[3], rd["cashflow_quantile"][i][-1][3], math.sqrt(2) * max(se, 1e-9), True))
        for st, vp, vr, se, req in rows:
            vr = float(vr)
            diff = vp - vr
            z = abs(diff) / se if se > 0 else (0.0 if diff == 0 else math.inf)
            bad = not (z <= Z)
            if req:
                check(not bad, f"{name} {st}: peer {vp:.6g} roisim {vr:.6g} diff {diff:.3g} = {z:.1f} se")
            flag = ("FAIL" if req else "warn") if bad else ""
            print(f"{name[:44]:44s} {st:13s} {vp:14.6g} {vr:14.6g} {diff:12.4g} {se:11.4g} {z:6.2f} {flag}")


def cache_check(repo, peer):
    """The peer's caches (projects, input ranks, identical scenarios) change no statistic: every
    scenario of the seed portfolio at 300 trials, with and without them."""
    seed_yaml = os.path.join(repo, "scenarios", "seed_portfolio.yaml")
    cached, _, S, _, _ = peer.run(seed_yaml, trials=300, cache=True)
    plain, _, _, _, _ = peer.run(seed_yaml, trials=300, cache=False)
    same = json.dumps(cached, sort_keys=True) == json.dumps(plain, sort_keys=True)
    check(S == 563 and same, f"peer: the same statistics with and without its caches ({S} scenarios)")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    roisim, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    peer_path, peer = load_peer(repo)
    with tempfile.TemporaryDirectory(prefix="roisim_peer_") as tmp:
        worked_check(roisim, peer_path, tmp)
        stat_check(roisim, repo, peer, tmp)
    cache_check(repo, peer)
    if failures:
        print(f"\n{len(failures)} FAILURE(S):")
        for f in failures:
            print("  " + f)
        return 1
    print("\nall peer checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
