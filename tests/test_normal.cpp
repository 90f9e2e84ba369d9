// normal_cdf and normal_quantile (AS241) against Boost.Math.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <boost/math/distributions/normal.hpp>

#include "sim/normal.h"

namespace {

using roisim::normal_cdf;
using roisim::normal_quantile;

double boost_quantile(double p) { return boost::math::quantile(boost::math::normal_distribution<double>(), p); }
double boost_cdf(double z) { return boost::math::cdf(boost::math::normal_distribution<double>(), z); }

double rel_err(double a, double b) {
  if (a == b) return 0.0;
  return std::fabs(a - b) / std::max(std::fabs(a), std::fabs(b));
}

TEST(NormalQuantile, CentralRegionMatchesBoostTo1e15) {
  // |p - 0.5| <= 0.425: the first rational approximation.
  std::mt19937_64 gen(12345);
  std::uniform_real_distribution<double> unif(0.075, 0.925);
  std::vector<double> ps = {0.075, 0.1, 0.2, 0.25, 0.3, 0.4, 0.45, 0.49, 0.499999, 0.5000001,
                            0.51, 0.6, 0.7, 0.75, 0.8, 0.9, 0.925};
  for (int i = 0; i < 5000; ++i) ps.push_back(unif(gen));
  for (double p : ps) {
    const double z = normal_quantile(p), ref = boost_quantile(p);
    EXPECT_LE(rel_err(z, ref), 1e-15) << "p = " << p << " z = " << z << " boost = " << ref;
  }
  EXPECT_EQ(normal_quantile(0.5), 0.0);
}

TEST(NormalQuantile, TailsMatchBoost) {
  std::vector<double> ps = {1e-300, 1e-200, 1e-100, 1e-50, 1e-30, 1e-20, 1e-16, 1e-12, 1e-9,
                            1e-6,   1e-4,   1e-3,   0.01,  0.05,  0.07,  0.074};
  std::mt19937_64 gen(777);
  std::uniform_real_distribution<double> expo(-300.0, std::log10(0.075));
  for (int i = 0; i < 3000; ++i) ps.push_back(std::pow(10.0, expo(gen)));
  for (double p : ps) {
    const double z = normal_quantile(p), ref = boost_quantile(p);
    EXPECT_LE(rel_err(z, ref), 4e-16 * 8) << "p = " << p;
    // Upper tail: 1 - p is exact when p is a small power-of-two multiple; use q = 1 - p as given.
    const double q = 1.0 - p;
    if (q < 1.0) {
      const double zu = normal_quantile(q), refu = boost_quantile(q);
      EXPECT_LE(rel_err(zu, refu), 4e-16 * 8) << "q = " << q;
    }
  }
}

TEST(NormalQuantile, EndpointsAndSymmetry) {
  EXPECT_EQ(normal_quantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile(1.0), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isfinite(normal_quantile(std::numeric_limits<double>::denorm_min())));
  EXPECT_TRUE(std::isfinite(normal_quantile(std::nextafter(1.0, 0.0))));
  EXPECT_LT(normal_quantile(std::numeric_limits<double>::denorm_min()), -38.0);
  // Exactly representable complements: Phi^{-1}(1 - p) = -Phi^{-1}(p).
  for (double p : {0.5, 0.25, 0.125, 0.0625, 0.03125, 1.0 / 1024, 1.0 / 65536}) {
    EXPECT_EQ(normal_quantile(1.0 - p), -normal_quantile(p)) << p;
  }
  // Known values.
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-15);
  EXPECT_NEAR(normal_quantile(0.9), 1.2815515655446004, 1e-15);
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-14);
}

TEST(NormalQuantile, MonotoneOnAFineGrid) {
  double prev = -std::numeric_limits<double>::infinity();
  for (int i = 1; i < 200000; ++i) {
    const double p = i / 200000.0;
    const double z = normal_quantile(p);
    EXPECT_GE(z, prev) << "p = " << p;
    prev = z;
  }
  // Across the branch points 0.075 / 0.425 and r = 5 (p = exp(-25)).
  for (double centre : {0.075, 0.925, std::exp(-25.0), 1.0 - std::exp(-25.0)}) {
    double x = centre;
    for (int k = 0; k < 64; ++k) x = std::nextafter(x, 0.0);
    double last = normal_quantile(x);
    for (int k = 0; k < 128; ++k) {
      x = std::nextafter(x, 1.0);
      const double z = normal_quantile(x);
      EXPECT_GE(z, last) << "p = " << x;
      last = z;
    }
  }
}

TEST(NormalCdf, MatchesExtendedPrecisionReference) {
  // Reference in long double (64-bit significand): Phi(z) = erfc(-z / sqrt(2)) / 2.
  const long double rsqrt2 = 0.707106781186547524400844362104849039L;
  for (double z = -37.5; z <= 8.5; z += 0.01) {
    const double ref = static_cast<double>(0.5L * std::erfc(-static_cast<long double>(z) * rsqrt2));
    EXPECT_LE(rel_err(normal_cdf(z), ref), 1e-15) << "z = " << z;
  }
}

TEST(NormalCdf, MatchesBoost) {
  // Boost rounds z / sqrt(2) to double first, which costs it about 2 (z^2 / 2) eps relative.
  for (double z = -37.5; z <= 8.5; z += 0.01) {
    const double f = normal_cdf(z), ref = boost_cdf(z);
    EXPECT_LE(rel_err(f, ref), 2.3e-16 * (2.0 + z * z)) << "z = " << z;
  }
  EXPECT_EQ(normal_cdf(0.0), 0.5);
  EXPECT_EQ(normal_cdf(-std::numeric_limits<double>::infinity()), 0.0);
  EXPECT_EQ(normal_cdf(std::numeric_limits<double>::infinity()), 1.0);
  EXPECT_GT(normal_cdf(-37.0), 0.0);
  EXPECT_TRUE(std::isnan(normal_cdf(std::numeric_limits<double>::quiet_NaN())));
}

TEST(NormalCdf, RoundTripsTheQuantile) {
  std::vector<double> ps = {1e-300, 1e-100, 1e-30, 1e-12, 1e-9, 1e-6, 0.001, 0.01, 0.1, 0.3,
                            0.5,    0.7,    0.9,   0.99,  0.999};
  for (double p : ps) {
    const double back = normal_cdf(normal_quantile(p));
    // d Phi / Phi = z * dz: the relative error grows with |z| (|z| <= 37 here).
    const double z = std::fabs(normal_quantile(p));
    EXPECT_LE(rel_err(back, p), 2e-15 * (1.0 + z * z)) << "p = " << p;
  }
  for (double p : {1e-12, 1e-9, 1e-6, 0.001}) {
    const double q = 1.0 - p;
    EXPECT_NEAR(normal_cdf(normal_quantile(q)), q, 1e-15) << "q = " << q;
  }
}

}  // namespace
