#!/usr/bin/python3
"""numpy_peer.py -- an independent NumPy implementation of the roisim SPEC.

Usage:
    numpy_peer.py FILE [--trials N] [--seed S] [--scenarios K] [--json OUT] [--no-cache]

Used for two things:
  (a) a statistical cross-check of the C++ engine (tests/test_peer.py): the random
      numbers differ from roisim's Philox streams, so statistics agree within
      standard errors, not bitwise;
  (b) the "NumPy peer" for throughput comparison (bench/peers/compare.sh).

It is written the way a competent analyst would write it in NumPy, sharing no code
with the C++ engine:

* Inputs are sampled ONCE per run per (input stream, distribution definition), as
  arrays of shape [trials], and reused by every scenario (common random numbers).
  Every stream's uniforms come from numpy.random.default_rng([seed, crc32(name)]),
  so they do not depend on the order in which streams are first used nor on
  --scenarios.  Correlated inputs (Spearman, Gaussian copula with Pearson
  2 sin(pi rho_s / 6), Cholesky) share standard normals z = L @ eps, u = Phi(z).
  A `set` override re-maps the SAME uniform u through the new distribution; a `set`
  on "project.param" whose base value is a factor reference (or a constant) gets an
  independent stream keyed by "project.param".  `scale` multiplies the sampled value
  (factor scales apply to every project reading the factor, project.param scales to
  that param only; several scales multiply).
* Each project's per-trial quantities are computed vectorised as [trials, months]
  arrays: PV_value, PV_cost, C0 and the cumulative discounted net cash flow.
* Per-project caching: the per-project result depends only on the project's
  effective parameter descriptors (stream, distribution, scale) in a scenario, so
  by default it is cached under that key and reused by every scenario in which the
  project sees the same overrides (the seed portfolio's 563 scenarios need only a
  few dozen distinct project evaluations).  The portfolio of each scenario (sums over
  funded projects, ROI, NPV, the cumulative cash-flow curve and the payback month)
  is computed per scenario, except that a scenario whose projects all have the same
  keys, in the same order, as an earlier scenario's has that scenario's results and
  takes its statistics (80 of the seed's 563; roisim does the same).  --no-cache
  recomputes every project in every scenario (the "naive" peer); the statistics are
  identical either way.

* Every statistic roisim writes per scenario (SPEC section 6 and roisim's extras), so that the
  throughput comparison is like for like: mean, sd, se, P(loss) and P(payback) with Wilson
  intervals, CVaR10, ROI and NPV quantiles, the order-statistic intervals of the ROI quantiles,
  payback median; per uncertain input Spearman (average ranks, scipy.stats.rankdata),
  variance contribution, tornado low/high (median ROI with the input in its P5-P15 / P85-P95
  band) and downside shift; and the quantiles of the cumulative cash flow at every month over
  the first 1000 trials.  Input ranks and bands are cached with the input arrays (--no-cache
  recomputes them per scenario too).

Output: a timing line on stdout (seconds, scenario x trial evaluations per second)
and, with --json, {scenario_name: {stat: value, ..., "roi_quantile": [7 values]}}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
import zlib

import numpy as np
import yaml
from scipy import special, stats

QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)

COST_PARAMS = {
    "initial_cost": None,          # required
    "maintenance_share": 0.0,
    "infra_annual": 0.0,
    "launch_month": 0.0,
    "ramp_months": 0.0,
    "decay": 0.0,
    "p_success": 1.0,
}

KIND_INPUTS = {
    "revenue": {"sessions_per_month": None, "baseline_ctr": None, "offline_ctr_lift": None,
                "online_ratio": None, "conversion_rate": None, "avg_order_value": None,
                "margin": 1.0},
    "automation": {"tasks_per_month": None, "manual_cost_per_task": None,
                   "automation_rate": None, "accuracy": None, "review_cost_per_error": None},
    "fraud": {"transactions_per_month": None, "fraud_rate": None, "catch_rate": None,
              "avg_fraud_loss": None, "false_positive_rate": None, "blocked_value": None,
              "review_rate": None, "investigation_cost": None},
    "retention": {"customers": None, "annual_churn_rate": None, "offline_churn_reduction": None,
                  "online_ratio": None, "revenue_per_customer": None, "margin": 1.0},
    "direct": {"annual_value": None},
}


# --------------------------------------------------------------------------- distributions

def _f(d, key, default=None):
    v = d.get(key, default)
    if v is None:
        raise ValueError(f"distribution {d!r} lacks '{key}'")
    return float(v)


def ppf(spec, u):
    """Inverse CDF of a distribution spec (number or map) at uniforms u (array)."""
    if not isinstance(spec, dict):
        return float(spec)
    dist = spec["dist"]
    if dist == "uniform":
        lo, hi = _f(spec, "min"), _f(spec, "max")
        return lo + u * (hi - lo)
    if dist == "triangular":
        lo, mo, hi = _f(spec, "min"), _f(spec, "mode"), _f(spec, "max")
        w = hi - lo
        fc = (mo - lo) / w
        left = lo + np.sqrt(u * w * (mo - lo))
        right = hi - np.sqrt((1.0 - u) * w * (hi - mo))
        return np.where(u < fc, left, right)
    if dist == "pert":
        lo, mo, hi = _f(spec, "min"), _f(spec, "mode"), _f(spec, "max")
        lam = _f(spec, "lambda", 4.0)
        w = hi - lo
        a = 1.0 + lam * (mo - lo) / w
        b = 1.0 + lam * (hi - mo) / w
        return lo + w * special.betaincinv(a, b, u)
    if dist == "normal":
        mu, sd = _f(spec, "mean"), _f(spec, "sd")
        lo = spec.get("min")
        hi = spec.get("max")
        if lo is None and hi is None:
            return mu + sd * special.ndtri(u)
        plo = special.ndtr((float(lo) - mu) / sd) if lo is not None else 0.0
        phi = special.ndtr((float(hi) - mu) / sd) if hi is not None else 1.0
        x = mu + sd * special.ndtri(plo + u * (phi - plo))
        if lo is not None:
            x = np.maximum(x, float(lo))
        if hi is not None:
            x = np.minimum(x, float(hi))
        return x
    if dist == "lognormal":
        return _f(spec, "median") * np.exp(_f(spec, "sigma") * special.ndtri(u))
    if dist == "beta":
        lo, hi = _f(spec, "min", 0.0), _f(spec, "max", 1.0)
        return lo + (hi - lo) * special.betaincinv(_f(spec, "alpha"), _f(spec, "beta"), u)
    if dist == "discrete":
        vals = np.asarray(spec["values"], dtype=float)
        cum = np.cumsum(np.asarray(spec["probs"], dtype=float))
        idx = np.searchsorted(cum, u, side="right")
        return vals[np.minimum(idx, len(vals) - 1)]
    if dist == "bernoulli":
        p = _f(spec, "p")
        return (u >= 1.0 - p).astype(float)
    raise ValueError(f"unknown dist {dist!r}")


def is_dist(v):
    return isinstance(v, dict) and "dist" in v


def is_factor_ref(v):
    return isinstance(v, dict) and "factor" in v


def canon(spec):
    return json.dumps(spec, sort_keys=True) if isinstance(spec, dict) else repr(float(spec))


# --------------------------------------------------------------------------- the model

class Model:
    def __init__(self, cfg, trials, seed):
        self.cfg = cfg
        st = cfg.get("settings") or {}
        self.H = int(st.get("horizon_months", 36))
        self.r = float(st.get("discount_rate", 0.0))
        self.N = int(trials)
        self.seed = int(seed)
        self.factors = dict(cfg.get("factors") or {})
        self.projects = dict(cfg["projects"])          # file order (dict preserves it)
        self.pnames = list(self.projects)
        # per-project parameter table: name -> raw spec (number / dist / {factor})
        self.params = {}
        for p, pd in self.projects.items():
            kind = pd["kind"]
            tab = {}
            for q, dflt in KIND_INPUTS[kind].items():
                v = (pd.get("inputs") or {}).get(q, dflt)
                if v is None:
                    raise ValueError(f"project {p}: missing input {q}")
                tab[q] = v
            for q, dflt in COST_PARAMS.items():
                v = pd.get(q, dflt)
                if v is None:
                    raise ValueError(f"project {p}: missing {q}")
                tab[q] = v
            self.params[p] = tab
        self._build_copula(cfg.get("correlations") or [])
        self._u = {}
        self._samples = {}
        # discounting over months 1..H
        self.m = np.arange(1, self.H + 1, dtype=float)
        self.df = (1.0 + self.r) ** (-self.m / 12.0)

    # ---- streams of uniforms
    def _stream_name(self, name):
        """Canonical stream for a correlation name: project.input reading a factor -> factor."""
        if name in self.factors:
            return name
        p, _, q = name.partition(".")
        raw = self.params[p][q]
        if is_factor_ref(raw):
            return raw["factor"]
        return name

    def _rng(self, name):
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def _build_copula(self, corr):
        names = []
        for a, b, _ in corr:
            for n in (self._stream_name(a), self._stream_name(b)):
                if n not in names:
                    names.append(n)
        self.corr_names = names
        self.corr_u = {}
        if not names:
            return
        k = len(names)
        R = np.eye(k)
        for a, b, rs in corr:
            i, j = names.index(self._stream_name(a)), names.index(self._stream_name(b))
            R[i, j] = R[j, i] = 2.0 * math.sin(math.pi * float(rs) / 6.0)
        self.corr_matrix = R
        L = np.linalg.cholesky(R)
        eps = np.stack([self._rng(n).standard_normal(self.N) for n in names])  # [k, N]
        z = L @ eps
        u = special.ndtr(z)
        for i, n in enumerate(names):
            self.corr_u[n] = u[i]

    def u(self, stream):
        if stream in self.corr_u:
            return self.corr_u[stream]
        a = self._u.get(stream)
        if a is None:
            a = self._rng(stream).random(self.N)
            a = np.clip(a, 1e-300, 1.0 - 2.0 ** -53)  # keep ppf finite at u = 0
            self._u[stream] = a
            # note: a set override on a constant/factor-reading param uses stream
            # "project.param", independent of any other stream
        return a

    def sample(self, stream, spec):
        """Sampled array (or constant) for a stream under a distribution; cached."""
        if not isinstance(spec, dict):
            return float(spec)
        key = (stream, canon(spec))
        a = self._samples.get(key)
        if a is None:
            a = np.asarray(ppf(spec, self.u(stream)), dtype=float)
            self._samples[key] = a
        return a

    # ---- parameter resolution
    def descriptor(self, p, q, scale, setd):
        """(stream, spec, multiplier) of project p's param q under overrides."""
        raw = self.params[p][q]
        pq = f"{p}.{q}"
        mult = float(scale.get(pq, 1.0))
        if pq in setd:
            return (pq, setd[pq], mult)
        if is_factor_ref(raw):
            f = raw["factor"]
            mult *= float(scale.get(f, 1.0))
            return (f, setd.get(f, self.factors[f]), mult)
        return (pq, raw, mult)

    def value(self, desc):
        stream, spec, mult = desc
        v = self.sample(stream, spec)
        return v * mult if mult != 1.0 else v

    # ---- one project
    def project_key(self, p, scale, setd):
        return (p,) + tuple((q,) + (lambda d: (d[0], canon(d[1]), d[2]))(self.descriptor(p, q, scale, setd))
                            for q in self.params[p])

    def evaluate_project(self, p, scale, setd):
        """-> (PV_value [N], PV_cost [N], cum [N, H] cumulative discounted net cash flow incl. -C0)."""
        N, H = self.N, self.H
        v = {q: self.value(self.descriptor(p, q, scale, setd)) for q in self.params[p]}
        kind = self.projects[p]["kind"]
        if kind == "revenue":
            A = (12.0 * v["sessions_per_month"] * v["baseline_ctr"]
                 * (v["offline_ctr_lift"] * v["online_ratio"]) * v["conversion_rate"]
                 * v["avg_order_value"] * v["margin"])
        elif kind == "automation":
            A = (12.0 * v["tasks_per_month"] * v["automation_rate"]
                 * (v["manual_cost_per_task"] - (1.0 - v["accuracy"]) * v["review_cost_per_error"]))
        elif kind == "fraud":
            f0 = v["fraud_rate"]
            f1 = f0 * (1.0 - v["catch_rate"])
            fpr = v["false_positive_rate"]
            A = 12.0 * v["transactions_per_month"] * (
                (f0 - f1) * v["avg_fraud_loss"]
                - (1.0 - f0) * fpr * v["blocked_value"]
                - (f1 + fpr) * v["review_rate"] * v["investigation_cost"])
        elif kind == "retention":
            A = (v["customers"] * v["annual_churn_rate"]
                 * (v["offline_churn_reduction"] * v["online_ratio"])
                 * v["revenue_per_customer"] * v["margin"])
        else:
            A = v["annual_value"]

        def col(x):  # scalar stays scalar, [N] -> [N, 1] for broadcasting over months
            return x[:, None] if isinstance(x, np.ndarray) and x.ndim == 1 else x

        C0 = np.broadcast_to(np.asarray(v["initial_cost"], dtype=float), (N,))
        Lraw = np.asarray(v["launch_month"], dtype=float)
        L = np.clip(np.copysign(np.floor(np.abs(Lraw) + 0.5), Lraw), 0, H)
        R = np.asarray(v["ramp_months"], dtype=float)
        d = np.clip(np.asarray(v["decay"], dtype=float), 0.0, 1.0)
        p_s = np.clip(np.asarray(v["p_success"], dtype=float), 0.0, 1.0)

        m = self.m                                  # [H]
        k = m - col(L)                              # [H] or [N, H]
        live = k >= 1.0
        kk = np.maximum(k, 1.0)
        Rc = col(R)
        ramp = np.where(Rc > 0, np.minimum(1.0, kk / np.where(Rc > 0, Rc, 1.0)), 1.0)
        decay = (1.0 - col(d)) ** ((kk - 1.0) / 12.0)
        live_df = np.where(live, self.df, 0.0)      # df on live months, 0 otherwise
        value = (col(A) / 12.0) * ramp * decay * live_df          # discounted value, [N, H]
        running = ((col(v["maintenance_share"]) * col(C0) + col(v["infra_annual"])) / 12.0) * live_df
        value = np.broadcast_to(value, (N, H))
        running = np.broadcast_to(running, (N, H))
        net = value - running

        if np.all(p_s >= 1.0):
            ok = None
        else:
            ok = self.u(f"{p}.__success__") < p_s          # success ~ Bernoulli(p)
        pv_value = value.sum(axis=1)
        pv_cost = C0 + running.sum(axis=1)
        cum = np.cumsum(net, axis=1)
        if ok is not None:
            pv_value = np.where(ok, pv_value, 0.0)
            pv_cost = np.where(ok, pv_cost, C0)
            cum = np.where(ok[:, None], cum, 0.0)
        cum = cum - C0[:, None]
        return pv_value, pv_cost, C0, cum


# --------------------------------------------------------------------------- scenarios

def expand_scenarios(cfg):
    pnames = list(cfg["projects"])
    out = []
    if "scenarios" not in cfg or cfg["scenarios"] is None:
        if not cfg.get("sweep"):
            out.append({"name": "base", "projects": pnames, "scale": {}, "set": {}})
    else:
        for s in cfg["scenarios"]:
            funded = s.get("projects") or pnames
            funded = [p for p in pnames if p in funded]
            out.append({"name": s["name"], "projects": funded,
                        "scale": dict(s.get("scale") or {}), "set": dict(s.get("set") or {})})
    sw = cfg.get("sweep")
    if sw:
        axes = list((sw.get("axes") or {}).items())
        fund = sw.get("funded")
        if fund == "all_subsets":
            P = len(pnames)
            funded_lists = [[pnames[i] for i in range(P) if mask >> i & 1] for mask in range(1, 1 << P)]
        elif fund is None:
            funded_lists = [None]
        else:
            funded_lists = [[p for p in pnames if p in fl] for fl in fund]
        axis_values = [list(vals.items()) for _, vals in axes]
        for combo in itertools.product(*axis_values):
            scale, setd, parts = {}, {}, []
            for (axname, _), (vname, ov) in zip(axes, combo):
                ov = ov or {}
                parts.append(f"{axname}={vname}")
                for k, f in (ov.get("scale") or {}).items():
                    scale[k] = scale.get(k, 1.0) * float(f)
                setd.update(ov.get("set") or {})
            for fl in funded_lists:
                name_parts = parts + ([f"funded={'+'.join(fl)}"] if fl is not None else [])
                out.append({"name": "/".join(name_parts), "projects": fl if fl is not None else pnames,
                            "scale": scale, "set": setd})
    return out


# --------------------------------------------------------------------------- statistics

def portfolio(results):
    """results: list of per-project (pv_value, pv_cost, C0, cum). -> roi, npv, payback, cum [N, H+1]."""
    V = sum(r[0] for r in results)
    C = sum(r[1] for r in results)
    C0 = sum(r[2] for r in results)
    cum = results[0][3]
    if len(results) > 1:
        cum = cum.copy()
        for r in results[1:]:
            cum += r[3]
    roi = V / C - 1.0
    npv = V - C
    pos = cum >= 0.0
    anyp = pos.any(axis=1)
    pay = np.where(anyp, pos.argmax(axis=1) + 1.0, np.inf)
    pay = np.where(-C0 >= 0.0, 0.0, pay)
    return roi, npv, pay, cum, C0


CASHFLOW_TRIALS = 1000  # roisim's default --cashflow-trials


def cashflow_quantiles(cum, C0):
    """Quantiles of the portfolio's cumulative discounted net cash flow at months 0..H over the
    first CASHFLOW_TRIALS trials: [H + 1, 7]."""
    n = min(CASHFLOW_TRIALS, cum.shape[0])
    full = np.concatenate([-C0[:n, None], cum[:n]], axis=1)
    return np.quantile(full, QUANTILES, axis=0).T


class InputStats:
    """Per input array (cached across scenarios): centred average ranks, their norm, and the
    trials in the input's P5-P15 / P85-P95 bands (tornado); for a 0/1 success input (binary) the
    bands are its failures and its successes."""

    def __init__(self, x, binary=False):
        n = x.size
        self.centred = stats.rankdata(x) - (n + 1) / 2.0
        self.norm = float(np.sqrt(self.centred @ self.centred))
        if binary:
            self.low = np.flatnonzero(x == 0)
            self.high = np.flatnonzero(x == 1)
            return
        b = np.quantile(x, [0.05, 0.15, 0.85, 0.95])
        self.low = np.flatnonzero((x >= b[0]) & (x <= b[1]))
        self.high = np.flatnonzero((x >= b[2]) & (x <= b[3]))


def drivers(roi, inputs):
    """inputs: {name: (InputStats, sign)}. -> {name: {spearman, variance_contribution,
    tornado_low, tornado_high, downside_shift}} as roisim defines them."""
    n = roi.size
    rc = stats.rankdata(roi) - (n + 1) / 2.0
    rnorm = float(np.sqrt(rc @ rc))
    # The worst k trials by ROI; trials tied with the k-th worst count each with the weight that
    # averages over every order of the ties.
    k = max(1, n // 10)
    kth = np.partition(roi, k - 1)[k - 1]
    below, tied = roi < kth, roi == kth
    weight = np.where(below, 1.0, np.where(tied, (k - np.count_nonzero(below)) / np.count_nonzero(tied), 0.0))
    out = {}
    for name, (st, sign) in inputs.items():
        if not (st.norm > 0 and rnorm > 0) or sign == 0:
            continue
        rho = sign * float(st.centred @ rc) / (st.norm * rnorm)
        low, high = (st.low, st.high) if sign > 0 else (st.high, st.low)
        pct = (st.centred + (n + 1) / 2.0 - 0.5) / n
        out[name] = {
            "spearman": rho,
            "tornado_low": float(np.median(roi[low])) if low.size else math.nan,
            "tornado_high": float(np.median(roi[high])) if high.size else math.nan,
            "downside_shift": sign * (float(pct @ weight) / k - 0.5),
        }
    total = sum(v["spearman"] ** 2 for v in out.values())
    for v in out.values():
        v["variance_contribution"] = v["spearman"] ** 2 / total if total > 0 else math.nan
    return out


def wilson(k, n, z=1.959963984540054):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, c - h), min(1.0, c + h)


def order_stat_interval(n, q):
    """0-based order statistics (lo, hi) of the distribution-free 95% interval of the q-quantile."""
    lo = int(stats.binom.ppf(0.025, n, q)) - 1
    if stats.binom.cdf(lo + 1, n, q) <= 0.025:
        lo += 1
    hi = int(stats.binom.ppf(0.975, n, q))
    return min(max(lo, 0), n - 1), min(max(hi, 0), n - 1)


def summarize(roi, npv, pay, intervals=None):
    N = roi.size
    n10 = max(1, N // 10)
    with np.errstate(invalid="ignore"):
        p50 = float(np.quantile(pay, 0.5))
    if math.isnan(p50):
        p50 = math.inf
    srt = np.sort(roi)
    intervals = intervals or [order_stat_interval(N, q) for q in QUANTILES]
    losses, paid = int(np.count_nonzero(roi < 0.0)), int(np.count_nonzero(np.isfinite(pay)))
    sd = float(roi.std(ddof=1)) if N > 1 else math.nan
    nsd = float(npv.std(ddof=1)) if N > 1 else math.nan
    return {
        "roi_se": sd / math.sqrt(N),
        "npv_se": nsd / math.sqrt(N),
        "roi_quantile_lo": [float(srt[lo]) for lo, _ in intervals],
        "roi_quantile_hi": [float(srt[hi]) for _, hi in intervals],
        "prob_loss_ci": list(wilson(losses, N)),
        "prob_payback_ci": list(wilson(paid, N)),
        "npv_quantile": [float(x) for x in np.quantile(npv, QUANTILES)],
        "roi_mean": float(roi.mean()),
        "roi_sd": float(roi.std(ddof=1)) if N > 1 else math.nan,
        "prob_loss": float(np.mean(roi < 0.0)),
        "cvar10": float(np.partition(roi, n10 - 1)[:n10].mean()),
        "npv_mean": float(npv.mean()),
        "npv_sd": float(npv.std(ddof=1)) if N > 1 else math.nan,
        "payback_p50": p50,
        "prob_payback": float(np.mean(np.isfinite(pay))),
        "roi_quantile": [float(x) for x in np.quantile(roi, QUANTILES)],
    }


def run(path, trials=None, seed=None, scenarios=None, cache=True, keep=None):
    """Simulate FILE.  Returns (stats dict, seconds, n_scenarios, trials, per_trial).

    per_trial holds {name: (roi, npv, payback)} for the scenario names in `keep`.
    """
    with open(path) as fh:
        cfg = yaml.safe_load(fh)
    st = cfg.get("settings") or {}
    N = int(trials if trials is not None else st.get("trials", 10000))
    S = int(seed if seed is not None else st.get("seed", 0))
    t0 = time.perf_counter()
    model = Model(cfg, N, S)
    scen = expand_scenarios(cfg)
    if scenarios is not None:
        scen = scen[:scenarios]
    pcache = {}
    scache = {}  # the scenario's project keys in order -> its statistics
    icache = {}  # (stream, distribution) -> InputStats, like the sampled arrays themselves
    intervals = [order_stat_interval(N, q) for q in QUANTILES]
    out, per_trial = {}, {}
    keep = set(keep or ())
    for s in scen:
        skey = None
        if cache and s["name"] not in keep:
            skey = tuple(model.project_key(p, s["scale"], s["set"]) for p in s["projects"])
            if skey in scache:
                out[s["name"]] = scache[skey]
                continue
        res = []
        inputs = {}  # the scenario's uncertain inputs: [InputStats, signs of the readers' scales]
        for p in s["projects"]:
            if cache:
                key = model.project_key(p, s["scale"], s["set"])
                r = pcache.get(key)
                if r is None:
                    r = pcache[key] = model.evaluate_project(p, s["scale"], s["set"])
            else:
                r = model.evaluate_project(p, s["scale"], s["set"])
            res.append(r)
            for q in model.params[p]:
                stream, spec, mult = model.descriptor(p, q, s["scale"], s["set"])
                name = f"{p}.success" if q == "p_success" else stream
                if name in inputs:
                    if q != "p_success":
                        inputs[name][1].add(float(np.sign(mult)))
                    continue
                if q == "p_success":
                    ps = model.value((stream, spec, mult))
                    if np.all(np.asarray(ps) >= 1.0):
                        continue
                    x = (model.u(f"{p}.__success__") < np.clip(ps, 0.0, 1.0)).astype(float)
                    k = (name, canon(spec) if isinstance(spec, dict) else spec, mult)
                    sign = 1.0
                else:
                    if not isinstance(spec, dict):
                        continue
                    x = model.sample(stream, spec)
                    k = (stream, canon(spec))
                    sign = float(np.sign(mult))
                st = icache.get(k) if cache else None
                if st is None:
                    st = InputStats(x, binary=q == "p_success")
                    if cache:
                        icache[k] = st
                inputs[name] = [st, {sign}]
        # Reversed when every reader scales the input by a negative factor, absent when every one
        # scales it by 0, its own value when the scales differ in sign (as in roisim).
        for name, (st, signs) in list(inputs.items()):
            signs.discard(0.0)
            inputs[name] = (st, -1.0 if signs == {-1.0} else (0.0 if not signs else 1.0))
        roi, npv, pay, cum, C0 = portfolio(res)
        st = summarize(roi, npv, pay, intervals)
        st["drivers"] = drivers(roi, inputs)
        st["cashflow_quantile"] = cashflow_quantiles(cum, C0).tolist()
        out[s["name"]] = st
        if skey is not None:
            scache[skey] = st
        if s["name"] in keep:
            per_trial[s["name"]] = (roi, npv, pay)
    secs = time.perf_counter() - t0
    return out, secs, len(scen), N, per_trial


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--scenarios", type=int, help="only the first K scenarios")
    ap.add_argument("--json", help="write the statistics as JSON here")
    ap.add_argument("--no-cache", action="store_true",
                    help="recompute every project in every scenario (no per-project cache)")
    a = ap.parse_args(argv)
    stats_, secs, S, N, _ = run(a.file, a.trials, a.seed, a.scenarios, cache=not a.no_cache)
    print(f"numpy_peer: {S} scenarios x {N} trials in {secs:.3f} s = "
          f"{S * N / secs:.4g} scenario-trials/s (cache={'off' if a.no_cache else 'on'})")
    if a.json:
        def clean(x):
            if isinstance(x, float) and not math.isfinite(x):
                return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
            return x
        def deep(x):
            if isinstance(x, dict):
                return {k: deep(v) for k, v in x.items()}
            if isinstance(x, list):
                return [deep(v) for v in x]
            return clean(x)
        js = deep(stats_)
        with open(a.json, "w") as fh:
            json.dump(js, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
