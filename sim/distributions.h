#pragma once
// The marginal distributions of SPEC §3, each sampled by inverse transform of one uniform.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace roisim {

enum class DistKind { Constant, Uniform, Triangular, Pert, Normal, Lognormal, Beta, Discrete, Bernoulli };

// An immutable distribution. Build it with one of the make_* functions, which validate the
// parameters and throw ParameterError (message names the parameter, e.g.
// "triangular: mode 7 is outside [min, max] = [1, 5]"). quantile() is the inverse CDF:
// monotone non-decreasing in u, finite and inside the support for every u in (0, 1).
class Distribution {
 public:
  static Distribution constant(double value);
  static Distribution uniform(double min, double max);                    // min < max
  static Distribution triangular(double min, double mode, double max);    // min <= mode <= max, min < max
  static Distribution pert(double min, double mode, double max, double lambda = 4.0);  // lambda > 0
  // Normal(mean, sd), truncated to [lo, hi] when bounds are given (use -inf/+inf for none);
  // sd > 0, lo < hi, and the interval must carry probability > 0.
  static Distribution normal(double mean, double sd, double lo, double hi);
  static Distribution lognormal(double median, double sigma);             // median > 0, sigma > 0
  static Distribution beta(double alpha, double beta, double min = 0.0, double max = 1.0);
  // values with probabilities (probs >= 0, summing to 1 within 1e-9; values need not be sorted:
  // they are sorted internally so that the quantile is monotone). Non-empty.
  static Distribution discrete(std::vector<double> values, std::vector<double> probs);
  static Distribution bernoulli(double p);                                 // 0 <= p <= 1; values 0/1

  DistKind kind() const noexcept { return kind_; }
  // Q(u) for u in (0, 1).
  double quantile(double u) const noexcept;
  // out[i] = quantile(u[i]) for i < n: one switch per call, not per element.
  void quantile(const double* u, double* out, std::size_t n) const noexcept;
  // The CDF F(x) (used by tests and by reports).
  double cdf(double x) const noexcept;
  // Smallest and largest value the distribution can take (may be -inf/+inf).
  double support_min() const noexcept;
  double support_max() const noexcept;
  double mean() const noexcept;
  bool is_constant() const noexcept { return kind_ == DistKind::Constant; }
  // Human-readable description, e.g. "pert(min=0.3, mode=0.5, max=0.8, lambda=4)".
  std::string describe() const;
  // pert and beta invert their CDF through a table (~0.5 ms to build) made once, when first
  // needed; this makes it now (Plan::load_* makes all of a plan's tables in parallel). Copies of
  // a distribution share its table. Thread-safe; nothing to do for the other kinds.
  void prepare() const;

 private:
  struct BetaTable;
  const BetaTable& beta_table() const;
  DistKind kind_ = DistKind::Constant;
  double p_[8] = {};                  // kind-specific parameters and precomputed constants
  std::vector<double> values_, cum_;  // discrete: sorted values and cumulative probabilities
  std::shared_ptr<BetaTable> beta_;   // pert, beta: the quantile table (built once, shared)
};

}  // namespace roisim
