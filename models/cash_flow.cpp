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
void project_flows_block(const Timeline& t, const ProjectDraw* draws, std::size_t count, double* cum, std::size_t ld,
                         double* pv_value, double* pv_cost) noexcept {
  using simd::V4d;
  using simd::V4l;
  const int h = t.horizon();
  // The monthly decay factor of the last decay seen: a project's decay is often one number for
  // every trial, and pow() was ~4% of a run (the same call, hence the same bits, either way).
  double last_decay = 0, last_mk = 1;
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    // Lane j: draw i + j. A failed draw never goes live (launch past the horizon).
    V4d cost, acc, mv, run, mk, ramp_m, launch, keep = {1, 1, 1, 1}, pvv = {}, pvr = {};
    V4l ok;
    for (int j = 0; j < 4; ++j) {
      const ProjectDraw& p = draws[i + static_cast<std::size_t>(j)];
      cost[j] = p.initial_cost;
      acc[j] = -p.initial_cost;
      ok[j] = p.success ? -1 : 0;
      if (!p.success) {
        launch[j] = static_cast<double>(h) + 1;
        mv[j] = run[j] = mk[j] = ramp_m[j] = 0;
        continue;
      }
      launch[j] = effective_launch_month(p.launch_month, h);
      const double decay = std::clamp(p.decay, 0.0, 1.0);
      mv[j] = p.annual_value / 12.0;
      run[j] = (p.maintenance_share * p.initial_cost + p.infra_annual) / 12.0;
      if (decay != last_decay) {
        last_decay = decay;
        last_mk = decay > 0 ? std::pow(1.0 - decay, 1.0 / 12.0) : 1.0;
      }
      mk[j] = last_mk;
      ramp_m[j] = p.ramp_months;
    }
    const V4d zero = {}, one = {1, 1, 1, 1};
    for (int m = 0; m <= h; ++m) {
      const double md = static_cast<double>(m), dfm = t.df(m);
      const V4d vm = {md, md, md, md}, df = {dfm, dfm, dfm, dfm};
      const V4l live = vm > launch;
      const V4d k = vm - launch;  // whole numbers: exact, as project_flows' int k
      const V4d ramp = (ramp_m > zero) & (k < ramp_m) ? k / ramp_m : one;
      const V4d v = mv * ramp * keep * df;
      const V4d c = run * df;
      pvv = live ? pvv + v : pvv;
      pvr = live ? pvr + c : pvr;
      acc = live ? acc + (v - c) : acc;
      keep = live ? keep * mk : keep;
      simd::store(&cum[static_cast<std::size_t>(m) * ld + i], acc);
    }
    const V4d pc = ok ? cost + pvr : cost;
    simd::store(&pv_value[i], pvv);
    simd::store(&pv_cost[i], pc);
  }
  for (; i < count; ++i) {
    const ProjectFlows f = project_flows(t, draws[i], &cum[i], ld);
    pv_value[i] = f.pv_value;
    pv_cost[i] = f.pv_cost;
  }
}

}  // namespace roisim
