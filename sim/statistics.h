#pragma once
// Summary statistics of one scenario's trials (SPEC §6), deterministic and allocation-free
// given a reusable scratch space.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/results_file.h"

namespace roisim {

// Type-7 quantile (linear interpolation between order statistics; NumPy's default and Excel's
// PERCENTILE.INC) of sorted[0..n): h = (n − 1) q, x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
// If either order statistic it interpolates is +inf the result is +inf.
double quantile_type7(const double* sorted, std::size_t n, double q) noexcept;

// Reusable buffers for summarize() and ranks.
struct StatsScratch {
  std::vector<std::pair<double, std::uint32_t>> order;
  std::vector<double> sorted;
  std::vector<double> roi_ranks;  // centred ranks of ROI scaled to unit norm
};

// Centred average ranks (ties share their mean rank, as scipy.stats.rankdata "average") of
// x[0..n), scaled to unit Euclidean norm, into out[0..n). Returns false (and fills out with 0)
// when all values are equal. The Spearman correlation of two samples is then the dot product of
// their normalised ranks.
bool normalized_ranks(const double* x, std::size_t n, StatsScratch& scratch, double* out);

// Fills every field of `out` from one scenario's per-trial ROI, NPV and payback month, and
// leaves the normalised ROI ranks in scratch.roi_ranks (for sensitivity):
//  roi_mean, roi_sd (sample standard deviation, n − 1; NaN for n = 1), roi_se = sd/√n,
//  prob_loss = P[ROI < 0], cvar10 = mean of the max(1, ⌊n/10⌋) lowest ROIs, npv_mean,
//  payback_p50 (type 7, +inf rules above), prob_payback = P[payback ≤ horizon],
//  roi_quantile / npv_quantile at kQuantiles.
void summarize(const double* roi, const double* npv, const double* payback, std::size_t n,
               StatsScratch& scratch, ScenarioSummary& out);

}  // namespace roisim
