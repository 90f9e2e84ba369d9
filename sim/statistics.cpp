#include "sim/statistics.h"
#include "sim/simd.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <boost/math/distributions/binomial.hpp>
#include <cmath>
#include <limits>

namespace roisim {

namespace {
using simd::V4d;
using simd::V4l;
using simd::V4i;
using simd::V4us;
}  // namespace

double interpolate_type7(double a, double b, double g) noexcept {
  if (std::isinf(a) || std::isinf(b)) return (std::isinf(b) && b > 0) ? b : a;
  // NumPy's lerp: a + (b − a) g, evaluated from the nearer end for g >= 0.5.
  const double d = b - a;
  return g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
}

double quantile_type7(const double* sorted, std::size_t n, double q) noexcept {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = static_cast<double>(n - 1) * q;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, n - 1);
  return interpolate_type7(sorted[lo], sorted[hi], h - static_cast<double>(lo));
}

namespace {

// The smallest and largest of x[0, n), n >= 1, NaN skipped; returns whether every value is finite.
// Sixteen running minima and maxima in four vectors, so that the comparisons pipeline. Which of
// -0.0 and +0.0 is reported when both are extremes depends on this grouping. Inlined into each
// clone of its callers (sim/simd.h), so that it is vectorised for AVX2 there too.
[[gnu::always_inline]] inline bool value_range(const double* x, std::size_t n, double& lo_out, double& hi_out) {
  V4d lo4[4], hi4[4];
  V4l ok = {-1, -1, -1, -1};
  for (int a = 0; a < 4; ++a) lo4[a] = hi4[a] = V4d{x[0], x[0], x[0], x[0]};
  const V4d zero = {};
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int a = 0; a < 4; ++a) {
      V4d v;
      simd::load(v, x + i + 4 * a);
      lo4[a] = v < lo4[a] ? v : lo4[a];
      hi4[a] = v > hi4[a] ? v : hi4[a];
      ok &= (v - v) == zero;  // false for +-inf and NaN
    }
  bool finite = (ok[0] & ok[1] & ok[2] & ok[3]) != 0;
  for (; i < n; ++i) {
    lo4[0][0] = x[i] < lo4[0][0] ? x[i] : lo4[0][0];
    hi4[0][0] = x[i] > hi4[0][0] ? x[i] : hi4[0][0];
    finite &= x[i] - x[i] == 0;
  }
  for (int a = 1; a < 4; ++a) {
    lo4[0] = lo4[a] < lo4[0] ? lo4[a] : lo4[0];
    hi4[0] = hi4[a] > hi4[0] ? hi4[a] : hi4[0];
  }
  double lo = lo4[0][0], hi = hi4[0][0];
  for (int k = 1; k < 4; ++k) {
    lo = lo4[0][k] < lo ? lo4[0][k] : lo;
    hi = hi4[0][k] > hi ? hi4[0][k] : hi;
  }
  lo_out = lo;
  hi_out = hi;
  return finite;
}

inline std::uint64_t order_key(double x) noexcept {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));
}
inline double from_key(std::uint64_t k) noexcept {
  const std::uint64_t u = (k >> 63) ? (k & ~(std::uint64_t{1} << 63)) : ~k;
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// Centred average ranks from a sorted order (scratch.sorted, scratch.index) into out (by trial),
// or twice those (int16, n <= kMaxSmallRankTrials); returns their sum of squares.
template <class T>
double centred_ranks_from_order(std::size_t n, StatsScratch& s, T* out) {
  const double mean_rank = (static_cast<double>(n) + 1.0) / 2.0;
  double ss = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && s.sorted[j] == s.sorted[i]) ++j;
    const double r = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0 - mean_rank;
    const T v = std::is_same_v<T, double> ? static_cast<T>(r) : static_cast<T>(static_cast<std::ptrdiff_t>(i + 1 + j) - static_cast<std::ptrdiff_t>(n + 1));
    for (std::size_t k = i; k < j; ++k) out[s.index[k]] = v;
    ss += r * r * static_cast<double>(j - i);
    i = j;
  }
  return ss;
}

// The same scaled to unit norm.
bool ranks_from_order(std::size_t n, StatsScratch& s, double* out) {
  const double ss = centred_ranks_from_order(n, s, out);
  if (!(ss > 0)) {
    std::fill(out, out + n, 0.0);
    return false;
  }
  const double inv = 1.0 / std::sqrt(ss);
  for (std::size_t i = 0; i < n; ++i) out[i] *= inv;
  return true;
}

// The k-th smallest of values that are whole numbers in [0, 65535] or +inf (payback months),
// by counting; returns false when some value is not of that form. Four values at a time: one pass
// checks the form and finds the largest month, the next counts, lane j into its own histogram (runs
// of one month, or of +inf, common here, do not wait on each other's increments); +inf counts as
// the month after the largest.
ROISIM_CLONES
bool counting_order_stats(const double* x, std::size_t n, StatsScratch& s, std::size_t k0, std::size_t k1,
                          double& v0, double& v1) {
  constexpr double kMax = 65536;
  const double inf = std::numeric_limits<double>::infinity();
  const V4d zero = {}, vmax = {kMax, kMax, kMax, kMax}, vinf = {inf, inf, inf, inf}, none = {-1, -1, -1, -1};
  // A lane's month where it is whole in [0, kMax) (else 0: no conversion out of range), whether
  // it is one, and whether it is +inf.
  const auto month = [&](const V4d& v, V4d& m, V4l& whole, V4l& infinite) {
    const V4l in = (v >= zero) & (v < vmax);
    m = in ? v : zero;
    const V4d back = __builtin_convertvector(__builtin_convertvector(m, V4i), V4d);
    whole = in & (back == v);
    infinite = v == vinf;
  };
  V4l ok = {-1, -1, -1, -1};
  V4d top4 = none;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4d v, m;
    V4l whole, infinite;
    simd::load(v, x + i);
    month(v, m, whole, infinite);
    ok &= whole | infinite;
    const V4d t = whole ? m : none;
    top4 = t > top4 ? t : top4;
  }
  double top_d = std::max(std::max(top4[0], top4[1]), std::max(top4[2], top4[3]));
  bool all = (ok[0] & ok[1] & ok[2] & ok[3]) != 0;
  for (std::size_t t = i; t < n; ++t) {
    const double v = x[t];
    if (v == inf) continue;
    if (!(v >= 0 && v < kMax) || v != std::floor(v)) return false;
    top_d = std::max(top_d, v);
  }
  if (!all) return false;
  // Months 0..top, then +inf at top + 1 (top = -1: none finite).
  const std::size_t slots = static_cast<std::size_t>(top_d + 1) + 1;
  s.counts.assign(4 * slots, 0);
  std::uint32_t* const hist = s.counts.data();
  const double at_inf = static_cast<double>(slots - 1);
  const V4d vat_inf = {at_inf, at_inf, at_inf, at_inf};
  for (i = 0; i + 4 <= n; i += 4) {
    V4d v, m;
    V4l whole, infinite;
    simd::load(v, x + i);
    month(v, m, whole, infinite);
    const V4i b = __builtin_convertvector(infinite ? vat_inf : m, V4i);
    ++hist[static_cast<std::size_t>(b[0])];
    ++hist[slots + static_cast<std::size_t>(b[1])];
    ++hist[2 * slots + static_cast<std::size_t>(b[2])];
    ++hist[3 * slots + static_cast<std::size_t>(b[3])];
  }
  for (; i < n; ++i) ++hist[x[i] == inf ? slots - 1 : static_cast<std::size_t>(x[i])];
  const auto kth = [&](std::size_t k) {
    std::size_t seen = 0;
    for (std::size_t m = 0; m + 1 < slots; ++m) {
      seen += std::size_t{hist[m]} + hist[slots + m] + hist[2 * slots + m] + hist[3 * slots + m];
      if (k < seen) return static_cast<double>(m);
    }
    return inf;
  };
  v0 = kth(k0);
  v1 = kth(k1);
  return true;
}

}  // namespace

namespace {
// radix_sort sorts fewer values than this by insertion.
constexpr std::size_t kInsertionBelow = 64;

// One LSD radix sort of s.keys (and s.index) with Bits-bit digits.
template <int Bits>
void radix_keys(std::size_t n, StatsScratch& s, bool with_index) {
  constexpr int kPasses = (64 + Bits - 1) / Bits;
  constexpr std::size_t kBuckets = std::size_t{1} << Bits;
  std::uint32_t hist[kPasses][kBuckets] = {};
  for (std::size_t i = 0; i < n; ++i)
    for (int p = 0; p < kPasses; ++p) ++hist[p][(s.keys[i] >> (p * Bits)) & (kBuckets - 1)];
  for (int p = 0; p < kPasses; ++p) {
    std::uint32_t* h = hist[p];
    const int shift = p * Bits;
    if (h[(s.keys[0] >> shift) & (kBuckets - 1)] == n) continue;  // every key has this digit
    std::uint32_t sum = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    if (with_index) {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t dst = h[(s.keys[i] >> shift) & (kBuckets - 1)]++;
        s.keys_tmp[dst] = s.keys[i];
        s.index_tmp[dst] = s.index[i];
      }
      s.index.swap(s.index_tmp);
    } else {
      for (std::size_t i = 0; i < n; ++i) s.keys_tmp[h[(s.keys[i] >> shift) & (kBuckets - 1)]++] = s.keys[i];
    }
    s.keys.swap(s.keys_tmp);
  }
}
}  // namespace

namespace {
// Sorting with the trial index by buckets of value: the values are spread over 2-4 buckets each
// (at most 2^20) by a monotone linear map of [min, max] (in trial order, so ties stay in trial
// order), then each bucket is ordered by key (see below). With a bucket or more per value, few
// values share one and the ordering pass rarely moves anything. Against one bucket per two values
// with an insertion sort per bucket (before 2026-12-05, alternating lab builds on this project's
// VM): the seed portfolio's ROI rows (10,000 trials, skewed, atoms) ~108 -> ~72 us a row; 10^5
// lognormal values ~24 -> ~15 ns a value; 10^4 uniform or lognormal values about the same. The
// result equals the LSD radix sort's: keys ascending, trial order among equal keys. Returns false
// (nothing done) when a value is not finite or the range overflows.
ROISIM_CLONES
bool bucket_sort_with_index(const double* x, std::size_t n, StatsScratch& s) {
  double lo, hi;
  if (!value_range(x, n, lo, hi) || !std::isfinite(hi - lo)) return false;
  if (lo == hi) return false;  // one value (or -0.0 and +0.0): the radix passes are all skipped
  s.keys.resize(n);
  s.index.resize(n);
  s.index_tmp.resize(n);  // each trial's bucket
  std::size_t buckets = 16;
  while (buckets < (std::size_t{1} << 20) && buckets < 2 * n) buckets *= 2;
  const double scale = static_cast<double>(buckets) / (hi - lo);
  if (!std::isfinite(scale)) return false;  // a range below ~1e-303: the map would overflow
  s.counts.assign(buckets + 1, 0);
  // Crowded buckets (over kCrowded values) are noted as their count passes it: a rare branch per
  // value, instead of a pass over every bucket afterwards (32,768 for 10,000 values: ~a fifth of
  // this function's time on the seed's ROI rows).
  constexpr std::uint32_t kCrowded = 32;
  s.crowded.clear();
  // The buckets four at a time (x >= lo, so t >= 0, and trunc(min(t, B - 1)) = min(B - 1,
  // trunc(t)); B <= 2^20 fits an int), then counted from the stored buckets.
  std::uint32_t* const bucket = s.index_tmp.data();
  const double top = static_cast<double>(buckets - 1);
  const V4d vlo = {lo, lo, lo, lo}, vscale = {scale, scale, scale, scale}, vtop = {top, top, top, top};
  std::size_t i4 = 0;
  for (; i4 + 4 <= n; i4 += 4) {
    V4d v;
    simd::load(v, x + i4);
    V4d t = (v - vlo) * vscale;
    t = t < vtop ? t : vtop;
    const V4i b = __builtin_convertvector(t, V4i);
    std::memcpy(bucket + i4, &b, sizeof b);
  }
  for (; i4 < n; ++i4)
    bucket[i4] = static_cast<std::uint32_t>(std::min(buckets - 1, static_cast<std::size_t>((x[i4] - lo) * scale)));
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t b = bucket[i];
    if (++s.counts[b + 1] == kCrowded + 1) [[unlikely]]
      s.crowded.push_back(b);
  }
  for (std::size_t b = 0; b < buckets; ++b) s.counts[b + 1] += s.counts[b];  // counts[b]: start of bucket b
  {
    const std::vector<std::uint32_t>& bucket_of = s.index_tmp;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t at = s.counts[bucket_of[i]]++;
      s.keys[at] = order_key(x[i]);
      s.index[at] = static_cast<std::uint32_t>(i);
    }
  }
  // counts[b] is now the end of bucket b (= the start of b + 1). Buckets are in order, so only
  // values within one bucket can be out of order: crowded buckets (e.g. an atom such as ROI -1,
  // or a dense mode) are sorted by (key, trial) first, then one stable insertion pass over the
  // whole array orders the rest. That pass moves a value only past strictly larger keys of its
  // own bucket (~2 values), and its comparisons are mostly false: no per-bucket loop with branches
  // a predictor cannot guess. The same result as sorting each bucket alone. A crowded bucket
  // already in key order (an atom: equal values, placed in trial order) is left as it is.
  auto& crowd = s.crowd;  // kept in the scratch: an atom (e.g. ROI -1) fills one bucket every call
  for (const std::uint32_t b : s.crowded) {
    const std::size_t start = b == 0 ? 0 : s.counts[b - 1], end = s.counts[b], len = end - start;
    if (std::is_sorted(s.keys.begin() + static_cast<std::ptrdiff_t>(start), s.keys.begin() + static_cast<std::ptrdiff_t>(end)))
      continue;
    crowd.resize(len);
    for (std::size_t k = 0; k < len; ++k) crowd[k] = {s.keys[start + k], s.index[start + k]};
    std::sort(crowd.begin(), crowd.end());
    for (std::size_t k = 0; k < len; ++k) s.keys[start + k] = crowd[k].first, s.index[start + k] = crowd[k].second;
  }
  std::uint64_t* const keys = s.keys.data();
  std::uint32_t* const index = s.index.data();
  for (std::size_t k = 1; k < n; ++k) {
    const std::uint64_t key = keys[k];
    if (keys[k - 1] <= key) continue;
    const std::uint32_t idx = index[k];
    std::size_t j = k;
    do {
      keys[j] = keys[j - 1];
      index[j] = index[j - 1];
      --j;
    } while (j > 0 && keys[j - 1] > key);
    keys[j] = key;
    index[j] = idx;
  }
  return true;
}
}  // namespace

void radix_sort(const double* x, std::size_t n, StatsScratch& s, bool with_index) {
  if (with_index && n >= 256 && bucket_sort_with_index(x, n, s)) {
    s.sorted.resize(n);
    for (std::size_t i = 0; i < n; ++i) s.sorted[i] = from_key(s.keys[i]);
    return;
  }
  s.keys.resize(n);
  s.keys_tmp.resize(n);
  for (std::size_t i = 0; i < n; ++i) s.keys[i] = order_key(x[i]);
  if (with_index) {
    s.index.resize(n);
    s.index_tmp.resize(n);
    for (std::size_t i = 0; i < n; ++i) s.index[i] = static_cast<std::uint32_t>(i);
  }
  // Small samples: 8-bit digits (the 2048-bucket histograms would cost more than the data); tiny
  // ones by insertion, stable as the radix passes are (equal keys keep their order), where even
  // the 8 x 256 counts of 8-bit digits would (a run of 10 trials spent ~20% of its time there).
  if (n == 0) {
  } else if (n < kInsertionBelow) {
    std::uint64_t* const keys = s.keys.data();
    std::uint32_t* const index = s.index.data();
    for (std::size_t k = 1; k < n; ++k) {
      const std::uint64_t key = keys[k];
      const std::uint32_t idx = with_index ? index[k] : 0;
      std::size_t j = k;
      for (; j > 0 && keys[j - 1] > key; --j) {
        keys[j] = keys[j - 1];
        if (with_index) index[j] = index[j - 1];
      }
      keys[j] = key;
      if (with_index) index[j] = idx;
    }
  } else if (n < 4096) {
    radix_keys<8>(n, s, with_index);
  } else {
    radix_keys<11>(n, s, with_index);
  }
  s.sorted.resize(n);
  for (std::size_t i = 0; i < n; ++i) s.sorted[i] = from_key(s.keys[i]);
}

ROISIM_CLONES
void quantiles_type7(const double* x, std::size_t n, const double* q, std::size_t m, StatsScratch& s,
                     double* out) {
  if (n == 0) {
    std::fill(out, out + m, std::numeric_limits<double>::quiet_NaN());
    return;
  }
  // The range (NaN is skipped there and caught below). Which of -0.0 and +0.0 comes out as the
  // minimum does not matter below (both give the same buckets) except when every value is a zero,
  // which goes to sorting.
  double lo, hi;
  value_range(x, n, lo, hi);
  constexpr std::size_t kMaxLevels = 16;
  const auto by_sorting = [&] {
    radix_sort(x, n, s, false);
    for (std::size_t j = 0; j < m; ++j) out[j] = quantile_type7(s.sorted.data(), n, q[j]);
  };
  if (n < 64 || m > kMaxLevels || !std::isfinite(hi - lo)) return by_sorting();  // also +-inf
  if (lo == hi) {
    if (lo == 0) return by_sorting();  // zeros, perhaps of both signs: sorting orders them
    for (std::size_t i = 0; i < n; ++i)
      if (!(x[i] == lo)) return by_sorting();  // NaN
    std::fill(out, out + m, lo);
    return;
  }
  // About four values per bucket. The bucket of v, min(B - 1, trunc((v - lo) * B / (hi - lo))),
  // is non-decreasing in v (subtraction, multiplication by a positive constant and truncation
  // are monotone), so the buckets are ordered.
  std::size_t buckets = 16;
  while (buckets < 4096 && buckets * 4 < n) buckets *= 2;
  const double scale = static_cast<double>(buckets) / (hi - lo);
  if (!std::isfinite(scale)) return by_sorting();  // a range below ~1e-303: the map would overflow
  // Four histograms (value i counts in counts[(i % 4) * buckets + bucket]): runs of values in one
  // bucket, common in skewed samples, do not wait on each other's increments.
  s.counts.assign(4 * buckets, 0);
  std::uint32_t* const hist = s.counts.data();
  s.bucket_of.resize(n);
  // Buckets four at a time (trunc(min(t, B - 1)) = min(B - 1, trunc(t)) for t >= 0), then
  // counted from the stored buckets (a 2-byte load each, not an extraction from the vector:
  // ~6% of this function on the seed's fan-chart rows, a /tmp harness, alternating runs).
  const double top = static_cast<double>(buckets - 1);
  const V4d vlo = {lo, lo, lo, lo}, vscale = {scale, scale, scale, scale}, vtop = {top, top, top, top}, zero = {};
  V4l bad = {};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4d v;
    simd::load(v, x + i);
    const V4d t = (v - vlo) * vscale;
    const V4l ok = t >= zero;
    bad |= ~ok;
    V4d c = ok ? t : zero;
    c = c < vtop ? c : vtop;
    const V4us b = __builtin_convertvector(__builtin_convertvector(c, V4i), V4us);
    std::memcpy(&s.bucket_of[i], &b, sizeof b);
  }
  for (std::size_t k = 0; k < i; k += 4) {
    ++hist[s.bucket_of[k]];
    ++hist[buckets + s.bucket_of[k + 1]];
    ++hist[2 * buckets + s.bucket_of[k + 2]];
    ++hist[3 * buckets + s.bucket_of[k + 3]];
  }
  bool nan = (bad[0] | bad[1] | bad[2] | bad[3]) != 0;
  for (; i < n; ++i) {
    const double t = (x[i] - lo) * scale;
    nan |= !(t >= 0);
    s.bucket_of[i] = static_cast<std::uint16_t>(std::min(buckets - 1, static_cast<std::size_t>(t >= 0 ? t : 0.0)));
    ++hist[s.bucket_of[i]];
  }
  if (nan) return by_sorting();
  for (std::size_t b = 0; b < buckets; ++b) hist[b] += hist[buckets + b] + hist[2 * buckets + b] + hist[3 * buckets + b];
  // The order statistics each level interpolates, and the buckets that hold them.
  std::size_t rank[2 * kMaxLevels];
  double frac[kMaxLevels];
  for (std::size_t j = 0; j < m; ++j) {
    const double h = static_cast<double>(n - 1) * q[j];
    rank[2 * j] = static_cast<std::size_t>(std::floor(h));
    rank[2 * j + 1] = std::min(rank[2 * j] + 1, n - 1);
    frac[j] = h - static_cast<double>(rank[2 * j]);
  }
  std::size_t sorted_ranks[2 * kMaxLevels];
  std::copy(rank, rank + 2 * m, sorted_ranks);
  std::sort(sorted_ranks, sorted_ranks + 2 * m);
  s.slot.assign(buckets, -1);
  std::size_t first_of[2 * kMaxLevels];  // rank of the first value of each wanted bucket
  std::size_t picked = 0, below = 0, b = 0, wanted = 0;
  std::size_t region[2 * kMaxLevels + 1] = {0};  // wanted bucket w: picked[region[w], region[w+1])
  for (std::size_t r = 0; r < 2 * m; ++r) {
    while (below + s.counts[b] <= sorted_ranks[r]) below += s.counts[b++];
    if (s.slot[b] < 0) {
      s.slot[b] = static_cast<std::int32_t>(wanted);
      first_of[wanted] = below;
      region[wanted] = picked;
      picked += s.counts[b];
      region[++wanted] = picked;
    }
  }
  s.picked.resize(picked);
  std::size_t fill[2 * kMaxLevels];
  std::copy(region, region + wanted, fill);
  // The values in wanted buckets, in trial order: their positions first, without a branch (few
  // values are wanted, at places a branch predictor cannot guess), then each to its bucket's region.
  // Four values' wanted flags loaded before their four stores: in one value at a time, each
  // flag's two dependent loads came after the previous value's store to a position not yet known
  // (~6% of this function on the seed's fan-chart rows, a /tmp harness, alternating runs).
  s.candidates.resize(n);
  std::uint32_t* const cand = s.candidates.data();
  const std::int32_t* const slot = s.slot.data();
  const std::uint16_t* const bucket_of = s.bucket_of.data();
  std::size_t nc = 0, i4 = 0;
  for (; i4 + 4 <= n; i4 += 4) {
    const std::size_t w0 = slot[bucket_of[i4]] >= 0, w1 = slot[bucket_of[i4 + 1]] >= 0,
                      w2 = slot[bucket_of[i4 + 2]] >= 0, w3 = slot[bucket_of[i4 + 3]] >= 0;
    cand[nc] = static_cast<std::uint32_t>(i4);
    nc += w0;
    cand[nc] = static_cast<std::uint32_t>(i4 + 1);
    nc += w1;
    cand[nc] = static_cast<std::uint32_t>(i4 + 2);
    nc += w2;
    cand[nc] = static_cast<std::uint32_t>(i4 + 3);
    nc += w3;
  }
  for (; i4 < n; ++i4) {
    cand[nc] = static_cast<std::uint32_t>(i4);
    nc += slot[bucket_of[i4]] >= 0;
  }
  for (std::size_t k = 0; k < nc; ++k) {
    const std::uint32_t i = cand[k];
    s.picked[fill[s.slot[s.bucket_of[i]]]++] = x[i];
  }
  // The value of rank r: place its bucket's values up to r (ranks ascending, so each selection
  // only looks right of the previous one in the same bucket). A bucket of up to 32 values is
  // sorted whole instead (insertion sort by key: the order a full sort gives, -0.0 before +0.0),
  // which costs less than a selection per rank.
  double value_of[2 * kMaxLevels];
  std::size_t done[2 * kMaxLevels];
  for (std::size_t w = 0; w < wanted; ++w) {
    done[w] = region[w];
    const std::size_t len = region[w + 1] - region[w];
    if (len > 32) continue;
    double* v = s.picked.data() + region[w];
    for (std::size_t k = 1; k < len; ++k) {
      const double y = v[k];
      const std::uint64_t key = order_key(y);
      std::size_t j = k;
      while (j > 0 && order_key(v[j - 1]) > key) {
        v[j] = v[j - 1];
        --j;
      }
      v[j] = y;
    }
    done[w] = region[w + 1];  // every rank of this bucket is in place
  }
  for (std::size_t r = 0; r < 2 * m; ++r) {
    std::size_t w = 0;
    while (first_of[w] + (region[w + 1] - region[w]) <= sorted_ranks[r]) ++w;
    double* base = s.picked.data() + region[w];
    double* at = base + (sorted_ranks[r] - first_of[w]);
    double* from = s.picked.data() + done[w];
    if (at >= from) {
      // By key, so that -0.0 comes before +0.0 here too.
      std::nth_element(from, at, s.picked.data() + region[w + 1],
                       [](double a, double b) { return order_key(a) < order_key(b); });
      done[w] = static_cast<std::size_t>(at - s.picked.data()) + 1;
    }
    value_of[r] = *at;
  }
  const auto value = [&](std::size_t r) {
    return value_of[std::lower_bound(sorted_ranks, sorted_ranks + 2 * m, r) - sorted_ranks];
  };
  for (std::size_t j = 0; j < m; ++j) out[j] = interpolate_type7(value(rank[2 * j]), value(rank[2 * j + 1]), frac[j]);
}

double average_ranks(const double* x, std::size_t n, StatsScratch& s, double* out) {
  radix_sort(x, n, s, true);
  const double mean_rank = (static_cast<double>(n) + 1.0) / 2.0;
  double ss = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && s.sorted[j] == s.sorted[i]) ++j;
    const double r = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k) out[s.index[k]] = r;
    ss += (r - mean_rank) * (r - mean_rank) * static_cast<double>(j - i);
    i = j;
  }
  return ss;
}

ROISIM_CLONES
double rank_dot(const double* rank, double mean_rank, const double* centred, std::size_t n) {
  double acc[4] = {0, 0, 0, 0};  // four running sums: it vectorises
  std::size_t t = 0;
  for (; t + 4 <= n; t += 4)
    for (std::size_t j = 0; j < 4; ++j) acc[j] += (rank[t + j] - mean_rank) * centred[t + j];
  for (; t < n; ++t) acc[0] += (rank[t] - mean_rank) * centred[t];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

void twice_centred_ranks(const double* rank, std::size_t n, std::int16_t* out) {
  const double shift = static_cast<double>(n) + 1;
  for (std::size_t t = 0; t < n; ++t) out[t] = static_cast<std::int16_t>(2 * rank[t] - shift);
}

namespace {
// pmaddwd multiplies pairs of int16 and adds each two neighbouring products into an int32 lane:
// with |a|, |b| <= m, a lane grows by at most 2 m^2 a step, so `steps` of them are summed in
// int32 before the lanes are widened into int64 totals. m = n - 1 <= 32767 gives steps >= 1.
std::size_t int32_steps(std::size_t n) {
  const std::uint64_t m = n > 1 ? n - 1 : 1;
  return static_cast<std::size_t>(std::uint64_t{std::numeric_limits<std::int32_t>::max()} / (2 * m * m));
}
std::int64_t dot_i16_tail(const std::int16_t* a, const std::int16_t* b, std::size_t t, std::size_t n) {
  std::int64_t sum = 0;
  for (; t < n; ++t) sum += std::int32_t{a[t]} * std::int32_t{b[t]};
  return sum;
}
}  // namespace

namespace detail {
#if defined(__x86_64__)
bool has_avx2() {
#ifdef ROISIM_NO_CLONES  // the baseline build (-DROISIM_CLONES=OFF, sim/simd.h): SSE2 throughout
  return false;
#else
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
#endif
}
__attribute__((target("avx2"))) std::int64_t dot_i16_avx2(const std::int16_t* a, const std::int16_t* b,
                                                          std::size_t n) {
  if (n > kMaxSmallRankTrials) return dot_i16_tail(a, b, 0, n);  // int32_steps would be 0
  const std::size_t steps = int32_steps(n), full = n / 16 * 16;
  __m256i total = _mm256_setzero_si256();
  std::size_t t = 0;
  while (t < full) {
    __m256i acc = _mm256_setzero_si256();
    for (const std::size_t stop = std::min(full, t + 16 * steps); t < stop; t += 16)
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + t)),
                                                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + t))));
    total = _mm256_add_epi64(total, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc)));
    total = _mm256_add_epi64(total, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(acc, 1)));
  }
  std::int64_t lanes[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), total);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + dot_i16_tail(a, b, t, n);
}
// SSE2 (x86-64's baseline) has no sign-extension to int64: the int32 lanes go through doubles,
// which hold every int64 total here exactly (|total| < 2^53).
std::int64_t dot_i16_sse2(const std::int16_t* a, const std::int16_t* b, std::size_t n) {
  if (n > kMaxSmallRankTrials) return dot_i16_tail(a, b, 0, n);  // int32_steps would be 0
  const std::size_t steps = int32_steps(n), full = n / 8 * 8;
  __m128d total = _mm_setzero_pd();
  std::size_t t = 0;
  while (t < full) {
    __m128i acc = _mm_setzero_si128();
    for (const std::size_t stop = std::min(full, t + 8 * steps); t < stop; t += 8)
      acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + t)),
                                              _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + t))));
    total = _mm_add_pd(total, _mm_cvtepi32_pd(acc));
    total = _mm_add_pd(total, _mm_cvtepi32_pd(_mm_shuffle_epi32(acc, 0x0E)));
  }
  double lanes[2];
  _mm_storeu_pd(lanes, total);
  return static_cast<std::int64_t>(lanes[0]) + static_cast<std::int64_t>(lanes[1]) + dot_i16_tail(a, b, t, n);
}
#else
bool has_avx2() { return false; }
std::int64_t dot_i16_sse2(const std::int16_t* a, const std::int16_t* b, std::size_t n) { return dot_i16_tail(a, b, 0, n); }
std::int64_t dot_i16_avx2(const std::int16_t* a, const std::int16_t* b, std::size_t n) { return dot_i16_tail(a, b, 0, n); }
#endif
}  // namespace detail

double twice_rank_dot(const std::int16_t* a, const std::int16_t* b, std::size_t n) {
  // Beyond kMaxSmallRankTrials a lane could overflow in one step (int32_steps 0): the plain sum.
  const std::int64_t sum = n > kMaxSmallRankTrials ? dot_i16_tail(a, b, 0, n)
                           : detail::has_avx2()    ? detail::dot_i16_avx2(a, b, n)
                                                   : detail::dot_i16_sse2(a, b, n);
  return static_cast<double>(sum) / 4;
}

OrderStatInterval quantile_interval(std::size_t n, double q) {
  constexpr std::size_t kUnbounded = OrderStatInterval::kUnbounded;
  if (n == 0) return {kUnbounded, kUnbounded};
  const boost::math::binomial_distribution<double> b(static_cast<double>(n), q);
  // cdf(b, k) is non-decreasing in k: binary searches.
  std::size_t lo = kUnbounded, hi = kUnbounded;
  if (boost::math::cdf(b, 0.0) <= 0.025) {
    std::size_t a = 0, z = n;  // the largest k in [0, n) with cdf(k) <= 0.025
    while (z - a > 1) {
      const std::size_t m = (a + z) / 2;
      (boost::math::cdf(b, static_cast<double>(m)) <= 0.025 ? a : z) = m;
    }
    lo = a;
  }
  if (boost::math::cdf(b, 0.0) >= 0.975) {
    hi = 0;
  } else if (boost::math::cdf(b, static_cast<double>(n - 1)) >= 0.975) {
    std::size_t a = 0, z = n - 1;  // the smallest k in [0, n) with cdf(k) >= 0.975
    while (z - a > 1) {
      const std::size_t m = (a + z) / 2;
      (boost::math::cdf(b, static_cast<double>(m)) >= 0.975 ? z : a) = m;
    }
    hi = z;
  }
  return {lo, hi};
}

void wilson_interval(std::size_t successes, std::size_t n, double& lo, double& hi) {
  if (n == 0) {
    lo = hi = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  constexpr double z = 1.959963984540054;  // Phi^{-1}(0.975)
  const double dn = static_cast<double>(n), p = static_cast<double>(successes) / dn;
  const double denom = 1 + z * z / dn;
  const double centre = (p + z * z / (2 * dn)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / dn + z * z / (4 * dn * dn));
  // Exactly 0 (1) when no (every) trial counts: the formula gives centre - half = 0 only up to rounding.
  lo = successes == 0 ? 0.0 : std::max(0.0, centre - half);
  hi = successes == n ? 1.0 : std::min(1.0, centre + half);
}

bool normalized_ranks(const double* x, std::size_t n, StatsScratch& scratch, double* out) {
  radix_sort(x, n, scratch, true);
  return ranks_from_order(n, scratch, out);
}

double median_type7(std::vector<double>& v) {
  const std::size_t n = v.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = static_cast<double>(n - 1) * 0.5;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  const double b = lo + 1 < n ? *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end()) : a;
  return interpolate_type7(a, b, h - static_cast<double>(lo));
}

// The deviations' sum measures the rounding error of the sum and the division, which is taken out
// of the mean and of the sum of squares: a sample whose values are all equal has that value as its
// mean and ss 0, not a mean a few ulps outside its range (and a positive sd).
void corrected_two_pass(const double* x, std::size_t n, double& mean, double& ss) {
  // Four running sums of each, in a fixed order (the same bits on every run and thread count):
  // independent chains the compiler keeps in one vector register, instead of one long chain of
  // dependent additions.
  double dv[4] = {0, 0, 0, 0}, sv[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (std::size_t k = 0; k < 4; ++k) {
      const double d = x[i + k] - mean;
      dv[k] += d;
      sv[k] += d * d;
    }
  for (std::size_t k = 0; i < n; ++i, ++k) {
    const double d = x[i] - mean;
    dv[k] += d;
    sv[k] += d * d;
  }
  const double dev = (dv[0] + dv[1]) + (dv[2] + dv[3]), sq = (sv[0] + sv[1]) + (sv[2] + sv[3]);
  // Beyond double's range (an infinite value, a sum or a square that overflows) the plain
  // two-pass result stands: inf or NaN as NumPy gives, never a correction computed from inf - inf.
  if (!std::isfinite(mean) || !std::isfinite(dev) || !std::isfinite(sq)) {
    ss = sq;
    return;
  }
  const double dn = static_cast<double>(n);
  mean += dev / dn;
  ss = std::max(0.0, sq - dev * (dev / dn));  // dev^2/n <= sq (Cauchy-Schwarz): no overflow
}

ROISIM_CLONES
void summarize(const double* roi, const double* npv, const double* payback, std::size_t n,
               StatsScratch& s, ScenarioSummary& out, const OrderStatInterval* intervals) {
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
  double mean = sum / dn, ss = 0;
  corrected_two_pass(roi, n, mean, ss);
  out.roi_mean = mean;
  out.roi_sd = n > 1 ? std::sqrt(ss / (dn - 1.0)) : std::numeric_limits<double>::quiet_NaN();
  out.roi_se = out.roi_sd / std::sqrt(dn);
  out.prob_loss = static_cast<double>(losses) / dn;
  double mean_npv = sum_npv / dn, ss_npv = 0;
  corrected_two_pass(npv, n, mean_npv, ss_npv);
  out.npv_mean = mean_npv;
  out.prob_payback = static_cast<double>(paid) / dn;
  out.npv_se = n > 1 ? std::sqrt(ss_npv / (dn - 1.0)) / std::sqrt(dn) : std::numeric_limits<double>::quiet_NaN();
  wilson_interval(losses, n, out.prob_loss_lo, out.prob_loss_hi);
  wilson_interval(paid, n, out.prob_payback_lo, out.prob_payback_hi);

  // ROI: order statistics, CVaR and ranks from one sort.
  radix_sort(roi, n, s, true);
  for (int q = 0; q < kNumQuantiles; ++q) {
    out.roi_quantile[q] = quantile_type7(s.sorted.data(), n, kQuantiles[q]);
    const OrderStatInterval iv = intervals ? intervals[q] : quantile_interval(n, kQuantiles[q]);
    constexpr double inf = std::numeric_limits<double>::infinity();
    out.roi_quantile_lo[q] = iv.lo == OrderStatInterval::kUnbounded ? -inf : s.sorted[iv.lo];
    out.roi_quantile_hi[q] = iv.hi == OrderStatInterval::kUnbounded ? inf : s.sorted[iv.hi];
  }
  const std::size_t k10 = std::max<std::size_t>(1, n / 10);
  double tail = 0;
  for (std::size_t i = 0; i < k10; ++i) tail += s.sorted[i];
  double cvar = tail / static_cast<double>(k10), unused = 0;
  corrected_two_pass(s.sorted.data(), k10, cvar, unused);
  out.cvar10 = cvar;
  if (n <= kMaxSmallRankTrials) {
    s.roi_ranks2.resize(n);
    s.roi_rank_norm = std::sqrt(centred_ranks_from_order(n, s, s.roi_ranks2.data()));
  } else {
    s.roi_ranks.resize(n);
    s.roi_rank_norm = std::sqrt(centred_ranks_from_order(n, s, s.roi_ranks.data()));
  }
  s.roi_sorted.swap(s.sorted);  // s.sorted is scratch from here on

  quantiles_type7(npv, n, kQuantiles, kNumQuantiles, s, out.npv_quantile);

  // Payback months are whole months or +inf: the median's two order statistics by counting.
  const double h = static_cast<double>(n - 1) * 0.5;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  double a, b;
  if (counting_order_stats(payback, n, s, lo, std::min(lo + 1, n - 1), a, b)) {
    out.payback_p50 = interpolate_type7(a, b, h - static_cast<double>(lo));
  } else {
    radix_sort(payback, n, s, false);
    out.payback_p50 = quantile_type7(s.sorted.data(), n, 0.5);
  }
}

}  // namespace roisim
