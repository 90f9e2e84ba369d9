#pragma once
// Costs, time and the cash flows of one project in one trial (SPEC §2).
#include <cstddef>
#include <vector>

namespace roisim {

// The time axis of a run: horizon H in months and monthly discount factors.
class Timeline {
 public:
  // horizon_months >= 1; discount_rate r is annual: df(m) = (1 + r)^(-m/12).
  Timeline(int horizon_months, double discount_rate);
  int horizon() const noexcept { return h_; }
  double discount_rate() const noexcept { return r_; }
  double df(int month) const noexcept { return df_[month]; }

 private:
  int h_;
  double r_;
  std::vector<double> df_;  // [H + 1]
};

// One trial's parameters of one project, already sampled, scaled and overridden.
struct ProjectDraw {
  double annual_value = 0;       // A
  double initial_cost = 0;       // C0 > 0, paid at month 0
  double maintenance_share = 0;  // s: annual maintenance as a share of C0
  double infra_annual = 0;       // I
  double launch_month = 0;       // L (rounded to the nearest month, clamped to [0, H] here)
  double ramp_months = 0;        // R (<= 0 means no ramp)
  double decay = 0;              // d, annual value decay, clamped to [0, 1]
  bool success = true;
};

// The project's present values and its cumulative discounted net cash flow per month.
struct ProjectFlows {
  double pv_value = 0;
  double pv_cost = 0;
};

// Launch month actually used: nearest whole month (halves away from zero), clamped to [0, H].
int effective_launch_month(double launch_month, int horizon) noexcept;

// Computes PV_value, PV_cost and, when cum != nullptr, cum[m] for m = 0..H: the cumulative
// discounted net cash flow (−C0 at month 0, then value − running in each live month).
// Live months are L+1..H; value(m) = A/12 · min(1, k/R) · (1 − d)^((k − 1)/12) with k = m − L;
// running(m) = (s · C0 + I)/12. A failed project has PV_value = 0, PV_cost = C0, cum = −C0.
// cum_stride: distance between consecutive months in cum (the engine stores months of many
// trials side by side, trial-contiguous, so that portfolio sums vectorise across trials).
ProjectFlows project_flows(const Timeline& t, const ProjectDraw& p, double* cum, std::size_t cum_stride = 1) noexcept;

// Draws as columns, the engine's form: draw i's annual value is annual_value[i], and so on;
// success[i] is nonzero for a project that reaches production.
struct DrawColumns {
  const double *annual_value, *initial_cost, *maintenance_share, *infra_annual, *launch_month, *ramp_months, *decay;
  const unsigned char* success;
};

// project_flows for count draws at once: pv_value[i], pv_cost[i] and cum[m * ld + i]. Four draws
// side by side in vector lanes, each lane doing project_flows' operations in the same order (the
// months before launch and after failure are masked, not added), so the bits are the same (for
// inputs that are not NaN: where two NaNs meet, which one's payload comes out may differ).
void project_flows_block(const Timeline& t, const DrawColumns& draws, std::size_t count, double* cum, std::size_t ld,
                         double* pv_value, double* pv_cost) noexcept;
// The same from draws one by one (laid out as columns a few at a time).
void project_flows_block(const Timeline& t, const ProjectDraw* draws, std::size_t count, double* cum, std::size_t ld,
                         double* pv_value, double* pv_cost) noexcept;

// First month M in 0..H with portfolio_cum[M] >= 0, or +inf.
double payback_month(const double* portfolio_cum, int horizon) noexcept;

}  // namespace roisim
