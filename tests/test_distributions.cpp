// The marginal distributions (SPEC §3): inverse CDFs checked against Boost.Math's CDFs,
// monotonicity, support, batch == scalar, means, descriptions and parameter validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/lognormal.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/triangular.hpp>
#include <boost/math/distributions/uniform.hpp>

#include "sim/distributions.h"
#include "sim/errors.h"

namespace {

using roisim::DistKind;
using roisim::Distribution;
using CdfFn = std::function<double(double)>;

constexpr double kInf = std::numeric_limits<double>::infinity();

// The u grid of the accuracy checks: fixed points down to 1e-12 and up to 1 - 1e-12, plus
// 2000 uniforms from a fixed seed.
std::vector<double> u_grid() {
  std::vector<double> u = {1e-12, 1e-9, 1e-6, 1e-4, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3,
                           0.4,   0.5,  0.6,  0.7,  0.75,  0.8,  0.9,   0.95, 0.975, 0.99, 0.999,
                           1 - 1e-4, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12};
  std::mt19937_64 gen(20261122);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    double v;
    do v = unif(gen); while (v <= 0.0 || v >= 1.0);
    u.push_back(v);
  }
  return u;
}

// Extreme uniforms that must still give finite values inside the support.
const std::vector<double> kExtremeU = {std::numeric_limits<double>::denorm_min(),
                                       std::numeric_limits<double>::min(), 1e-300, 1e-100, 1e-20,
                                       1e-17, std::nextafter(1.0, 0.0), 1 - 2e-16};

// How the accuracy |F(Q(u)) - u| is judged.
enum class Accuracy {
  Strict,       // <= 1e-9
  Granularity,  // <= 1e-9 + the jump of F across one ulp of Q(u): for shapes with infinite
                // density where doubles are sparse (beta with beta < 1 near max, alpha < 1
                // near a min != 0), no double does better
};

void expect_batch_matches_scalar(const Distribution& d, const std::vector<double>& u) {
  std::vector<double> out(u.size(), -12345.0);
  d.quantile(u.data(), out.data(), u.size());
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double s = d.quantile(u[i]);
    EXPECT_EQ(0, std::memcmp(&s, &out[i], sizeof(double)))
        << d.describe() << " u = " << u[i] << " scalar " << s << " batch " << out[i];
  }
}

void check_continuous(const Distribution& d, const CdfFn& F, Accuracy acc = Accuracy::Strict,
                      double tol = 1e-9) {
  SCOPED_TRACE(d.describe());
  std::vector<double> us = u_grid();
  const double lo = d.support_min(), hi = d.support_max();
  double worst = 0.0;
  for (double u : us) {
    const double q = d.quantile(u);
    ASSERT_TRUE(std::isfinite(q)) << "u = " << u;
    EXPECT_GE(q, lo) << "u = " << u;
    EXPECT_LE(q, hi) << "u = " << u;
    const double fq = F(q);
    const double err = std::fabs(fq - u);
    double allowed = tol;
    if (acc == Accuracy::Granularity) {
      const double below = F(std::max(std::nextafter(q, -kInf), lo));
      const double above = F(std::min(std::nextafter(q, kInf), hi));
      allowed += std::max(fq - below, above - fq);
    }
    EXPECT_LE(err, allowed) << "u = " << u << " Q(u) = " << q << " F(Q(u)) = " << fq;
    worst = std::max(worst, err);
    // The distribution's own CDF agrees with Boost's.
    EXPECT_NEAR(d.cdf(q), fq, 1e-12) << "u = " << u;
  }
  // Monotone over the sorted grid.
  std::sort(us.begin(), us.end());
  double prev = -kInf;
  for (double u : us) {
    const double q = d.quantile(u);
    EXPECT_GE(q, prev) << "u = " << u;
    prev = q;
  }
  // Extreme u: finite and inside the support.
  for (double u : kExtremeU) {
    const double q = d.quantile(u);
    EXPECT_TRUE(std::isfinite(q)) << "u = " << u;
    EXPECT_GE(q, lo) << "u = " << u;
    EXPECT_LE(q, hi) << "u = " << u;
  }
  std::vector<double> all = us;
  all.insert(all.end(), kExtremeU.begin(), kExtremeU.end());
  expect_batch_matches_scalar(d, all);
}

// Boost reference CDFs.
CdfFn boost_uniform(double a, double b) {
  return [=](double x) { return boost::math::cdf(boost::math::uniform_distribution<double>(a, b), x); };
}
CdfFn boost_triangular(double a, double c, double b) {
  return [=](double x) {
    return boost::math::cdf(boost::math::triangular_distribution<double>(a, c, b), x);
  };
}
CdfFn boost_beta(double alpha, double beta, double min, double max) {
  return [=](double x) {
    const double xs = std::clamp((x - min) / (max - min), 0.0, 1.0);
    return boost::math::cdf(boost::math::beta_distribution<double>(alpha, beta), xs);
  };
}
CdfFn boost_pert(double min, double mode, double max, double lambda = 4.0) {
  const double a = 1 + lambda * (mode - min) / (max - min);
  const double b = 1 + lambda * (max - mode) / (max - min);
  return boost_beta(a, b, min, max);
}
CdfFn boost_normal(double mean, double sd) {
  return [=](double x) { return boost::math::cdf(boost::math::normal_distribution<double>(mean, sd), x); };
}
// Truncated normal: (Phi(x) - Phi(a)) / (Phi(b) - Phi(a)); with upper-tail probabilities
// (Phi(-a) - Phi(-x)) / (Phi(-a) - Phi(-b)) when the interval lies above the mean, where the
// first form would cancel.
CdfFn boost_truncated_normal(double mean, double sd, double lo, double hi) {
  return [=](double x) {
    const boost::math::normal_distribution<double> n(mean, sd);
    if (x <= lo) return 0.0;
    if (x >= hi) return 1.0;
    if (lo > mean) {
      const double ca = boost::math::cdf(boost::math::complement(n, lo));
      const double cb = hi == kInf ? 0.0 : boost::math::cdf(boost::math::complement(n, hi));
      return (ca - boost::math::cdf(boost::math::complement(n, x))) / (ca - cb);
    }
    const double fa = lo == -kInf ? 0.0 : boost::math::cdf(n, lo);
    const double fb = hi == kInf ? 1.0 : boost::math::cdf(n, hi);
    return (boost::math::cdf(n, x) - fa) / (fb - fa);
  };
}
CdfFn boost_lognormal(double median, double sigma) {
  return [=](double x) {
    return boost::math::cdf(boost::math::lognormal_distribution<double>(std::log(median), sigma), x);
  };
}

// ------------------------------------------------------------------------------------------

TEST(Uniform, InverseMatchesBoost) {
  for (auto [a, b] : std::vector<std::pair<double, double>>{
           {0, 1}, {-5, 3}, {0.1, 0.14}, {1e6, 1e6 + 1}, {-1e-3, 1e-3}}) {
    const Distribution d = Distribution::uniform(a, b);
    EXPECT_EQ(d.kind(), DistKind::Uniform);
    check_continuous(d, boost_uniform(a, b));
    EXPECT_EQ(d.support_min(), a);
    EXPECT_EQ(d.support_max(), b);
  }
}

TEST(Triangular, InverseMatchesBoost) {
  for (auto p : std::vector<std::array<double, 3>>{{1, 3, 5},
                                                   {0, 0, 1},  // mode == min
                                                   {0, 1, 1},  // mode == max
                                                   {4.5e6, 5e6, 5.6e6},
                                                   {-2, -1.9, 10},
                                                   {0.2, 0.2000001, 0.9}}) {
    const Distribution d = Distribution::triangular(p[0], p[1], p[2]);
    EXPECT_EQ(d.kind(), DistKind::Triangular);
    check_continuous(d, boost_triangular(p[0], p[1], p[2]));
    EXPECT_EQ(d.support_min(), p[0]);
    EXPECT_EQ(d.support_max(), p[2]);
  }
  // Exactly the mode at u = (mode - min) / (max - min).
  const Distribution d = Distribution::triangular(0, 1, 4);
  EXPECT_DOUBLE_EQ(d.quantile(0.25), 1.0);
}

TEST(Pert, InverseMatchesBoost) {
  struct P { double min, mode, max, lambda; };
  for (const P& p : std::vector<P>{{0.3, 0.5, 0.8, 4},
                                   {0.3, 0.3, 0.8, 4},  // mode == min: a = 1
                                   {0.3, 0.8, 0.8, 4},  // mode == max: b = 1
                                   {0, 50, 100, 4},
                                   {4.5e6, 5e6, 5.6e6, 4},
                                   {0, 1, 10, 20},
                                   {-1e6, 0, 3e6, 2},
                                   {0.3, 0.5, 0.8, 0.001},
                                   {0.3, 0.31, 0.8, 100},
                                   {200000, 500000, 2000000, 4}}) {
    const Distribution d = Distribution::pert(p.min, p.mode, p.max, p.lambda);
    EXPECT_EQ(d.kind(), DistKind::Pert);
    check_continuous(d, boost_pert(p.min, p.mode, p.max, p.lambda));
    EXPECT_EQ(d.support_min(), p.min);
    EXPECT_EQ(d.support_max(), p.max);
  }
}

TEST(Pert, DefaultLambdaIsFour) {
  const Distribution a = Distribution::pert(0.3, 0.5, 0.8);
  const Distribution b = Distribution::pert(0.3, 0.5, 0.8, 4.0);
  for (double u : {0.01, 0.3, 0.77}) EXPECT_EQ(a.quantile(u), b.quantile(u));
  EXPECT_EQ(a.describe(), "pert(min=0.3, mode=0.5, max=0.8, lambda=4)");
}

TEST(Beta, InverseMatchesBoost) {
  struct P { double alpha, beta, min, max; };
  for (const P& p : std::vector<P>{{2, 5, 0, 1},
                                   {5, 2, 0, 1},
                                   {1, 1, 0, 1},
                                   {1, 3, 0, 1},
                                   {3, 1, 0, 1},
                                   {0.5, 3, 0, 1},   // infinite density at 0
                                   {0.1, 2, 0, 1},
                                   {0.05, 1.5, 0, 10},
                                   {2, 5, 10, 20},
                                   {200, 300, 0, 1},
                                   {1000, 1000, -1, 1},
                                   {1.5, 1.5, 0, 1},
                                   {30, 1.2, 0, 1}}) {
    const Distribution d = Distribution::beta(p.alpha, p.beta, p.min, p.max);
    EXPECT_EQ(d.kind(), DistKind::Beta);
    check_continuous(d, boost_beta(p.alpha, p.beta, p.min, p.max));
    EXPECT_EQ(d.support_min(), p.min);
    EXPECT_EQ(d.support_max(), p.max);
  }
}

TEST(Beta, InfiniteDensityAtTheEndsIsAsAccurateAsDoublesAllow) {
  // beta < 1: the density is infinite at max, where doubles are spaced 1.1e-16 apart; alpha < 1
  // with min != 0 likewise at min. F jumps by more than 1e-9 across one ulp there, so the check
  // allows that jump (and nothing more).
  struct P { double alpha, beta, min, max; };
  for (const P& p : std::vector<P>{{0.5, 0.5, 0, 1},
                                   {3, 0.3, 0, 1},
                                   {0.3, 0.3, 0, 1},
                                   {0.5, 2, 1, 3},
                                   {0.8, 0.9, -2, 2}}) {
    const Distribution d = Distribution::beta(p.alpha, p.beta, p.min, p.max);
    check_continuous(d, boost_beta(p.alpha, p.beta, p.min, p.max), Accuracy::Granularity);
  }
}

TEST(Beta, ExtremeShapesStayMonotoneAndInside) {
  for (auto [a, b] : std::vector<std::pair<double, double>>{
           {0.01, 0.01}, {0.001, 1}, {1, 0.001}, {1e4, 3}, {50, 0.5}, {0.02, 200}, {1e5, 1e5},
           {0.001, 0.001}, {1e6, 3}, {2, 1e6}, {1e6, 1e6}, {0.001, 1e6}}) {
    const Distribution d = Distribution::beta(a, b);
    std::vector<double> us = u_grid();
    us.insert(us.end(), kExtremeU.begin(), kExtremeU.end());
    std::sort(us.begin(), us.end());
    double prev = -kInf;
    for (double u : us) {
      const double q = d.quantile(u);
      ASSERT_TRUE(std::isfinite(q)) << a << " " << b << " u = " << u;
      EXPECT_GE(q, 0.0);
      EXPECT_LE(q, 1.0);
      EXPECT_GE(q, prev) << a << " " << b << " u = " << u;
      prev = q;
    }
  }
}

TEST(Beta, QuantileIsDeterministicAcrossInstances) {
  const Distribution a = Distribution::pert(0.3, 0.5, 0.8);
  const Distribution b = Distribution::pert(0.3, 0.5, 0.8);
  const Distribution c = a;  // copies share nothing mutable
  for (double u : u_grid()) {
    const double qa = a.quantile(u), qb = b.quantile(u), qc = c.quantile(u);
    EXPECT_EQ(0, std::memcmp(&qa, &qb, sizeof qa));
    EXPECT_EQ(0, std::memcmp(&qa, &qc, sizeof qa));
  }
}

TEST(Beta, MonotoneOnAVeryFineGrid) {
  // Consecutive u a few ulps apart across the whole range, including table node boundaries.
  const Distribution d = Distribution::pert(0.3, 0.5, 0.8);
  double prev = -kInf;
  for (int i = 1; i < 400000; ++i) {
    const double u = i / 400000.0;
    const double q = d.quantile(u);
    ASSERT_GE(q, prev) << "u = " << u;
    prev = q;
  }
}

TEST(Normal, UntruncatedMatchesBoost) {
  for (auto [m, s] : std::vector<std::pair<double, double>>{{0, 1}, {100, 15}, {-3, 1e-3}, {1e6, 2e5}}) {
    const Distribution d = Distribution::normal(m, s, -kInf, kInf);
    EXPECT_EQ(d.kind(), DistKind::Normal);
    check_continuous(d, boost_normal(m, s));
    EXPECT_EQ(d.support_min(), -kInf);
    EXPECT_EQ(d.support_max(), kInf);
    EXPECT_EQ(d.mean(), m);
  }
}

TEST(Normal, TruncatedMatchesBoost) {
  struct P { double mean, sd, lo, hi; };
  for (const P& p : std::vector<P>{{0.3, 0.1, 0, kInf},
                                   {0, 1, -1, 2},
                                   {0, 1, 8, kInf},  // far upper tail
                                   {0, 1, -kInf, -8},  // far lower tail
                                   {0, 1, 30, kInf},
                                   {0, 1, -kInf, -30},
                                   {5, 2, 6, 7},
                                   {0, 1, 3, 3.5},
                                   {0, 1, -3.5, -3},
                                   {10, 3, -kInf, 12},
                                   {1e5, 5e4, 0, kInf}}) {
    const Distribution d = Distribution::normal(p.mean, p.sd, p.lo, p.hi);
    check_continuous(d, boost_truncated_normal(p.mean, p.sd, p.lo, p.hi));
    EXPECT_EQ(d.support_min(), p.lo);
    EXPECT_EQ(d.support_max(), p.hi);
  }
}

TEST(Normal, FarTailTruncationStaysFiniteAndInside) {
  const Distribution d = Distribution::normal(0, 1, 8, kInf);
  for (double u : {1e-300, 1e-12, 0.5, 1 - 1e-12, std::nextafter(1.0, 0.0)}) {
    const double q = d.quantile(u);
    EXPECT_TRUE(std::isfinite(q));
    EXPECT_GE(q, 8.0);
  }
  EXPECT_NEAR(d.quantile(0.5), 8.0 + std::log(2.0) / 8.12, 0.01);  // ~ exponential tail
}

TEST(Lognormal, InverseMatchesBoost) {
  for (auto [med, s] : std::vector<std::pair<double, double>>{{85, 0.1}, {1, 1}, {1e-3, 2.5}, {5e6, 0.3}}) {
    const Distribution d = Distribution::lognormal(med, s);
    EXPECT_EQ(d.kind(), DistKind::Lognormal);
    check_continuous(d, boost_lognormal(med, s));
    EXPECT_EQ(d.support_min(), 0.0);
    EXPECT_EQ(d.support_max(), kInf);
    EXPECT_NEAR(d.quantile(0.5), med, 1e-14 * med);
  }
  // Huge sigma: still finite at both ends.
  const Distribution wide = Distribution::lognormal(1, 40);
  for (double u : kExtremeU) {
    EXPECT_TRUE(std::isfinite(wide.quantile(u))) << u;
    EXPECT_GE(wide.quantile(u), 0.0);
  }
}

// ------------------------------------------------------------------------------------------
// Discrete and Bernoulli: generalized inverse, F(Q(u)) >= u > F(Q(u)-).

struct Pmf {
  std::vector<double> values, probs;
  // Reference CDF: probabilities of values <= x (or < x), summed in ascending value order and
  // normalised by the total, as the implementation does.
  double F(double x, bool strict) const {
    std::vector<std::size_t> order(values.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](auto i, auto j) { return values[i] < values[j]; });
    double total = 0.0, acc = 0.0;
    for (double p : probs) total += p;
    for (std::size_t k : order)
      if (strict ? values[k] < x : values[k] <= x) acc += probs[k];
    return std::min(acc / total, 1.0);
  }
};

void check_generalized_inverse(const Distribution& d, const Pmf& pmf) {
  SCOPED_TRACE(d.describe());
  std::vector<double> us = u_grid();
  for (double u : us) {
    const double q = d.quantile(u);
    EXPECT_TRUE(std::find(pmf.values.begin(), pmf.values.end(), q) != pmf.values.end()) << q;
    EXPECT_GE(pmf.F(q, false), u) << "u = " << u << " Q = " << q;
    EXPECT_LT(pmf.F(q, true), u) << "u = " << u << " Q = " << q;
    EXPECT_GE(d.cdf(q), u);
    EXPECT_GE(q, d.support_min());
    EXPECT_LE(q, d.support_max());
  }
  std::sort(us.begin(), us.end());
  double prev = -kInf;
  for (double u : us) {
    const double q = d.quantile(u);
    EXPECT_GE(q, prev);
    prev = q;
  }
  us.insert(us.end(), kExtremeU.begin(), kExtremeU.end());
  expect_batch_matches_scalar(d, us);
}

TEST(Discrete, GeneralizedInverse) {
  for (const Pmf& pmf : std::vector<Pmf>{{{3, 1, 2}, {0.2, 0.5, 0.3}},
                                         {{0, 1, 2, 3}, {0, 0.5, 0, 0.5}},  // zero-probability values
                                         {{1, 1, 2}, {0.25, 0.25, 0.5}},    // repeated value
                                         {{7}, {1}},
                                         {{-1e6, 5, 1e-3, 42}, {0.1, 0.2, 0.3, 0.4 - 5e-10}},
                                         {{10, 20, 30, 40, 50}, {0.1, 0.1, 0.1, 0.1, 0.6}}}) {
    const Distribution d = Distribution::discrete(pmf.values, pmf.probs);
    EXPECT_EQ(d.kind(), DistKind::Discrete);
    check_generalized_inverse(d, pmf);
  }
}

TEST(Discrete, SupportMeanCdfAndDescription) {
  const Distribution d = Distribution::discrete({3, 0, 1, 2}, {0, 0, 0.25, 0.75});
  EXPECT_EQ(d.support_min(), 1.0);  // values with probability 0 are never drawn
  EXPECT_EQ(d.support_max(), 2.0);
  EXPECT_DOUBLE_EQ(d.mean(), 1.75);
  EXPECT_EQ(d.cdf(0.5), 0.0);
  EXPECT_EQ(d.cdf(1.0), 0.25);
  EXPECT_EQ(d.cdf(1.5), 0.25);
  EXPECT_EQ(d.cdf(2.0), 1.0);
  EXPECT_EQ(d.quantile(0.25), 1.0);
  EXPECT_EQ(d.quantile(std::nextafter(0.25, 1.0)), 2.0);
  EXPECT_EQ(d.describe(), "discrete(values=[0, 1, 2, 3], probs=[0, 0.25, 0.75, 0])");
  const Distribution m = Distribution::discrete({2, 1, 2}, {0.3, 0.4, 0.3});
  EXPECT_EQ(m.describe(), "discrete(values=[1, 2], probs=[0.4, 0.6])");
  EXPECT_DOUBLE_EQ(m.mean(), 1.6);
}

TEST(Bernoulli, GeneralizedInverse) {
  for (double p : {0.3, 0.0, 1.0, 0.999, 1e-6, 0.5}) {
    const Distribution d = Distribution::bernoulli(p);
    EXPECT_EQ(d.kind(), DistKind::Bernoulli);
    check_generalized_inverse(d, Pmf{{0, 1}, {1 - p, p}});
    EXPECT_EQ(d.mean(), p);
  }
  const Distribution d = Distribution::bernoulli(0.3);
  EXPECT_EQ(d.quantile(0.7), 0.0);
  EXPECT_EQ(d.quantile(std::nextafter(0.7, 1.0)), 1.0);
  EXPECT_EQ(d.support_min(), 0.0);
  EXPECT_EQ(d.support_max(), 1.0);
  EXPECT_EQ(Distribution::bernoulli(0.0).support_max(), 0.0);
  EXPECT_EQ(Distribution::bernoulli(1.0).support_min(), 1.0);
  EXPECT_EQ(d.describe(), "bernoulli(p=0.3)");
}

TEST(Constant, AlwaysTheValue) {
  const Distribution d = Distribution::constant(2.5);
  EXPECT_TRUE(d.is_constant());
  EXPECT_EQ(d.kind(), DistKind::Constant);
  for (double u : u_grid()) EXPECT_EQ(d.quantile(u), 2.5);
  expect_batch_matches_scalar(d, u_grid());
  EXPECT_EQ(d.support_min(), 2.5);
  EXPECT_EQ(d.support_max(), 2.5);
  EXPECT_EQ(d.mean(), 2.5);
  EXPECT_EQ(d.cdf(2.4), 0.0);
  EXPECT_EQ(d.cdf(2.5), 1.0);
  EXPECT_EQ(d.describe(), "constant(value=2.5)");
  EXPECT_FALSE(Distribution::uniform(0, 1).is_constant());
}

// ------------------------------------------------------------------------------------------
// Means: closed forms against the integral of the quantile (midpoint rule in u).

double integrate_quantile(const Distribution& d, int n = 400000) {
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += d.quantile((i + 0.5) / n);
  return s / n;
}

TEST(Means, ClosedFormsMatchTheQuantileIntegral) {
  EXPECT_DOUBLE_EQ(Distribution::pert(0.3, 0.5, 0.8).mean(), (0.3 + 4 * 0.5 + 0.8) / 6);
  EXPECT_DOUBLE_EQ(Distribution::pert(0, 1, 10, 20).mean(), (0 + 20 * 1 + 10) / 22.0);
  EXPECT_DOUBLE_EQ(Distribution::triangular(1, 3, 5).mean(), 3.0);
  EXPECT_DOUBLE_EQ(Distribution::uniform(-5, 3).mean(), -1.0);
  EXPECT_DOUBLE_EQ(Distribution::beta(2, 5, 10, 20).mean(), 10 + 10 * 2.0 / 7);
  EXPECT_DOUBLE_EQ(Distribution::lognormal(85, 0.1).mean(), 85 * std::exp(0.005));
  EXPECT_NEAR(Distribution::normal(0, 1, 0, kInf).mean(), std::sqrt(2 / std::numbers::pi), 1e-15);
  const std::vector<Distribution> ds = {
      Distribution::pert(0.3, 0.5, 0.8),      Distribution::pert(0, 50, 100, 4),
      Distribution::beta(0.5, 3),             Distribution::beta(2, 5, 10, 20),
      Distribution::triangular(0, 0, 1),      Distribution::normal(0.3, 0.1, 0, kInf),
      Distribution::normal(0, 1, 8, kInf),    Distribution::normal(0, 1, -kInf, -8),
      Distribution::normal(5, 2, 6, 7),       Distribution::lognormal(85, 0.1),
      Distribution::uniform(0.1, 0.14)};
  for (const Distribution& d : ds) {
    const double spread = d.quantile(0.99) - d.quantile(0.01);
    EXPECT_NEAR(d.mean(), integrate_quantile(d), 1e-5 * spread) << d.describe();
  }
}

// ------------------------------------------------------------------------------------------
// Descriptions.

TEST(Describe, ShortestRoundTripNumbers) {
  EXPECT_EQ(Distribution::uniform(0.1, 0.14).describe(), "uniform(min=0.1, max=0.14)");
  EXPECT_EQ(Distribution::triangular(4.5e6, 5e6, 5.6e6).describe(),
            "triangular(min=4500000, mode=5000000, max=5600000)");
  EXPECT_EQ(Distribution::normal(0, 1, 8, kInf).describe(), "normal(mean=0, sd=1, min=8)");
  EXPECT_EQ(Distribution::normal(0, 1, -kInf, kInf).describe(), "normal(mean=0, sd=1)");
  EXPECT_EQ(Distribution::normal(0.3, 0.1, 0, 1).describe(), "normal(mean=0.3, sd=0.1, min=0, max=1)");
  EXPECT_EQ(Distribution::lognormal(85, 0.1).describe(), "lognormal(median=85, sigma=0.1)");
  EXPECT_EQ(Distribution::beta(2, 5).describe(), "beta(alpha=2, beta=5)");
  EXPECT_EQ(Distribution::beta(2, 5, 10, 20).describe(), "beta(alpha=2, beta=5, min=10, max=20)");
  EXPECT_EQ(Distribution::pert(1e-5, 0.1 + 0.2, 1e20).describe(),
            "pert(min=1e-05, mode=0.30000000000000004, max=1e+20, lambda=4)");
}

// ------------------------------------------------------------------------------------------
// Parameter validation.

// The message of the ParameterError that f throws ("" when it throws nothing).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const roisim::ParameterError& e) {
    return e.what();
  }
  return "";
}

TEST(Validation, ExactMessages) {
  EXPECT_EQ(error_of([] { Distribution::triangular(1, 7, 5); }),
            "triangular: mode 7 is outside [min, max] = [1, 5]");
  EXPECT_EQ(error_of([] { Distribution::uniform(3, 2); }), "uniform: min 3 must be less than max 2");
  EXPECT_EQ(error_of([] { Distribution::normal(0, -1, -kInf, kInf); }), "normal: sd must be > 0 (got -1)");
  EXPECT_EQ(error_of([] { Distribution::discrete({1, 2}, {0.5, 0.4}); }), "discrete: probs sum to 0.9, not 1");
  EXPECT_EQ(error_of([] { Distribution::bernoulli(1.5); }), "bernoulli: p must be in [0, 1] (got 1.5)");
  EXPECT_EQ(error_of([] { Distribution::discrete({1, 2}, {1}); }), "discrete: values and probs differ in length");
  EXPECT_EQ(error_of([] { Distribution::discrete({}, {}); }), "discrete: values is empty");
  EXPECT_EQ(error_of([] { Distribution::pert(0, 1, 2, 0); }), "pert: lambda must be > 0 (got 0)");
  EXPECT_EQ(error_of([] { Distribution::pert(0, 3, 2); }), "pert: mode 3 is outside [min, max] = [0, 2]");
  EXPECT_EQ(error_of([] { Distribution::pert(2, 2, 2); }), "pert: min 2 must be less than max 2");
  EXPECT_EQ(error_of([] { Distribution::beta(0, 1); }), "beta: alpha must be > 0 (got 0)");
  EXPECT_EQ(error_of([] { Distribution::beta(1, -2); }), "beta: beta must be > 0 (got -2)");
  EXPECT_EQ(error_of([] { Distribution::beta(1, 2, 1, 0); }), "beta: min 1 must be less than max 0");
  // Shapes beyond the table's proven range (alpha 1e-14 had given a median of 1; 1e-18 and pert's
  // lambda 1e306 an internal error "cannot create std::vector larger than max_size()").
  EXPECT_EQ(error_of([] { Distribution::beta(1e-18, 1); }),
            "beta: alpha must be from 0.001 to 1000000 (got 1e-18): roisim's quantile table is exact only within that "
            "range (such a shape is nearly a point mass: a constant or a discrete input stands for it)");
  const std::string big = error_of([] { Distribution::beta(2, 1e15); }), small = error_of([] { Distribution::beta(9.99e-4, 1); });
  EXPECT_EQ(big.substr(0, big.find(')') + 1), "beta: beta must be from 0.001 to 1000000 (got 1000000000000000)");
  EXPECT_EQ(small.substr(0, small.find(')') + 1), "beta: alpha must be from 0.001 to 1000000 (got 0.000999)");
  EXPECT_EQ(error_of([] { Distribution::pert(0, 0.5, 1, 1e306); }),
            "pert: lambda must be at most 1000000 (got 1e+306): roisim's quantile table is exact only up to it (such a pert "
            "is nearly a point at its mode: a constant stands for it)");
  EXPECT_NO_THROW(Distribution::pert(0, 0.5, 1, 1e6).quantile(0.5));
  EXPECT_EQ(error_of([] { Distribution::lognormal(-1, 1); }), "lognormal: median must be > 0 (got -1)");
  EXPECT_EQ(error_of([] { Distribution::lognormal(1, 0); }), "lognormal: sigma must be > 0 (got 0)");
  EXPECT_EQ(error_of([] { Distribution::normal(0, 1, 2, 1); }), "normal: min 2 must be less than max 1");
  EXPECT_EQ(error_of([] { Distribution::uniform(std::nan(""), 1); }), "uniform: min must be finite (got nan)");
  EXPECT_EQ(error_of([] { Distribution::constant(kInf); }), "constant: value must be finite (got inf)");
  EXPECT_EQ(error_of([] { Distribution::normal(0, kInf, -kInf, kInf); }), "normal: sd must be finite (got inf)");
  EXPECT_EQ(error_of([] { Distribution::discrete({1, 2}, {-0.5, 1.5}); }),
            "discrete: probs[0] must be >= 0 (got -0.5)");
  EXPECT_EQ(error_of([] { Distribution::discrete({1, kInf}, {0.5, 0.5}); }),
            "discrete: values[1] must be finite (got inf)");
  EXPECT_EQ(error_of([] { Distribution::bernoulli(std::nan("")); }), "bernoulli: p must be in [0, 1] (got nan)");
  EXPECT_EQ(error_of([] { Distribution::triangular(5, 5, 5); }), "triangular: min 5 must be less than max 5");
}

TEST(Validation, EveryInvalidParameterThrows) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  using roisim::ParameterError;
  // constant
  EXPECT_THROW(Distribution::constant(nan), ParameterError);
  EXPECT_THROW(Distribution::constant(-kInf), ParameterError);
  // uniform
  EXPECT_THROW(Distribution::uniform(1, 1), ParameterError);
  EXPECT_THROW(Distribution::uniform(0, kInf), ParameterError);
  EXPECT_THROW(Distribution::uniform(-kInf, 0), ParameterError);
  EXPECT_THROW(Distribution::uniform(0, nan), ParameterError);
  EXPECT_THROW(Distribution::uniform(-1e308, 1e308), ParameterError);  // width overflows
  // triangular
  EXPECT_THROW(Distribution::triangular(0, -1, 1), ParameterError);
  EXPECT_THROW(Distribution::triangular(0, 2, 1), ParameterError);
  EXPECT_THROW(Distribution::triangular(1, 1, 0), ParameterError);
  EXPECT_THROW(Distribution::triangular(0, nan, 1), ParameterError);
  EXPECT_THROW(Distribution::triangular(0, 0.5, kInf), ParameterError);
  // pert
  EXPECT_THROW(Distribution::pert(0, 0.5, 1, -1), ParameterError);
  EXPECT_THROW(Distribution::pert(0, 0.5, 1, kInf), ParameterError);
  EXPECT_THROW(Distribution::pert(0, 0.5, 1, nan), ParameterError);
  EXPECT_THROW(Distribution::pert(0, -0.5, 1), ParameterError);
  EXPECT_THROW(Distribution::pert(1, 0.5, 0), ParameterError);
  EXPECT_THROW(Distribution::pert(nan, 0.5, 1), ParameterError);
  // normal
  EXPECT_THROW(Distribution::normal(0, 0, -kInf, kInf), ParameterError);
  EXPECT_THROW(Distribution::normal(0, nan, -kInf, kInf), ParameterError);
  EXPECT_THROW(Distribution::normal(nan, 1, -kInf, kInf), ParameterError);
  EXPECT_THROW(Distribution::normal(kInf, 1, -kInf, kInf), ParameterError);
  EXPECT_THROW(Distribution::normal(0, 1, nan, kInf), ParameterError);
  EXPECT_THROW(Distribution::normal(0, 1, 0, nan), ParameterError);
  EXPECT_THROW(Distribution::normal(0, 1, 1, 1), ParameterError);
  EXPECT_THROW(Distribution::normal(0, 1, kInf, kInf), ParameterError);
  EXPECT_THROW(Distribution::normal(0, 1, 40, kInf), ParameterError);  // no probability in doubles
  // lognormal
  EXPECT_THROW(Distribution::lognormal(0, 1), ParameterError);
  EXPECT_THROW(Distribution::lognormal(kInf, 1), ParameterError);
  EXPECT_THROW(Distribution::lognormal(1, -1), ParameterError);
  EXPECT_THROW(Distribution::lognormal(1, nan), ParameterError);
  // beta
  EXPECT_THROW(Distribution::beta(-1, 1), ParameterError);
  EXPECT_THROW(Distribution::beta(1, 0), ParameterError);
  EXPECT_THROW(Distribution::beta(kInf, 1), ParameterError);
  EXPECT_THROW(Distribution::beta(1, 1, 0, 0), ParameterError);
  EXPECT_THROW(Distribution::beta(1, 1, 0, kInf), ParameterError);
  // discrete
  EXPECT_THROW(Distribution::discrete({}, {1}), ParameterError);
  EXPECT_THROW(Distribution::discrete({1, 2, 3}, {0.5, 0.5}), ParameterError);
  EXPECT_THROW(Distribution::discrete({1, 2}, {0.5, 0.6}), ParameterError);
  EXPECT_THROW(Distribution::discrete({1, 2}, {0.5, 0.5 + 2e-9}), ParameterError);
  EXPECT_THROW(Distribution::discrete({1, 2}, {nan, 1}), ParameterError);
  EXPECT_THROW(Distribution::discrete({nan, 2}, {0.5, 0.5}), ParameterError);
  EXPECT_THROW(Distribution::discrete({1, 2}, {0, 0}), ParameterError);
  EXPECT_NO_THROW(Distribution::discrete({1, 2}, {0.5, 0.5 + 5e-10}));  // within 1e-9
  // bernoulli
  EXPECT_THROW(Distribution::bernoulli(-0.1), ParameterError);
  EXPECT_THROW(Distribution::bernoulli(kInf), ParameterError);
  // ParameterError is a roisim::Error (and a std::runtime_error).
  EXPECT_THROW(Distribution::uniform(1, 0), roisim::Error);
  EXPECT_THROW(Distribution::uniform(1, 0), std::runtime_error);
}

}  // namespace

// pert/beta tables are built once, on first use or by prepare(), and shared by copies: many threads
// asking a fresh distribution (and its copies) at once all get the bits of one prepared beforehand.
TEST(Distributions, TablesBuiltOnceOnFirstUseFromManyThreads) {
  for (int kind = 0; kind < 2; ++kind) {
    auto make = [&] {
      return kind == 0 ? roisim::Distribution::pert(0.2, 0.3, 0.5, 4.0) : roisim::Distribution::beta(0.7, 3.5, 10, 20);
    };
    const roisim::Distribution ref = make();
    ref.prepare();
    std::vector<double> u(4096);
    for (std::size_t i = 0; i < u.size(); ++i) u[i] = (static_cast<double>(i) + 0.5) / static_cast<double>(u.size());
    std::vector<double> want(u.size());
    ref.quantile(u.data(), want.data(), u.size());
    const roisim::Distribution fresh = make();
    std::vector<roisim::Distribution> copies(8, fresh);
    std::vector<std::vector<double>> got(8, std::vector<double>(u.size()));
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        if (t % 2) copies[t].quantile(u.data(), got[t].data(), u.size());
        else for (std::size_t i = 0; i < u.size(); ++i) got[t][i] = copies[t].quantile(u[i]);
      });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 8; ++t)
      EXPECT_EQ(std::memcmp(got[t].data(), want.data(), want.size() * sizeof(double)), 0) << "kind " << kind << " thread " << t;
  }
}
