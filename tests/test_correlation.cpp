// Tests of the Gaussian copula (SPEC §3): Spearman <-> Pearson, nearest correlation matrix,
// positive semi-definiteness errors, singular matrices, imposed rank correlation.
#include "sim/correlation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "sim/errors.h"

namespace roisim {
namespace {

Eigen::MatrixXd three_by_three(double ab, double bc, double ac) {
  Eigen::MatrixXd m(3, 3);
  m << 1, ab, ac,  //
      ab, 1, bc,   //
      ac, bc, 1;
  return m;
}

// The thrown CorrelationError's message ("" if none is thrown).
std::string error_message(const Eigen::MatrixXd& m, std::vector<std::string> names) {
  try {
    GaussianCopula c(m, std::move(names), false);
  } catch (const CorrelationError& e) {
    return e.what();
  }
  return "";
}

// Ranks 0..n-1 of x (continuous data: no ties).
std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return x[i] < x[j]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < order.size(); ++i) r[order[i]] = static_cast<double>(i);
  return r;
}

// Sample Spearman correlation: Pearson correlation of the ranks.
double sample_spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const auto rx = ranks(x), ry = ranks(y);
  const double n = static_cast<double>(x.size());
  const double mean = (n - 1) / 2;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(SpearmanPearson, RoundTripAndKnownValues) {
  for (double r = -1.0; r <= 1.0 + 1e-12; r += 0.01) {
    const double rs = std::clamp(r, -1.0, 1.0);
    const double p = spearman_to_pearson(rs);
    EXPECT_NEAR(p, 2 * std::sin(M_PI * rs / 6), 1e-15);
    EXPECT_GE(std::abs(p), std::abs(rs) - 1e-15);  // the Pearson form is stronger
    EXPECT_NEAR(pearson_to_spearman(p), rs, 1e-14) << rs;
  }
  EXPECT_EQ(spearman_to_pearson(0.0), 0.0);
  EXPECT_EQ(spearman_to_pearson(1.0), 1.0);
  EXPECT_EQ(spearman_to_pearson(-1.0), -1.0);
  EXPECT_EQ(pearson_to_spearman(1.0), 1.0);
  EXPECT_EQ(pearson_to_spearman(-1.0), -1.0);
  EXPECT_NEAR(spearman_to_pearson(0.5), 2 * std::sin(M_PI / 12), 1e-16);
}

TEST(SmallestEigenvalue, KnownMatrix) {
  // [[1, x, -x], [x, 1, x], [-x, x, 1]] has eigenvalues 1 - 2x and 1 + x (twice).
  EXPECT_NEAR(smallest_eigenvalue(three_by_three(0.9, 0.9, -0.9)), -0.8, 1e-14);
  EXPECT_NEAR(smallest_eigenvalue(three_by_three(0.3, 0.3, -0.3)), 0.4, 1e-14);
}

TEST(NearestCorrelation, HighamExample) {
  // Higham (2002), section 4: A = [[1,1,0],[1,1,1],[0,1,1]].
  Eigen::MatrixXd a(3, 3);
  a << 1, 1, 0, 1, 1, 1, 0, 1, 1;
  const Eigen::MatrixXd x = nearest_correlation(a);
  Eigen::MatrixXd expected(3, 3);
  expected << 1, 0.7607, 0.1573, 0.7607, 1, 0.7607, 0.1573, 0.7607, 1;
  EXPECT_LT((x - expected).cwiseAbs().maxCoeff(), 1e-4) << x;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(x(i, i), 1.0);
  EXPECT_EQ(x, x.transpose());
  EXPECT_GE(smallest_eigenvalue(x), 0.99e-10);
  Eigen::LLT<Eigen::MatrixXd> llt(x);
  EXPECT_EQ(llt.info(), Eigen::Success);
}

TEST(NearestCorrelation, LargerIndefiniteMatrix) {
  // A 6x6 "correlation" matrix with inconsistent entries; the result must be a valid correlation
  // matrix, closer to the input than, say, the identity.
  Eigen::MatrixXd a(6, 6);
  a << 1, 0.9, 0.8, -0.7, 0.2, 0.5,  //
      0.9, 1, -0.6, 0.7, 0.1, 0.4,   //
      0.8, -0.6, 1, 0.9, -0.3, 0.0,  //
      -0.7, 0.7, 0.9, 1, 0.6, -0.2,  //
      0.2, 0.1, -0.3, 0.6, 1, 0.95,  //
      0.5, 0.4, 0.0, -0.2, 0.95, 1;
  ASSERT_LT(smallest_eigenvalue(a), -0.1);
  const Eigen::MatrixXd x = nearest_correlation(a, 1e-8);
  EXPECT_EQ(x, x.transpose());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(x(i, i), 1.0);
  EXPECT_GE(smallest_eigenvalue(x), 0.99e-8);
  EXPECT_LE(x.cwiseAbs().maxCoeff(), 1.0);
  EXPECT_LT((x - a).norm(), (Eigen::MatrixXd::Identity(6, 6) - a).norm());
  // Stationarity check: nudging towards the input must not help while staying feasible
  // (X optimal iff <A - X, Y - X> <= 0 for every correlation matrix Y; try a few).
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unif(-1, 1);
  for (int trial = 0; trial < 20; ++trial) {
    Eigen::MatrixXd g(6, 6);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j) g(i, j) = unif(rng);
    Eigen::MatrixXd y = g * g.transpose();
    const Eigen::VectorXd s = y.diagonal().cwiseSqrt().cwiseInverse();
    y = s.asDiagonal() * y * s.asDiagonal();
    EXPECT_LE(((a - x).cwiseProduct(y - x)).sum(), 1e-6);
  }
}

TEST(NearestCorrelation, PsdMatrixUnchanged) {
  const Eigen::MatrixXd a = three_by_three(0.5, 0.3, -0.2);
  const Eigen::MatrixXd x = nearest_correlation(a);
  EXPECT_EQ(x, a);
  const Eigen::MatrixXd id = Eigen::MatrixXd::Identity(4, 4);
  EXPECT_EQ(nearest_correlation(id), id);
}

TEST(GaussianCopula, NotPsdErrorMessage) {
  // Eigenvalue 1 - 2 * 0.9 = -0.8 with eigenvector (1, -1, 1) / sqrt(3): all three inputs.
  EXPECT_EQ(error_message(three_by_three(0.9, 0.9, -0.9), {"a", "b", "c"}),
            "correlation matrix is not positive semi-definite (smallest eigenvalue -0.8) "
            "among a, b, c");
}

TEST(GaussianCopula, NotPsdErrorNamesOnlyTheInputsInvolved) {
  // Inputs a, b, c inconsistent as above (x = 0.7, eigenvalue -0.4); d and e independent of
  // them and of each other, so the eigenvector has no weight on d or e.
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(5, 5);
  m.block(1, 1, 3, 3) = three_by_three(0.7, 0.7, -0.7);
  EXPECT_EQ(error_message(m, {"d", "a", "b", "c", "e"}),
            "correlation matrix is not positive semi-definite (smallest eigenvalue -0.4) "
            "among a, b, c");
}

TEST(GaussianCopula, NotPsdOnlyInPearsonForm) {
  // Spearman: eigenvalue 1 - 2 * 0.499 = 0.002 >= 0. Pearson: 2 sin(pi 0.499 / 6) = 0.516627,
  // eigenvalue 1 - 2 * 0.516627 = -0.033253.
  const Eigen::MatrixXd m = three_by_three(0.499, 0.499, -0.499);
  ASSERT_GT(smallest_eigenvalue(m), 0.0);
  const double lambda = 1 - 2 * spearman_to_pearson(0.499);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", lambda);
  EXPECT_EQ(std::string(buf), "-0.03325");
  EXPECT_EQ(error_message(m, {"x", "y", "z"}),
            "correlation matrix is not positive semi-definite (smallest eigenvalue -0.03325) "
            "among x, y, z (in its Pearson form for the Gaussian copula)");
}

TEST(GaussianCopula, InvalidMatrices) {
  Eigen::MatrixXd rect(2, 3);
  rect.setZero();
  EXPECT_THROW(GaussianCopula(rect, {"a", "b"}, false), CorrelationError);
  EXPECT_THROW(GaussianCopula(Eigen::MatrixXd::Identity(2, 2), {"a", "b", "c"}, false),
               CorrelationError);
  Eigen::MatrixXd asym = three_by_three(0.5, 0.1, 0.1);
  asym(1, 0) = 0.4;
  EXPECT_EQ(error_message(asym, {"a", "b", "c"}),
            "correlation matrix is not symmetric: a/b is 0.5 but b/a is 0.4");
  Eigen::MatrixXd diag = three_by_three(0.5, 0.1, 0.1);
  diag(2, 2) = 0.9;
  EXPECT_EQ(error_message(diag, {"a", "b", "c"}), "correlation of c with itself is 0.9, not 1");
  EXPECT_EQ(error_message(three_by_three(0.5, 1.2, 0.1), {"a", "b", "c"}),
            "correlation between b and c is 1.2, outside [-1, 1]");
  EXPECT_THROW(GaussianCopula(three_by_three(NAN, 0, 0), {"a", "b", "c"}, false),
               CorrelationError);
  // Repair does not excuse malformed matrices.
  EXPECT_THROW(GaussianCopula(three_by_three(0.5, 1.2, 0.1), {"a", "b", "c"}, true),
               CorrelationError);
}

TEST(GaussianCopula, PsdMatrixIsNotRepaired) {
  const Eigen::MatrixXd m = three_by_three(0.5, 0.3, -0.2);
  GaussianCopula c(m, {"a", "b", "c"}, true);
  EXPECT_FALSE(c.repaired());
  EXPECT_EQ(c.spearman_original(), m);
  EXPECT_EQ(c.spearman_used(), m);
  EXPECT_EQ(c.pearson_used(), m.unaryExpr([](double r) { return spearman_to_pearson(r); }));
  const Eigen::MatrixXd& b = c.factor();
  EXPECT_LT((b * b.transpose() - c.pearson_used()).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_TRUE(b.isLowerTriangular(0.0));
}

TEST(GaussianCopula, RepairNearest) {
  const Eigen::MatrixXd m = three_by_three(0.9, 0.9, -0.9);
  GaussianCopula c(m, {"a", "b", "c"}, true);
  EXPECT_TRUE(c.repaired());
  EXPECT_EQ(c.spearman_original(), m);
  const Eigen::MatrixXd& p = c.pearson_used();
  const Eigen::MatrixXd& s = c.spearman_used();
  EXPECT_GE(smallest_eigenvalue(p), 0.99e-10);
  EXPECT_GE(smallest_eigenvalue(s), 0.0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(p(i, i), 1.0);
    EXPECT_EQ(s(i, i), 1.0);
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(p(i, j), p(j, i));
      if (i != j) {
        EXPECT_EQ(s(i, j), pearson_to_spearman(p(i, j)));
      }
    }
  }
  // Signs kept, magnitudes shrunk.
  EXPECT_GT(s(0, 1), 0.0);
  EXPECT_LT(s(0, 1), 0.9);
  EXPECT_LT(s(0, 2), 0.0);
  const Eigen::MatrixXd& b = c.factor();
  EXPECT_LT((b * b.transpose() - p).cwiseAbs().maxCoeff(), 1e-14);
}

TEST(GaussianCopula, SingularMatrixGivesIdenticalUniforms) {
  // a and b perfectly rank-correlated; c correlated with both.
  const Eigen::MatrixXd m = three_by_three(1.0, 0.4, 0.4);
  GaussianCopula c(m, {"a", "b", "c"}, false);
  EXPECT_FALSE(c.repaired());
  const Eigen::MatrixXd& b = c.factor();
  EXPECT_LT((b * b.transpose() - c.pearson_used()).cwiseAbs().maxCoeff(), 1e-15);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  for (int t = 0; t < 1000; ++t) {
    double u[3] = {unif(rng), unif(rng), unif(rng)};
    c.correlate(u);
    EXPECT_EQ(u[0], u[1]);
    EXPECT_GT(u[2], 0.0);
    EXPECT_LT(u[2], 1.0);
  }
  // Also with rho_s = -1: b is a's mirror image.
  GaussianCopula neg(three_by_three(-1.0, 0.0, 0.0), {"a", "b", "c"}, false);
  for (int t = 0; t < 100; ++t) {
    double u[3] = {unif(rng), unif(rng), unif(rng)};
    c.correlate(u);
    neg.correlate(u);
    EXPECT_NEAR(u[0] + u[1], 1.0, 1e-15);
  }
}

TEST(GaussianCopula, OutputStrictlyInsideUnitInterval) {
  GaussianCopula c(three_by_three(0.9, 0.9, 0.9), {"a", "b", "c"}, false);
  for (double e : {0.0, 1e-300, 0x1p-60, 0.5, 1 - 0x1p-53, 1.0}) {
    double u[3] = {e, e, e};
    c.correlate(u);
    for (double v : u) {
      EXPECT_GT(v, 0.0);
      EXPECT_LT(v, 1.0);
      EXPECT_FALSE(std::isnan(v));
    }
  }
}

// Imposed rank correlation. n = 200,000 independent uniform pairs, correlated with rho_s.
// For a Gaussian copula the sample Spearman r_s has standard error about
// (1 - rho_s^2) sqrt(1 + rho_s^2 / 2) / sqrt(n) (Bonett & Wright 2000: var(atanh r_s) ~
// (1 + r_s^2 / 2) / (n - 3), and d atanh(r)/dr = 1 / (1 - r^2)); at rho_s = 0 it is exactly
// 1 / sqrt(n - 1). We accept |r_s - rho_s| <= 5 SE: 0.0046 at 0.8, 0.0104 at -0.3, which a
// correct copula fails with probability ~6e-7, while a copula that forgot the Spearman-to-Pearson
// conversion would be off by 0.0141 (at 0.8) and 0.0124 (at -0.3), and be caught at both.
// The seed is fixed, so the test is deterministic.
class ImposedSpearman : public ::testing::TestWithParam<double> {};

TEST_P(ImposedSpearman, WithinFiveStandardErrors) {
  const double rho_s = GetParam();
  constexpr std::size_t n = 200000;
  Eigen::MatrixXd m(2, 2);
  m << 1, rho_s, rho_s, 1;
  GaussianCopula c(m, {"x", "y"}, false);
  std::mt19937_64 rng(20240601);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::vector<double> x(n), y(n);
  for (std::size_t t = 0; t < n; ++t) {
    double u[2] = {unif(rng), unif(rng)};
    c.correlate(u);
    x[t] = u[0];
    y[t] = u[1];
  }
  const double se =
      (1 - rho_s * rho_s) * std::sqrt(1 + rho_s * rho_s / 2) / std::sqrt(static_cast<double>(n));
  EXPECT_NEAR(sample_spearman(x, y), rho_s, 5 * se);
  // Marginals stay uniform: mean 1/2, variance 1/12.
  const double mean = std::accumulate(y.begin(), y.end(), 0.0) / n;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12 / n));
}

INSTANTIATE_TEST_SUITE_P(Copula, ImposedSpearman, ::testing::Values(0.8, -0.3));

TEST(GaussianCopula, BlockEqualsPerTrialBitForBit) {
  Eigen::MatrixXd m(4, 4);
  m << 1, 0.6, -0.3, 0.2,  //
      0.6, 1, 0.1, 0.5,    //
      -0.3, 0.1, 1, -0.4,  //
      0.2, 0.5, -0.4, 1;
  // A positive definite matrix (Cholesky), a singular one (LDLT) and a repaired one.
  Eigen::MatrixXd singular = Eigen::MatrixXd::Identity(4, 4);
  singular.block(0, 0, 3, 3) = three_by_three(1.0, 0.4, 0.4);
  singular(3, 1) = singular(1, 3) = 0.2;
  singular(3, 0) = singular(0, 3) = 0.2;
  Eigen::MatrixXd bad = Eigen::MatrixXd::Identity(4, 4);
  bad.block(1, 1, 3, 3) = three_by_three(0.9, 0.9, -0.9);
  const std::vector<std::string> names{"a", "b", "c", "d"};
  for (const auto& [mat, repair] : {std::pair{m, false}, std::pair{singular, false},
                                    std::pair{bad, true}}) {
    GaussianCopula c(mat, names, repair);
    for (std::size_t n : {std::size_t{1}, std::size_t{127}, std::size_t{128}, std::size_t{1000}}) {
      const std::size_t stride = n + 7;
      std::mt19937_64 rng(n);
      std::uniform_real_distribution<double> unif(0.0, 1.0);
      std::vector<double> block(4 * stride);
      for (double& v : block) v = unif(rng);
      block[0] = 0.0;  // edge inputs too
      block[stride] = 1.0;
      std::vector<double> per_trial = block;
      c.correlate_block(block.data(), stride, n);
      for (std::size_t t = 0; t < n; ++t) {
        double u[4];
        for (std::size_t k = 0; k < 4; ++k) u[k] = per_trial[k * stride + t];
        c.correlate(u);
        for (std::size_t k = 0; k < 4; ++k) per_trial[k * stride + t] = u[k];
      }
      // Bit for bit, including the untouched padding between rows.
      EXPECT_EQ(std::memcmp(block.data(), per_trial.data(), block.size() * sizeof(double)), 0)
          << "n = " << n;
    }
  }
}

TEST(GaussianCopula, EmptyAndSingleInput) {
  GaussianCopula empty(Eigen::MatrixXd(0, 0), {}, false);
  empty.correlate(nullptr);
  empty.correlate_block(nullptr, 0, 10);
  GaussianCopula one(Eigen::MatrixXd::Identity(1, 1), {"a"}, false);
  double u = 0.25;
  one.correlate(&u);
  EXPECT_NEAR(u, 0.25, 1e-15);
}

}  // namespace
}  // namespace roisim
