// Rank correlation between inputs imposed by a Gaussian copula (SPEC §3).
#include "sim/correlation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <utility>

#include "sim/errors.h"
#include "sim/normal.h"

namespace roisim {

namespace {

// A symmetric matrix with smallest eigenvalue >= -kPsdTolerance counts as positive
// semi-definite.
constexpr double kPsdTolerance = 1e-10;
// Tolerance of the symmetry and unit-diagonal checks of a user-supplied matrix.
constexpr double kEntryTolerance = 1e-12;

// Correlated uniforms are clamped to [kUniformLow, kUniformHigh] so that the downstream
// inverse-CDF functions never see exactly 0 or 1 (Phi(y) rounds to 0 below y ~ -38.5 and
// to 1 above y ~ 8.3). 1 - 2^-53 is the largest double below 1.
constexpr double kUniformLow = 0x1p-60;
constexpr double kUniformHigh = 1.0 - 0x1p-53;

// Trials processed together by correlate_block: K * kBlock doubles of scratch.
constexpr std::size_t kBlock = 128;
// Inputs for which correlate() uses a stack buffer instead of a thread-local vector.
constexpr std::size_t kStackInputs = 64;

std::string format_number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

// Eigen-decomposition of a symmetric matrix (eigenvalues ascending).
Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen_decompose(const Eigen::MatrixXd& a) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(a);
  if (solver.info() != Eigen::Success)
    throw CorrelationError("eigen-decomposition of the correlation matrix failed to converge");
  return solver;
}

// The error for a matrix that is not positive semi-definite: its smallest eigenvalue and the
// inputs with weight |v_i| >= 0.1 in the corresponding eigenvector, by decreasing weight (ties
// by input order; weights are rounded to 1e-9 so that rounding noise does not reorder inputs of
// equal weight), at least two of them.
std::string not_psd_message(const Eigen::MatrixXd& m, const std::vector<std::string>& names,
                            bool pearson_form) {
  const auto solver = eigen_decompose(m);
  const double lambda = solver.eigenvalues()(0);
  const Eigen::VectorXd v = solver.eigenvectors().col(0);
  const auto k = static_cast<std::size_t>(m.rows());
  std::vector<std::pair<double, std::size_t>> weights;
  weights.reserve(k);
  for (std::size_t i = 0; i < k; ++i)
    weights.emplace_back(std::round(std::abs(v(static_cast<Eigen::Index>(i))) * 1e9) / 1e9, i);
  std::stable_sort(weights.begin(), weights.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  std::string msg = "correlation matrix is not positive semi-definite (smallest eigenvalue " +
                    format_number(lambda) + ") among ";
  for (std::size_t j = 0; j < weights.size(); ++j) {
    if (j >= 2 && weights[j].first < 0.1) break;
    if (j > 0) msg += ", ";
    msg += names[weights[j].second];
  }
  if (pearson_form) msg += " (in its Pearson form for the Gaussian copula)";
  return msg;
}

// Projection onto {X symmetric : lambda_min(X) >= min_eigenvalue} in the Frobenius norm:
// clip the eigenvalues.
Eigen::MatrixXd project_eigenvalues(const Eigen::MatrixXd& r, double min_eigenvalue) {
  const auto solver = eigen_decompose(r);
  const Eigen::VectorXd d = solver.eigenvalues().cwiseMax(min_eigenvalue);
  const Eigen::MatrixXd& v = solver.eigenvectors();
  Eigen::MatrixXd x = v * d.asDiagonal() * v.transpose();
  return 0.5 * (x + x.transpose());
}

// y = B z, u = clamp(Phi(y)) for n trials stored at u[k * stride + t], with scratch z
// (K * block doubles) and y (block doubles). correlate() and correlate_block() both go through
// this one function, so they give the same bits. Zero entries of B are skipped (so the
// triangular Cholesky factor costs K(K+1)/2 multiply-adds); skipping changes at most the sign of
// a zero sum, which Phi does not see. Inputs outside (0, 1) are first moved to the clamp bounds,
// so that z is always finite.
[[gnu::noinline]] void correlate_core(const Eigen::MatrixXd& b, double* u, std::size_t stride,
                                      std::size_t n, double* z, double* y,
                                      std::size_t block) noexcept {
  const auto k = static_cast<std::size_t>(b.rows());
  for (std::size_t t0 = 0; t0 < n; t0 += block) {
    const std::size_t m = std::min(block, n - t0);
    for (std::size_t j = 0; j < k; ++j) {
      const double* src = u + j * stride + t0;
      double* dst = z + j * block;
      for (std::size_t t = 0; t < m; ++t) {
        double p = src[t];
        if (!(p > 0.0)) p = kUniformLow;
        if (!(p < 1.0)) p = kUniformHigh;
        dst[t] = normal_quantile(p);
      }
    }
    for (std::size_t i = 0; i < k; ++i) {
      for (std::size_t t = 0; t < m; ++t) y[t] = 0.0;
      for (std::size_t j = 0; j < k; ++j) {
        const double bij = b(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
        if (bij == 0.0) continue;
        const double* zj = z + j * block;
        for (std::size_t t = 0; t < m; ++t) y[t] += bij * zj[t];
      }
      double* dst = u + i * stride + t0;
      for (std::size_t t = 0; t < m; ++t)
        dst[t] = std::clamp(normal_cdf(y[t]), kUniformLow, kUniformHigh);
    }
  }
}

}  // namespace

double spearman_to_pearson(double rho_s) noexcept {
  // Exact at the ends (2 sin(pi/6) rounds to 1 - 2^-53), so that rho_s = +-1 stays singular.
  if (rho_s >= 1.0) return 1.0;
  if (rho_s <= -1.0) return -1.0;
  return std::clamp(2.0 * std::sin(std::numbers::pi * rho_s / 6.0), -1.0, 1.0);
}

double pearson_to_spearman(double rho) noexcept {
  if (rho >= 1.0) return 1.0;
  if (rho <= -1.0) return -1.0;
  return std::clamp(6.0 / std::numbers::pi * std::asin(rho / 2.0), -1.0, 1.0);
}

double smallest_eigenvalue(const Eigen::MatrixXd& a) {
  if (a.rows() == 0) return 0.0;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(a, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success)
    throw CorrelationError("eigen-decomposition of the correlation matrix failed to converge");
  return solver.eigenvalues()(0);
}

// Nearest correlation matrix by alternating projections with Dykstra's correction:
//   N. J. Higham (2002), "Computing the nearest correlation matrix -- a problem from finance",
//   IMA Journal of Numerical Analysis 22:329-343 (Algorithm 3.3, unit weights W = I).
// The projection onto the positive semi-definite cone clips eigenvalues at min_eigenvalue
// instead of 0 (still a projection onto a closed convex set), so that the result has a
// Cholesky factor. After convergence, the last eigenvalue-clipped iterate X is rescaled to unit
// diagonal, D^{-1/2} X D^{-1/2} (D = diag(X), within ~tolerance of I), which keeps it positive
// definite with smallest eigenvalue >= min_eigenvalue / max(D) ~ min_eigenvalue.
Eigen::MatrixXd nearest_correlation(const Eigen::MatrixXd& a, double min_eigenvalue,
                                    double tolerance, int max_iterations) {
  if (a.rows() != a.cols())
    throw CorrelationError("nearest_correlation: matrix is not square");
  const Eigen::Index k = a.rows();
  Eigen::MatrixXd y = 0.5 * (a + a.transpose());
  y.diagonal().setOnes();
  if (k == 0 || smallest_eigenvalue(y) >= min_eigenvalue) return y;

  Eigen::MatrixXd ds = Eigen::MatrixXd::Zero(k, k);  // Dykstra's correction
  Eigen::MatrixXd x = y;
  for (int it = 0; it < max_iterations; ++it) {
    const Eigen::MatrixXd r = y - ds;
    const Eigen::MatrixXd x_new = project_eigenvalues(r, min_eigenvalue);
    ds = x_new - r;
    Eigen::MatrixXd y_new = x_new;
    y_new.diagonal().setOnes();
    const double dx = (x_new - x).norm() / x_new.norm();
    const double dy = (y_new - y).norm() / y_new.norm();
    const double gap = (y_new - x_new).norm() / y_new.norm();
    x = x_new;
    y = std::move(y_new);
    if (std::max({dx, dy, gap}) <= tolerance) break;
  }

  // Unit diagonal by congruence (keeps positive definiteness), then exact symmetry.
  Eigen::VectorXd s = x.diagonal().cwiseMax(min_eigenvalue).cwiseSqrt().cwiseInverse();
  Eigen::MatrixXd c = s.asDiagonal() * x * s.asDiagonal();
  c = 0.5 * (c + c.transpose());
  c = c.cwiseMax(-1.0).cwiseMin(1.0);
  c.diagonal().setOnes();
  return c;
}

GaussianCopula::GaussianCopula(const Eigen::MatrixXd& spearman, std::vector<std::string> names,
                               bool repair)
    : names_(std::move(names)) {
  if (spearman.rows() != spearman.cols())
    throw CorrelationError("correlation matrix is " + std::to_string(spearman.rows()) + "x" +
                           std::to_string(spearman.cols()) + ", not square");
  const Eigen::Index k = spearman.rows();
  if (static_cast<std::size_t>(k) != names_.size())
    throw CorrelationError("correlation matrix has " + std::to_string(k) + " rows but " +
                           std::to_string(names_.size()) + " input names");
  for (Eigen::Index i = 0; i < k; ++i) {
    const auto& ni = names_[static_cast<std::size_t>(i)];
    if (!(std::abs(spearman(i, i) - 1.0) <= kEntryTolerance))
      throw CorrelationError("correlation of " + ni + " with itself is " +
                             format_number(spearman(i, i)) + ", not 1");
    for (Eigen::Index j = 0; j < i; ++j) {
      const auto& nj = names_[static_cast<std::size_t>(j)];
      if (!(std::abs(spearman(i, j)) <= 1.0) || !(std::abs(spearman(j, i)) <= 1.0)) {
        const double bad = std::abs(spearman(i, j)) <= 1.0 ? spearman(j, i) : spearman(i, j);
        throw CorrelationError("correlation between " + nj + " and " + ni + " is " +
                               format_number(bad) + ", outside [-1, 1]");
      }
      if (!(std::abs(spearman(i, j) - spearman(j, i)) <= kEntryTolerance))
        throw CorrelationError("correlation matrix is not symmetric: " + nj + "/" + ni + " is " +
                               format_number(spearman(j, i)) + " but " + ni + "/" + nj +
                               " is " + format_number(spearman(i, j)));
    }
  }

  // Exactly symmetric with an exactly unit diagonal from here on.
  spearman_ = 0.5 * (spearman + spearman.transpose());
  spearman_.diagonal().setOnes();
  Eigen::MatrixXd pearson = spearman_.unaryExpr([](double r) { return spearman_to_pearson(r); });

  const bool spearman_psd = smallest_eigenvalue(spearman_) >= -kPsdTolerance;
  const bool pearson_psd = spearman_psd && smallest_eigenvalue(pearson) >= -kPsdTolerance;
  if (spearman_psd && pearson_psd) {
    pearson_ = std::move(pearson);
    spearman_used_ = spearman_;
  } else if (!repair) {
    throw CorrelationError(spearman_psd ? not_psd_message(pearson, names_, true)
                                        : not_psd_message(spearman_, names_, false));
  } else {
    pearson_ = nearest_correlation(pearson);
    spearman_used_ = pearson_.unaryExpr([](double r) { return pearson_to_spearman(r); });
    spearman_used_.diagonal().setOnes();
    repaired_ = true;
  }

  // Factor B with B B^T = pearson_. Cholesky when the matrix is positive definite; for a
  // singular (or within-tolerance indefinite) one, Eigen's pivoted LDLT, A = P^T L D L^T P, gives
  // B = P^T L sqrt(max(D, 0)). That B is a row permutation of a lower-triangular matrix, not
  // lower-triangular itself; correlate() only needs B B^T = A. Inputs with identical rows (e.g.
  // rho_s = 1) get identical rows of B, hence identical correlated uniforms.
  if (k == 0) {
    factor_.resize(0, 0);
    return;
  }
  Eigen::LLT<Eigen::MatrixXd> llt(pearson_);
  if (llt.info() == Eigen::Success) {
    factor_ = llt.matrixL();
  } else {
    Eigen::LDLT<Eigen::MatrixXd> ldlt(pearson_);
    const Eigen::VectorXd d = ldlt.vectorD().cwiseMax(0.0).cwiseSqrt();
    Eigen::MatrixXd l = ldlt.matrixL();
    l = l * d.asDiagonal();
    factor_ = ldlt.transpositionsP().transpose() * l;
  }
}

void GaussianCopula::correlate(double* u) const noexcept {
  const auto k = static_cast<std::size_t>(factor_.rows());
  if (k == 0) return;
  if (k <= kStackInputs) {
    std::array<double, kStackInputs> z;
    double y;
    correlate_core(factor_, u, 1, 1, z.data(), &y, 1);
  } else {
    // Allocates only when a thread first sees a K this large (std::terminate if that fails).
    thread_local std::vector<double> scratch;
    if (scratch.size() < k + 1) scratch.resize(k + 1);
    correlate_core(factor_, u, 1, 1, scratch.data(), scratch.data() + k, 1);
  }
}

void GaussianCopula::correlate_block(double* u, std::size_t stride, std::size_t n) const {
  const auto k = static_cast<std::size_t>(factor_.rows());
  if (k == 0 || n == 0) return;
  const std::size_t block = std::min(kBlock, n);
  std::vector<double> scratch((k + 1) * block);
  correlate_core(factor_, u, stride, n, scratch.data(), scratch.data() + k * block, block);
}

}  // namespace roisim
