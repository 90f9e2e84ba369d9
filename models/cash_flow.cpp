#include "models/cash_flow.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

}  // namespace roisim
