#include "sim/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace roisim {

double quantile_type7(const double* sorted, std::size_t n, double q) noexcept {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = static_cast<double>(n - 1) * q;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, n - 1);
  const double a = sorted[lo], b = sorted[hi];
  if (std::isinf(a) || std::isinf(b)) return (std::isinf(b) && b > 0) ? b : a;
  const double g = h - static_cast<double>(lo);
  // NumPy's lerp: a + (b − a) g, evaluated from the nearer end for g >= 0.5.
  const double d = b - a;
  return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

namespace {

void sort_with_index(const double* x, std::size_t n, StatsScratch& s) {
  s.order.resize(n);
  for (std::size_t i = 0; i < n; ++i) s.order[i] = {x[i], static_cast<std::uint32_t>(i)};
  std::sort(s.order.begin(), s.order.end());  // ties ordered by trial index: deterministic
}

// Average ranks from s.order into out (by original position), centred and normalised.
bool ranks_from_order(std::size_t n, StatsScratch& s, double* out) {
  const double mean_rank = (static_cast<double>(n) + 1.0) / 2.0;
  double ss = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && s.order[j].first == s.order[i].first) ++j;
    const double r = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0 - mean_rank;
    for (std::size_t k = i; k < j; ++k) out[s.order[k].second] = r;
    ss += r * r * static_cast<double>(j - i);
    i = j;
  }
  if (!(ss > 0)) {
    std::fill(out, out + n, 0.0);
    return false;
  }
  const double inv = 1.0 / std::sqrt(ss);
  for (std::size_t i = 0; i < n; ++i) out[i] *= inv;
  return true;
}

}  // namespace

bool normalized_ranks(const double* x, std::size_t n, StatsScratch& scratch, double* out) {
  sort_with_index(x, n, scratch);
  return ranks_from_order(n, scratch, out);
}

void summarize(const double* roi, const double* npv, const double* payback, std::size_t n,
               StatsScratch& s, ScenarioSummary& out) {
  const double dn = static_cast<double>(n);
  // Moments in trial order (deterministic whatever the thread count).
  double sum = 0, sum_npv = 0;
  std::size_t losses = 0, paid = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sum += roi[i];
    sum_npv += npv[i];
    losses += roi[i] < 0;
    paid += std::isfinite(payback[i]);
  }
  const double mean = sum / dn;
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += (roi[i] - mean) * (roi[i] - mean);
  out.roi_mean = mean;
  out.roi_sd = n > 1 ? std::sqrt(ss / (dn - 1.0)) : std::numeric_limits<double>::quiet_NaN();
  out.roi_se = out.roi_sd / std::sqrt(dn);
  out.prob_loss = static_cast<double>(losses) / dn;
  out.npv_mean = sum_npv / dn;
  out.prob_payback = static_cast<double>(paid) / dn;

  // ROI: order statistics, CVaR and ranks from one sort.
  sort_with_index(roi, n, s);
  s.sorted.resize(n);
  for (std::size_t i = 0; i < n; ++i) s.sorted[i] = s.order[i].first;
  for (int q = 0; q < kNumQuantiles; ++q) out.roi_quantile[q] = quantile_type7(s.sorted.data(), n, kQuantiles[q]);
  const std::size_t k10 = std::max<std::size_t>(1, n / 10);
  double tail = 0;
  for (std::size_t i = 0; i < k10; ++i) tail += s.sorted[i];
  out.cvar10 = tail / static_cast<double>(k10);
  s.roi_ranks.resize(n);
  ranks_from_order(n, s, s.roi_ranks.data());

  s.sorted.assign(npv, npv + n);
  std::sort(s.sorted.begin(), s.sorted.end());
  for (int q = 0; q < kNumQuantiles; ++q) out.npv_quantile[q] = quantile_type7(s.sorted.data(), n, kQuantiles[q]);

  s.sorted.assign(payback, payback + n);
  std::sort(s.sorted.begin(), s.sorted.end());
  out.payback_p50 = quantile_type7(s.sorted.data(), n, 0.5);
}

}  // namespace roisim
