#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "sim/statistics.h"
#include "tests/test_uniforms.h"

using namespace roisim;

TEST(Quantile, Type7MatchesNumpy) {
  // numpy.quantile([1, 2, 3, 4, 10], [0.1, 0.5, 0.9, 0.95]) = [1.4, 3.0, 7.6, 8.8]
  const double x[] = {1, 2, 3, 4, 10};
  EXPECT_DOUBLE_EQ(quantile_type7(x, 5, 0.1), 1.4);
  EXPECT_EQ(quantile_type7(x, 5, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(quantile_type7(x, 5, 0.9), 7.6);
  EXPECT_DOUBLE_EQ(quantile_type7(x, 5, 0.95), 8.8);
  EXPECT_EQ(quantile_type7(x, 1, 0.3), 1.0);
}

TEST(Quantile, InfinityWhenAnInterpolatedOrderStatisticIsInfinite) {
  const double inf = std::numeric_limits<double>::infinity();
  const double a[] = {1, 2, inf, inf};  // h = 1.5: between 2 and inf
  EXPECT_EQ(quantile_type7(a, 4, 0.5), inf);
  const double b[] = {1, 2, 3, inf, inf};  // h = 2 exactly, next is inf: numpy gives nan -> inf
  EXPECT_EQ(quantile_type7(b, 5, 0.5), inf);
  const double c[] = {1, 2, 3, 4, inf};
  EXPECT_EQ(quantile_type7(c, 5, 0.5), 3.0);
}

TEST(Ranks, AverageRanksForTiesNormalised) {
  const double x[] = {10, 20, 20, 5};  // ranks 2, 3.5, 3.5, 1 -> centred -0.5, 1, 1, -1.5
  StatsScratch s;
  double r[4];
  ASSERT_TRUE(normalized_ranks(x, 4, s, r));
  const double norm = std::sqrt(0.25 + 1 + 1 + 2.25);
  EXPECT_DOUBLE_EQ(r[0], -0.5 / norm);
  EXPECT_DOUBLE_EQ(r[1], 1 / norm);
  EXPECT_DOUBLE_EQ(r[2], 1 / norm);
  EXPECT_DOUBLE_EQ(r[3], -1.5 / norm);
  const double c[] = {3, 3, 3};
  EXPECT_FALSE(normalized_ranks(c, 3, s, r));
}

TEST(Summarize, AllFieldsByHand) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> roi = {-0.5, 0.1, 0.2, 0.3, 1.0, 2.0, -0.1, 0.4, 0.5, 0.6, 0.7};
  std::vector<double> npv(roi.size()), pay(roi.size());
  for (std::size_t i = 0; i < roi.size(); ++i) npv[i] = 1000 * roi[i], pay[i] = roi[i] < 0 ? inf : 12 - i;
  StatsScratch s;
  ScenarioSummary out;
  summarize(roi.data(), npv.data(), pay.data(), roi.size(), s, out);
  double mean = 0;
  for (double r : roi) mean += r;
  mean /= roi.size();
  double ss = 0;
  for (double r : roi) ss += (r - mean) * (r - mean);
  EXPECT_DOUBLE_EQ(out.roi_mean, mean);
  EXPECT_DOUBLE_EQ(out.roi_sd, std::sqrt(ss / 10));
  EXPECT_DOUBLE_EQ(out.roi_se, std::sqrt(ss / 10) / std::sqrt(11.0));
  EXPECT_DOUBLE_EQ(out.prob_loss, 2.0 / 11);
  EXPECT_DOUBLE_EQ(out.cvar10, -0.5);  // max(1, floor(11/10)) = 1 lowest trial
  EXPECT_DOUBLE_EQ(out.npv_mean, 1000 * mean);
  EXPECT_DOUBLE_EQ(out.prob_payback, 9.0 / 11);
  EXPECT_DOUBLE_EQ(out.roi_quantile[3], 0.4);  // median of 11 values
  EXPECT_DOUBLE_EQ(out.npv_quantile[3], 400);
  // payback: 12 - i for the 9 profitable trials (i = 1..10 without 6): sorted 2,3,4,5,7,8,9,10,11,
  // then inf, inf; the median is the 6th of 11 values = 8.
  EXPECT_EQ(out.payback_p50, 8);
}

TEST(Summarize, SingleTrialHasNoSpread) {
  double roi = 0.3, npv = 10, pay = 5;
  StatsScratch s;
  ScenarioSummary out;
  summarize(&roi, &npv, &pay, 1, s, out);
  EXPECT_TRUE(std::isnan(out.roi_sd));
  EXPECT_EQ(out.cvar10, 0.3);
  EXPECT_EQ(out.roi_quantile[0], 0.3);
}

TEST(Intervals, QuantileOrderStatisticsByBinomial) {
  // n = 100, q = 0.5: Bin(100, 0.5) cdf(39) = 0.0176 <= 0.025 < cdf(40) = 0.0284, and the
  // smallest k with cdf(k) >= 0.975 is 60 (cdf(59) = 0.9716, cdf(60) = 0.9824).
  auto iv = quantile_interval(100, 0.5);
  EXPECT_EQ(iv.lo, 39u);
  EXPECT_EQ(iv.hi, 60u);
  // Too few trials for a tail: unbounded there (P(Bin(5, 0.1) = 0) = 0.59 > 0.025); the upper end
  // is x_(2) (cdf(1) = 0.9185 < 0.975 <= cdf(2) = 0.9914).
  auto small = quantile_interval(5, 0.1);
  EXPECT_EQ(small.lo, OrderStatInterval::kUnbounded);
  EXPECT_EQ(small.hi, 2u);
  // The thresholds: P10 is bounded below from 36 trials (0.9^36 = 0.0225 <= 0.025 < 0.9^35 =
  // 0.02503), P05 from 72 (0.95^72 = 0.0249 < 0.025 < 0.95^71 = 0.0262); P90 and P95 above from
  // the same counts.
  EXPECT_EQ(quantile_interval(35, 0.10).lo, OrderStatInterval::kUnbounded);
  EXPECT_EQ(quantile_interval(36, 0.10).lo, 0u);
  EXPECT_EQ(quantile_interval(71, 0.05).lo, OrderStatInterval::kUnbounded);
  EXPECT_EQ(quantile_interval(72, 0.05).lo, 0u);
  EXPECT_EQ(quantile_interval(35, 0.90).hi, OrderStatInterval::kUnbounded);
  EXPECT_EQ(quantile_interval(36, 0.90).hi, 35u);
  EXPECT_EQ(quantile_interval(71, 0.95).hi, OrderStatInterval::kUnbounded);
  EXPECT_EQ(quantile_interval(72, 0.95).hi, 71u);
  EXPECT_EQ(quantile_interval(1, 0.5).lo, OrderStatInterval::kUnbounded);
  EXPECT_EQ(quantile_interval(1, 0.5).hi, OrderStatInterval::kUnbounded);
}

// Through summarize(): at 20 trials P05/P10 have no lower bound and P90/P95 no upper one (the
// ends are -inf/+inf), P25..P75 are bounded by trials; at 100 trials every end is a trial.
TEST(Intervals, UnboundedEndsAreInfiniteInTheSummary) {
  for (std::size_t n : {std::size_t{20}, std::size_t{100}}) {
    std::vector<double> roi(n), npv(n), pay(n, 3.0);
    for (std::size_t i = 0; i < n; ++i) roi[i] = npv[i] = static_cast<double>((i * 7) % n) / static_cast<double>(n);
    StatsScratch s;
    ScenarioSummary out;
    summarize(roi.data(), npv.data(), pay.data(), n, s, out);
    for (int q = 0; q < kNumQuantiles; ++q) {
      const bool open_below = n == 20 && kQuantiles[q] <= 0.10, open_above = n == 20 && kQuantiles[q] >= 0.90;
      EXPECT_EQ(out.roi_quantile_lo[q] == -std::numeric_limits<double>::infinity(), open_below) << n << " " << q;
      EXPECT_EQ(out.roi_quantile_hi[q] == std::numeric_limits<double>::infinity(), open_above) << n << " " << q;
      if (!open_below) EXPECT_TRUE(std::count(roi.begin(), roi.end(), out.roi_quantile_lo[q]) == 1) << n << " " << q;
      if (!open_above) EXPECT_TRUE(std::count(roi.begin(), roi.end(), out.roi_quantile_hi[q]) == 1) << n << " " << q;
    }
  }
}

TEST(Intervals, WilsonMatchesTheFormula) {
  double lo, hi;
  wilson_interval(20, 100, lo, hi);  // Wilson 95% for 20/100: [0.1334, 0.2888]
  EXPECT_NEAR(lo, 0.13337, 1e-4);
  EXPECT_NEAR(hi, 0.28883, 1e-4);
  wilson_interval(0, 50, lo, hi);
  EXPECT_EQ(lo, 0.0);
  EXPECT_NEAR(hi, 0.0714, 1e-3);
}

TEST(Intervals, WilsonIsExactlyZeroOrOneAtTheEnds) {
  double lo, hi;
  for (std::size_t n = 1; n <= 20000; n += n < 100 ? 1 : 97) {
    wilson_interval(0, n, lo, hi);
    ASSERT_EQ(lo, 0.0) << n;
    ASSERT_LT(hi, 1.0) << n;
    wilson_interval(n, n, lo, hi);
    ASSERT_EQ(hi, 1.0) << n;
    ASSERT_GT(lo, 0.0) << n;
  }
}

TEST(Summarize, EqualValuesHaveThatMeanAndNoSpread) {
  // A scenario whose every trial has the same ROI (all deterministic inputs): the mean, cvar10 and
  // NPV mean are that value exactly, not a few ulps outside the sample's range, and sd is 0.
  for (double v : {0.2, 1.0 / 3.0, -0.7, 1e6 + 0.1, 123456.789}) {
    for (std::size_t n : {3u, 10u, 1000u, 10007u}) {
      std::vector<double> roi(n, v), npv(n, v * 1e5), pay(n, 7.0);
      StatsScratch s;
      ScenarioSummary out;
      summarize(roi.data(), npv.data(), pay.data(), n, s, out);
      EXPECT_EQ(out.roi_mean, v) << v << " " << n;
      EXPECT_EQ(out.roi_sd, 0.0) << v << " " << n;
      EXPECT_EQ(out.cvar10, v) << v << " " << n;
      EXPECT_EQ(out.npv_mean, v * 1e5) << v << " " << n;
      EXPECT_EQ(out.npv_se, 0.0) << v << " " << n;
    }
  }
}

TEST(Summarize, SpreadBeyondDoublesRangeIsInfiniteNotZero) {
  // Squares that overflow: sd is +inf (as NumPy says), not 0 from a correction of inf - inf;
  // a sum that overflows while every value is finite: the mean is +inf and so is sd.
  std::vector<double> huge{1e200, 3e200, 5e200, 7e200}, pay(4, 1.0);
  StatsScratch s;
  ScenarioSummary out;
  summarize(huge.data(), huge.data(), pay.data(), huge.size(), s, out);
  EXPECT_TRUE(std::isfinite(out.roi_mean));
  EXPECT_EQ(out.roi_sd, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out.npv_se, std::numeric_limits<double>::infinity());
  std::vector<double> over(4, 1e308);
  summarize(over.data(), over.data(), pay.data(), over.size(), s, out);
  EXPECT_EQ(out.roi_mean, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out.roi_sd, std::numeric_limits<double>::infinity());
}

TEST(Intervals, AverageRanks) {
  const double x[] = {10, 20, 20, 5};
  StatsScratch s;
  double r[4];
  const double ss = average_ranks(x, 4, s, r);
  EXPECT_EQ(r[0], 2.0);
  EXPECT_EQ(r[1], 3.5);
  EXPECT_EQ(r[2], 3.5);
  EXPECT_EQ(r[3], 1.0);
  EXPECT_DOUBLE_EQ(ss, 0.25 + 1 + 1 + 2.25);
}

// twice_rank_dot must give rank_dot's bits (both exact) on either x86-64 path, with ties, any
// length (the 16- and 8-wide loops' tails), and the largest magnitudes each trial count allows
// (where an int32 lane summed one step too many would overflow).
TEST(Ranks, TwiceRankDotEqualsRankDotBitForBit) {
  TestUniforms u(20261207);
  StatsScratch s;
  for (std::size_t n : {1u, 2u, 7u, 15u, 16u, 17u, 100u, 1001u, 10000u, 32767u, 32768u}) {
    for (int shape = 0; shape < 3; ++shape) {
      std::vector<double> x(n), y(n), rx(n), ry(n);
      for (std::size_t t = 0; t < n; ++t) {
        x[t] = shape == 0 ? u() : std::floor(u() * (shape == 1 ? 7 : 2));  // continuous, 7 or 2 values
        y[t] = u() + 0.5 * x[t];
      }
      average_ranks(x.data(), n, s, rx.data());
      average_ranks(y.data(), n, s, ry.data());
      const double mean = (static_cast<double>(n) + 1) / 2;
      std::vector<double> cy(n);
      for (std::size_t t = 0; t < n; ++t) cy[t] = ry[t] - mean;
      std::vector<std::int16_t> ax(n), ay(n);
      twice_centred_ranks(rx.data(), n, ax.data());
      twice_centred_ranks(ry.data(), n, ay.data());
      for (std::size_t t = 0; t < n; ++t) ASSERT_EQ(static_cast<double>(ax[t]), 2 * (rx[t] - mean)) << n;
      const double want = rank_dot(rx.data(), mean, cy.data(), n);
      const double got = twice_rank_dot(ax.data(), ay.data(), n);
      EXPECT_EQ(std::memcmp(&want, &got, sizeof want), 0) << n << " " << shape << ": " << want << " " << got;
      EXPECT_EQ(static_cast<double>(detail::dot_i16_sse2(ax.data(), ay.data(), n)) / 4, want) << n;
      if (detail::has_avx2()) EXPECT_EQ(static_cast<double>(detail::dot_i16_avx2(ax.data(), ay.data(), n)) / 4, want) << n;
    }
    // Every product at the largest magnitude, n - 1, with one sign, then alternating signs.
    const std::int64_t m = static_cast<std::int64_t>(n) - 1;
    for (int sign : {1, -1}) {
      std::vector<std::int16_t> a(n), b(n);
      std::int64_t want = 0;
      for (std::size_t t = 0; t < n; ++t) {
        a[t] = static_cast<std::int16_t>(m);
        b[t] = static_cast<std::int16_t>(sign > 0 || t % 2 ? m : -m);
        want += std::int64_t{a[t]} * b[t];
      }
      EXPECT_EQ(detail::dot_i16_sse2(a.data(), b.data(), n), want) << n;
      if (detail::has_avx2()) EXPECT_EQ(detail::dot_i16_avx2(a.data(), b.data(), n), want) << n;
      EXPECT_EQ(twice_rank_dot(a.data(), b.data(), n), static_cast<double>(want) / 4) << n;
    }
  }
  // Beyond kMaxSmallRankTrials (no caller: the engine keeps doubles there) the plain sum.
  std::vector<std::int16_t> a(40000, 32767), b(40000, -32767);
  EXPECT_EQ(detail::dot_i16_sse2(a.data(), b.data(), a.size()), -40000LL * 32767 * 32767);
  if (detail::has_avx2()) EXPECT_EQ(detail::dot_i16_avx2(a.data(), b.data(), a.size()), -40000LL * 32767 * 32767);
  EXPECT_EQ(twice_rank_dot(a.data(), b.data(), a.size()), -40000.0 * 32767 * 32767 / 4);
}

// quantiles_type7 selects instead of sorting: it must give quantile_type7 of the sorted sample
// bit for bit, whatever the shape of the sample (atoms, ties, one value, tiny or huge ranges,
// skew, infinities) and the levels.
TEST(Quantile, SelectionEqualsSortBitForBit) {
  const double inf = std::numeric_limits<double>::infinity();
  const double levels[] = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.0, 1.0, 0.333};
  TestUniforms uniform(12345);
  StatsScratch s, ref;
  int cases = 0;
  for (std::size_t n : {1u, 2u, 3u, 63u, 64u, 65u, 100u, 1000u, 4097u, 10000u}) {
    for (int shape = 0; shape < 13; ++shape) {
      std::vector<double> x(n);
      for (std::size_t i = 0; i < n; ++i) {
        const double u = uniform();
        switch (shape) {
          case 0: x[i] = u; break;                                   // smooth
          case 1: x[i] = u < 0.2 ? -300000.0 : 1e6 * u; break;       // an atom (failed projects)
          case 2: x[i] = std::floor(u * 5); break;                   // few distinct values
          case 3: x[i] = 42.0; break;                                // one value
          case 4: x[i] = 1.0 + u * 1e-12; break;                     // tiny range
          case 5: x[i] = std::exp(40 * u) * (u < 0.5 ? -1 : 1); break;  // heavy tails, both signs
          case 6: x[i] = u < 0.01 ? inf : u; break;                  // infinities: sorted path
          case 7: x[i] = u < 0.999 ? 0.0 : 1e300; break;             // one huge outlier
          case 8: x[i] = i == n / 2 ? std::nan("") : u; break;       // a NaN: sorted path
          case 9: x[i] = i == n / 3 ? std::nan("") : 5.0; break;     // a NaN among equal values
          case 10: x[i] = std::floor(u * 1000) * 1e-310; break;     // subnormal range: buckets/range overflows
          case 11:    // -0.0 and +0.0 alternating at the median's ranks (-0.0 sorts first): a few
          case 12: {  // (a small bucket, sorted whole), or a fifth of the sample (selected in place)
            const std::size_t zeros = shape == 11 ? 20 : n / 5, z0 = n / 2 >= zeros / 2 ? n / 2 - zeros / 2 : 0;
            x[i] = i < z0 ? -u : i < z0 + zeros ? (i % 2 ? 0.0 : -0.0) : u;
            break;
          }
        }
      }
      double got[10];
      quantiles_type7(x.data(), n, levels, 10, s, got);
      radix_sort(x.data(), n, ref, false);
      for (int j = 0; j < 10; ++j) {
        const double want = quantile_type7(ref.sorted.data(), n, levels[j]);
        EXPECT_EQ(std::memcmp(&got[j], &want, sizeof want), 0)
            << "n " << n << " shape " << shape << " q " << levels[j] << ": " << got[j] << " != " << want;
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 130);
  double none[1];
  quantiles_type7(nullptr, 0, levels, 1, s, none);
  EXPECT_TRUE(std::isnan(none[0]));
}

// The payback median by counting (whole months in [0, 65535] or +inf, four at a time, a
// histogram per lane) must equal type 7 on the sorted values, bit for bit; a value of another
// form anywhere (the vector loop or its tail) sends it to sorting, which must agree too.
TEST(Summarize, PaybackMedianEqualsSortingItsValues) {
  const double inf = std::numeric_limits<double>::infinity();
  TestUniforms uniform(20261207);
  StatsScratch s, ref;
  int cases = 0;
  for (std::size_t n : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 100u, 1001u, 10000u}) {
    for (int shape = 0; shape < 12; ++shape) {
      std::vector<double> roi(n), npv(n), pay(n);
      for (std::size_t i = 0; i < n; ++i) {
        const double u = uniform();
        roi[i] = u, npv[i] = u;
        switch (shape) {
          case 0: pay[i] = std::floor(37 * u); break;                    // months of a horizon
          case 1: pay[i] = u < 0.4 ? inf : std::floor(37 * u); break;    // some never pay back
          case 2: pay[i] = u < 0.7 ? inf : std::floor(37 * u); break;    // the median +inf
          case 3: pay[i] = inf; break;                                   // none pays back
          case 4: pay[i] = 12; break;                                    // one month
          case 5: pay[i] = u < 0.5 ? 65535 : std::floor(65536 * u); break;  // the largest months
          case 6: pay[i] = i % 2 ? -0.0 : 0.0; break;                    // signed zeros
          case 7: pay[i] = i + 1 == n ? 3.5 : std::floor(37 * u); break;    // a fraction, last (a tail)
          case 8: pay[i] = i == 0 ? 65536 : std::floor(37 * u); break;   // beyond the counting range
          case 9: pay[i] = i == n / 2 ? std::nan("") : std::floor(37 * u); break;
          case 10: pay[i] = i == n / 3 ? -inf : std::floor(37 * u); break;
          case 11: pay[i] = i == n / 2 ? -1 : u < 0.5 ? inf : std::floor(37 * u); break;
        }
      }
      ScenarioSummary out;
      summarize(roi.data(), npv.data(), pay.data(), n, s, out);
      radix_sort(pay.data(), n, ref, false);
      const double want = quantile_type7(ref.sorted.data(), n, 0.5);
      EXPECT_EQ(std::memcmp(&out.payback_p50, &want, sizeof want), 0)
          << "n " << n << " shape " << shape << ": " << out.payback_p50 << " != " << want;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 132);
}

// radix_sort with the index takes a bucket path for 256+ finite values, and sorts fewer than 64
// values by insertion: its order must be the LSD radix sort's (keys ascending, -0.0 before +0.0,
// trial order among equal values, NaN where its key puts it), checked against a comparison sort
// on the same order-preserving keys, whatever the sample's shape; without the index, the same keys.
TEST(Sort, WithIndexEqualsAStableSortOnKeys) {
  const double inf = std::numeric_limits<double>::infinity();
  auto key = [](double v) {
    std::uint64_t u;
    std::memcpy(&u, &v, 8);
    return (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));
  };
  TestUniforms uniform(777);
  StatsScratch s;
  for (std::size_t n : {1u, 2u, 17u, 63u, 64u, 255u, 256u, 1000u, 10000u, 100000u}) {
    for (int shape = 0; shape < 10; ++shape) {
      std::vector<double> x(n);
      for (auto& v : x) {
        const double u = uniform();
        switch (shape) {
          case 0: v = u; break;
          case 1: v = u < 0.2 ? -1.0 : 3 * u; break;                     // ROI atom at -1
          case 2: v = std::floor(u * 7); break;                          // ties everywhere
          case 3: v = u < 0.5 ? 0.0 : -0.0; break;                       // only signed zeros
          case 4: v = u < 0.3 ? -0.0 : (u < 0.6 ? 0.0 : u - 0.8); break; // signed zeros among others
          case 5: v = std::exp(60 * u) * (u < 0.5 ? -1 : 1); break;      // crowded buckets
          case 6: v = u < 0.001 ? 1e300 : u; break;                      // one bucket holds nearly all
          case 7: v = u < 0.01 ? inf : u; break;                         // not finite: radix path
          case 8: v = u < 0.01 ? std::nan("") : u; break;                // NaN: radix path
          case 9: v = std::floor(u * 1000) * 1e-310; break;              // subnormal range: radix path
        }
      }
      std::vector<std::uint32_t> want(n);
      for (std::size_t i = 0; i < n; ++i) want[i] = static_cast<std::uint32_t>(i);
      std::stable_sort(want.begin(), want.end(), [&](std::uint32_t a, std::uint32_t b) { return key(x[a]) < key(x[b]); });
      radix_sort(x.data(), n, s, true);
      ASSERT_EQ(s.index.size(), n);
      EXPECT_TRUE(std::equal(want.begin(), want.end(), s.index.begin())) << "n " << n << " shape " << shape;
      bool same = true;
      for (std::size_t i = 0; i < n; ++i) same &= key(s.sorted[i]) == key(x[want[i]]);
      EXPECT_TRUE(same) << "n " << n << " shape " << shape;
      radix_sort(x.data(), n, s, false);
      same = s.sorted.size() == n;
      for (std::size_t i = 0; same && i < n; ++i) same &= key(s.sorted[i]) == key(x[want[i]]);
      EXPECT_TRUE(same) << "without index: n " << n << " shape " << shape;
    }
  }
}
