#include "models/cash_flow.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/simd.h"

namespace roisim {

Timeline::Timeline(int horizon_months, double discount_rate)
    : h_(horizon_months), r_(discount_rate), df_(static_cast<std::size_t>(horizon_months) + 1) {
  for (int m = 0; m <= h_; ++m) df_[m] = std::pow(1.0 + r_, -m / 12.0);
}

int effective_launch_month(double launch_month, int horizon) noexcept {
  if (!(launch_month > 0)) return 0;  // also NaN
  if (launch_month >= horizon) return horizon;
  return static_cast<int>(std::lround(launch_month));
}

ProjectFlows project_flows(const Timeline& t, const ProjectDraw& p, double* cum, std::size_t cum_stride) noexcept {
  const int h = t.horizon();
  ProjectFlows out;
  out.pv_cost = p.initial_cost;
  if (!p.success) {
    if (cum)
      for (int m = 0; m <= h; ++m) cum[m * cum_stride] = -p.initial_cost;
    return out;
  }
  const int launch = effective_launch_month(p.launch_month, h);
  const double decay = std::clamp(p.decay, 0.0, 1.0);
  const double monthly_value = p.annual_value / 12.0;
  const double running = (p.maintenance_share * p.initial_cost + p.infra_annual) / 12.0;
  double acc = -p.initial_cost;
  if (cum) {
    for (int m = 0; m <= launch; ++m) cum[m * cum_stride] = acc;
  }
  double pv_value = 0, pv_running = 0;
  // (1 − d)^((k − 1)/12) as a running product of the monthly factor (1 − d)^(1/12): one pow per
  // project and trial instead of one per month (relative difference below 1e-14 over 100 years).
  const double monthly_keep = decay > 0 ? std::pow(1.0 - decay, 1.0 / 12.0) : 1.0;
  double keep = 1.0;
  for (int m = launch + 1; m <= h; ++m, keep *= monthly_keep) {
    const int k = m - launch;
    const double ramp = (p.ramp_months > 0 && k < p.ramp_months) ? k / p.ramp_months : 1.0;
    const double df = t.df(m);
    const double v = monthly_value * ramp * keep * df;
    const double c = running * df;
    pv_value += v;
    pv_running += c;
    acc += v - c;
    if (cum) cum[m * cum_stride] = acc;
  }
  out.pv_value = pv_value;
  out.pv_cost = p.initial_cost + pv_running;
  return out;
}

double payback_month(const double* portfolio_cum, int horizon) noexcept {
  for (int m = 0; m <= horizon; ++m)
    if (portfolio_cum[m] >= 0) return m;
  return std::numeric_limits<double>::infinity();
}

ROISIM_CLONES
void project_flows_block(const Timeline& t, const DrawColumns& d, std::size_t count, double* cum, std::size_t ld,
                         double* pv_value, double* pv_cost) noexcept {
  using simd::V4d;
  using simd::V4i;
  using simd::V4l;
  const int h = t.horizon();
  const double hh = static_cast<double>(h);
  // The monthly decay factor of the last decay seen: a project's decay is often one number for
  // every trial, and pow() was ~4% of a run (the same call, hence the same bits, either way).
  double last_decay = 0, last_mk = 1;
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    // Lane j: draw i + j, each field computed as project_flows does it, lane by lane (the same
    // operations: the same bits). A failed draw never goes live (launch past the horizon).
    const V4l ok = {d.success[i] ? -1 : 0, d.success[i + 1] ? -1 : 0, d.success[i + 2] ? -1 : 0, d.success[i + 3] ? -1 : 0};
    const V4d zero = {}, one = {1, 1, 1, 1}, half = {0.5, 0.5, 0.5, 0.5}, hd = {hh, hh, hh, hh};
    V4d cost, lm, dec, av, ms, ia, rm;
    simd::load(cost, d.initial_cost + i);
    simd::load(lm, d.launch_month + i);
    simd::load(dec, d.decay + i);
    simd::load(av, d.annual_value + i);
    simd::load(ms, d.maintenance_share + i);
    simd::load(ia, d.infra_annual + i);
    simd::load(rm, d.ramp_months + i);
    V4d acc = -cost;
    // effective_launch_month: 0 for L <= 0 or NaN, H from L >= H, else lround(L). The month is
    // clamped to [0, H] first (so that the conversion stays in range), then rounded half away
    // from zero: its whole part plus one where the fraction (exact) is at least 1/2.
    const V4d lc = lm > zero ? (lm < hd ? lm : hd) : zero;
    const V4d whole = __builtin_convertvector(__builtin_convertvector(lc, V4i), V4d);
    const V4d launch = ok ? whole + (lc - whole >= half ? one : zero) : hd + one;
    const V4d decay = dec < zero ? zero : (one < dec ? one : dec);  // std::clamp(d, 0, 1), NaN kept
    const V4d twelve = {12, 12, 12, 12};
    const V4d mv = ok ? av / twelve : zero;
    const V4d run = ok ? (ms * cost + ia) / twelve : zero;
    const V4d ramp_m = ok ? rm : zero;
    V4d mk = zero, keep = one, pvv = {}, pvr = {};
    for (int j = 0; j < 4; ++j) {
      if (!ok[j]) continue;
      if (decay[j] != last_decay) {
        last_decay = decay[j];
        last_mk = last_decay > 0 ? std::pow(1.0 - last_decay, 1.0 / 12.0) : 1.0;
      }
      mk[j] = last_mk;
    }
    int m = 0;
    for (; m <= h; ++m) {
      const double md = static_cast<double>(m), dfm = t.df(m);
      const V4d vm = {md, md, md, md}, df = {dfm, dfm, dfm, dfm};
      const V4l live = vm > launch;
      const V4d k = vm - launch;  // whole numbers: exact, as project_flows' int k
      const V4l ramping = (ramp_m > zero) & (k < ramp_m);
      // Every lane that succeeds is live and past its ramp from here on (months only add to k):
      // the rest of the horizon is the steady loop below.
      const V4l steady = (live & ~ramping) | ~ok;
      if ((steady[0] & steady[1] & steady[2] & steady[3]) != 0) break;
      const V4d ramp = ramping ? k / ramp_m : one;
      const V4d v = mv * ramp * keep * df;
      const V4d c = run * df;
      pvv = live ? pvv + v : pvv;
      pvr = live ? pvr + c : pvr;
      acc = live ? acc + (v - c) : acc;
      keep = live ? keep * mk : keep;
      simd::store(&cum[static_cast<std::size_t>(m) * ld + i], acc);
    }
    // Steady months: the same operations as above with ramp = 1 (mv * 1 is mv: the same bits) and
    // every successful lane live. A failed lane (mv = run = mk = 0) computes values nobody reads:
    // its present values are masked below and its cumulative flow is stored from before these
    // months (-initial_cost). (Adding its zeros is not enough: a zero could turn a -0.0 flow into
    // +0.0, and 0 * df is NaN where df(m) overflows, as for a rate near -1 over a long horizon.)
    const V4d acc0 = acc;
    for (; m <= h; ++m) {
      const double dfm = t.df(m);
      const V4d df = {dfm, dfm, dfm, dfm};
      const V4d v = mv * keep * df;
      const V4d c = run * df;
      pvv += v;
      pvr += c;
      acc += v - c;
      keep *= mk;
      simd::store(&cum[static_cast<std::size_t>(m) * ld + i], ok ? acc : acc0);
    }
    const V4d pc = ok ? cost + pvr : cost;
    simd::store(&pv_value[i], ok ? pvv : zero);
    simd::store(&pv_cost[i], pc);
  }
  for (; i < count; ++i) {
    const ProjectDraw one{d.annual_value[i], d.initial_cost[i], d.maintenance_share[i], d.infra_annual[i],
                          d.launch_month[i],  d.ramp_months[i],  d.decay[i],            d.success[i] != 0};
    const ProjectFlows f = project_flows(t, one, &cum[i], ld);
    pv_value[i] = f.pv_value;
    pv_cost[i] = f.pv_cost;
  }
}

void project_flows_block(const Timeline& t, const ProjectDraw* draws, std::size_t count, double* cum, std::size_t ld,
                         double* pv_value, double* pv_cost) noexcept {
  constexpr std::size_t kChunk = 64;  // a multiple of four: only the last chunk has a scalar tail
  double col[7][kChunk];
  unsigned char ok[kChunk];
  for (std::size_t c = 0; c < count; c += kChunk) {
    const std::size_t len = std::min(kChunk, count - c);
    for (std::size_t i = 0; i < len; ++i) {
      const ProjectDraw& p = draws[c + i];
      col[0][i] = p.annual_value;
      col[1][i] = p.initial_cost;
      col[2][i] = p.maintenance_share;
      col[3][i] = p.infra_annual;
      col[4][i] = p.launch_month;
      col[5][i] = p.ramp_months;
      col[6][i] = p.decay;
      ok[i] = p.success ? 1 : 0;
    }
    const DrawColumns columns{col[0], col[1], col[2], col[3], col[4], col[5], col[6], ok};
    project_flows_block(t, columns, len, cum + c, ld, pv_value + c, pv_cost + c);
  }
}

}  // namespace roisim
