#pragma once
// Rank correlation between inputs imposed by a Gaussian copula (SPEC §3).
#include <Eigen/Dense>
#include <string>
#include <vector>

namespace roisim {

// Pearson correlation of the Gaussian copula that gives Spearman rank correlation rho_s:
// 2 sin(pi rho_s / 6); and back: 6/pi asin(rho / 2).
double spearman_to_pearson(double rho_s) noexcept;
double pearson_to_spearman(double rho) noexcept;

// Higham (2002) nearest correlation matrix in the Frobenius norm (alternating projections with
// Dykstra's correction), for a symmetric matrix with unit diagonal. The result is symmetric,
// has a unit diagonal and smallest eigenvalue >= min_eigenvalue (default a small positive margin
// so that a Cholesky factor exists).
Eigen::MatrixXd nearest_correlation(const Eigen::MatrixXd& a, double min_eigenvalue = 1e-10,
                                    double tolerance = 1e-12, int max_iterations = 10000);

// Smallest eigenvalue of a symmetric matrix.
double smallest_eigenvalue(const Eigen::MatrixXd& a);

// A prepared Gaussian copula over K inputs.
class GaussianCopula {
 public:
  // spearman: K x K symmetric Spearman matrix with unit diagonal; names: the K input names
  // (used in error messages). If repair is false and the matrix (in Spearman or in the
  // implied Pearson form) is not positive semi-definite, throws CorrelationError with a message
  // naming the inputs involved (those with the largest weight in the eigenvector of the smallest
  // eigenvalue) and the smallest eigenvalue, e.g.
  // "correlation matrix is not positive semi-definite (smallest eigenvalue -0.1234) among a, b, c".
  // If repair is true, the Pearson matrix is replaced by its nearest correlation matrix.
  GaussianCopula(const Eigen::MatrixXd& spearman, std::vector<std::string> names, bool repair);

  bool repaired() const noexcept { return repaired_; }
  const Eigen::MatrixXd& spearman_original() const noexcept { return spearman_; }
  // The Spearman matrix actually imposed (== original unless repaired).
  const Eigen::MatrixXd& spearman_used() const noexcept { return spearman_used_; }
  const Eigen::MatrixXd& pearson_used() const noexcept { return pearson_; }
  const std::vector<std::string>& names() const noexcept { return names_; }
  // Lower-triangular factor B with B B^T = pearson_used() (Cholesky; LDLT-based for
  // singular positive semi-definite matrices).
  const Eigen::MatrixXd& factor() const noexcept { return factor_; }

  // Turns K independent uniforms into K correlated ones, in place: z = B * Phi^{-1}(u),
  // u_i = Phi(z_i). Deterministic: the same u gives the same bits.
  void correlate(double* u) const noexcept;
  // The same for n trials stored input-major: u[k * stride + t] for k < K, t < n.
  void correlate_block(double* u, std::size_t stride, std::size_t n) const;

 private:
  std::vector<std::string> names_;
  Eigen::MatrixXd spearman_, spearman_used_, pearson_, factor_;
  bool repaired_ = false;
};

}  // namespace roisim
