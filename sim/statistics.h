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
// The same from the two order statistics a <= b and the fraction g in [0, 1) between them.
double interpolate_type7(double a, double b, double g) noexcept;

// Reusable buffers for summarize() and ranks.
struct StatsScratch {
  std::vector<std::uint64_t> keys, keys_tmp;  // radix sort keys
  std::vector<std::uint32_t> index, index_tmp;
  std::vector<double> sorted;
  std::vector<double> roi_ranks;  // centred average ranks of ROI (whole or half numbers), or
  std::vector<std::int16_t> roi_ranks2;  // up to kMaxSmallRankTrials trials, twice those instead
  double roi_rank_norm = 0;       // their Euclidean norm (0 when every ROI is equal)
  std::vector<double> roi_sorted; // ROI in increasing order (scratch.index: the trial of each)
  std::vector<std::uint32_t> counts;
  std::vector<double> picked;     // quantiles_type7: the values of the buckets holding the ranks
  std::vector<std::int32_t> slot; // quantiles_type7: each bucket's place in picked, or -1
  std::vector<std::uint16_t> bucket_of;  // quantiles_type7: each value's bucket
  std::vector<std::uint32_t> candidates; // quantiles_type7: the values in wanted buckets
  std::vector<std::pair<std::uint64_t, std::uint32_t>> crowd;  // radix_sort: a crowded bucket
  std::vector<std::uint32_t> crowded;  // radix_sort: the buckets of more than 32 values
  // The engine's per-scenario sensitivity (sim/engine.cpp), kept here to be reused.
  std::vector<std::uint32_t> position;
  std::vector<std::uint64_t> bits;
  std::vector<double> fan_row;  // a scenario's cumulative cash flows in one month (fan_chart)
};

// Sorts x[0..n) into scratch.sorted and, when with_index, the trial of each sorted position into
// scratch.index (ties keep trial order). An LSD radix sort on order-preserving 64-bit keys
// (11-bit digits, 8-bit below 4096 values; passes whose digit is constant skipped): O(n), deterministic, and for the
// 10^4-10^6 trials of a scenario several times faster than a comparison sort. With the index and
// 256 or more finite values, a bucket sort by value (about n/2 buckets over [min, max], then
// each bucket ordered by key) gives the same result in fewer passes.
void radix_sort(const double* x, std::size_t n, StatsScratch& scratch, bool with_index);

// Type-7 quantiles of x[0..n) at levels q[0..m) (any order) into out[0..m), equal bit for bit to
// quantile_type7 of the sorted sample (except that where -0.0 and +0.0 both occur among other
// values, either zero may stand for the other: they compare equal here), without sorting: the values are spread over buckets by a
// monotone linear map of [min, max], the buckets holding the wanted order statistics are found
// from their counts, and only their values are sorted (O(n), about three passes). Falls back to
// radix_sort when a value is not finite. x is not modified.
void quantiles_type7(const double* x, std::size_t n, const double* q, std::size_t m, StatsScratch& scratch,
                     double* out);

// Centred average ranks (ties share their mean rank, as scipy.stats.rankdata "average") of
// x[0..n), scaled to unit Euclidean norm, into out[0..n). Returns false (and fills out with 0)
// when all values are equal. The Spearman correlation of two samples is then the dot product of
// their normalised ranks.
bool normalized_ranks(const double* x, std::size_t n, StatsScratch& scratch, double* out);

// Average ranks (1-based; ties share their mean rank) of x[0..n) into out[0..n). Returns the
// sum of squared deviations from the mean rank (0 when all values are equal).
double average_ranks(const double* x, std::size_t n, StatsScratch& scratch, double* out);

// The Spearman numerator: the sum over trials of (rank[t] - mean_rank) * centred[t], for average
// ranks (whole or half numbers) and centred ones. Every product is a multiple of 1/4, so the sum
// is exact (any order gives the same bits) while it stays below 2^51, which n^3/4 does up to
// n = 2 x 10^5 trials; beyond, a fixed order keeps it deterministic.
double rank_dot(const double* rank, double mean_rank, const double* centred, std::size_t n);

// The same on small integers. Twice a centred average rank, 2r - (n + 1), is a whole number in
// [-(n - 1), n - 1], which int16 holds up to kMaxSmallRankTrials trials; twice_rank_dot returns
// the sum over t of (a[t] / 2) * (b[t] / 2) for two such arrays, as an integer sum (exact: below
// n^3 < 2^53) divided by 4. Wherever rank_dot is exact, the two give the same bits; this one
// multiplies 16 pairs an instruction (pmaddwd) and reads a quarter of the memory.
constexpr std::size_t kMaxSmallRankTrials = 32768;
double twice_rank_dot(const std::int16_t* a, const std::int16_t* b, std::size_t n);
// rank[t] (average ranks of n <= kMaxSmallRankTrials trials) as twice centred ranks into out.
void twice_centred_ranks(const double* rank, std::size_t n, std::int16_t* out);
namespace detail {  // twice_rank_dot's integer sums on each x86-64 path, for the tests
std::int64_t dot_i16_sse2(const std::int16_t* a, const std::int16_t* b, std::size_t n);
std::int64_t dot_i16_avx2(const std::int16_t* a, const std::int16_t* b, std::size_t n);  // needs AVX2
bool has_avx2();
}  // namespace detail

// Distribution-free 95% interval of the q-quantile from order statistics (binomial): 0-based
// indices lo <= hi of the sorted sample with P(Bin(n, q) <= lo) <= 0.025 (largest such lo) and
// P(Bin(n, q) <= hi) >= 0.975 (smallest such hi), so P(x_(lo) <= xi_q <= x_(hi)) >= 0.95.
// When n is too small for a tail (P(Bin(n, q) = 0) > 0.025: below 36 trials for P10 or P90, 72 for
// P05 or P95), no order statistic bounds it with 95% confidence: lo (or hi) is kUnbounded, and the
// interval's end is -inf (+inf). The sample minimum there would cover the quantile in only
// 1 - P(Bin(n, q) = 0) of runs (64% for P05 at 20 trials).
struct OrderStatInterval {
  static constexpr std::size_t kUnbounded = static_cast<std::size_t>(-1);
  std::size_t lo, hi;
};
OrderStatInterval quantile_interval(std::size_t n, double q);

// Wilson score 95% interval of a proportion with `successes` out of n.
void wilson_interval(std::size_t successes, std::size_t n, double& lo, double& hi);

// Fills every field of `out` from one scenario's per-trial ROI, NPV and payback month, and
// leaves the centred ROI ranks (roi_ranks, or roi_ranks2 up to kMaxSmallRankTrials trials) and
// their norm (roi_rank_norm) in scratch for the sensitivities:
//  roi_mean, roi_sd (sample standard deviation, n − 1; NaN for n = 1), roi_se = sd/√n,
//  prob_loss = P[ROI < 0], cvar10 = mean of the max(1, ⌊n/10⌋) lowest ROIs, npv_mean,
//  payback_p50 (type 7, +inf rules above), prob_payback = P[payback ≤ horizon],
//  roi_quantile / npv_quantile at kQuantiles.
//  and the 95% intervals: roi_quantile_lo/hi from the order statistics quantile_interval() picks
//  (pass them precomputed for n, or nullptr to compute them), Wilson for prob_loss and
//  prob_payback, npv_se = sd(NPV)/√n. scratch.index[0..max(1, ⌊n/10⌋)) are then the trials of
//  the lowest ROIs, lowest first.
void summarize(const double* roi, const double* npv, const double* payback, std::size_t n,
               StatsScratch& scratch, ScenarioSummary& out, const OrderStatInterval* intervals = nullptr);

// The corrected two-pass algorithm (Chan, Golub & LeVeque 1983), which summarize() uses for the
// means, standard deviations and cvar10: given mean = (x[0] + ... + x[n-1]) / n summed in order,
// the deviations' sum takes the rounding error out of mean, and ss becomes the sum of squared
// deviations. Values all equal give that value and ss = 0. Beyond double's range (an infinite
// value, an overflowing sum or square) mean stays and ss is the plain sum of squares (inf or NaN).
void corrected_two_pass(const double* x, std::size_t n, double& mean, double& ss);

// Type-7 median of v (reordered in place); NaN when empty.
double median_type7(std::vector<double>& v);

}  // namespace roisim
