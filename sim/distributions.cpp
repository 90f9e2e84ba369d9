// The marginal distributions of SPEC §3: validation, inverse CDFs, CDFs and descriptions.
//
// Storage (Distribution has p_[8], values_, cum_ and beta_; nothing else):
//   Constant    p_ = {value}
//   Uniform     p_ = {min, max, max - min}
//   Triangular  p_ = {min, mode, max, (mode-min)/(max-min), (max-min)(mode-min), (max-min)(max-mode)}
//   Pert, Beta  p_ = {min, max, a, b, -, -, mode|alpha, lambda|beta}; beta_ = the table: t0,
//               1/h, the quintic coefficients of y(t) per interval (6 per interval) and the
//               node values y_0..y_N (see "Beta inverse" below), built on first use (once,
//               thread-safe, shared by copies) or by prepare()
//   Normal      p_ = {mean, sd, lo, hi, side, Pa, Pb, Z} (side 0: untruncated; 1: lower
//               probabilities Pa = Phi(alpha), Pb = Phi(beta); 2: upper probabilities
//               Pa = Phi(-alpha), Pb = Phi(-beta); Z the interval's probability)
//   Lognormal   p_ = {median, sigma, log(median)}
//   Discrete    p_ = {n}; values_ = sorted distinct values, then their (unnormalised) probs;
//               cum_ = cumulative probabilities normalised so that the last is exactly 1
//   Bernoulli   p_ = {p, 1 - p}
//
// Beta inverse (pert and beta). Work in logit coordinates on both sides: t = log(u/(1-u))
// and y = log(x/(1-x)) for x = (value - min)/(max - min). The map t -> y is smooth,
// strictly increasing and asymptotically linear at both ends (slopes 1/a and 1/b), so a
// uniform grid in t with quintic Hermite interpolation (y, dy/dt, d2y/dt2 at each node)
// represents it very accurately over the whole range, tails included. The table (built on first
// use or by prepare()) solves
// for the nodes with safeguarded Newton steps on boost::math::ibeta/ibetac (computing the
// smaller of F and 1 - F directly, so both tails keep their relative precision), then
// checks the interpolant at every interval midpoint and halves the spacing until the error
// there is below 1e-11 in u (and 1e-7 in t). A quantile then costs one log, one table
// lookup, one degree-5 polynomial and one exp: deterministic, and monotone (each interval's
// value is clamped between its two node values, so the pieces join monotonically).
#include "sim/distributions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include "sim/errors.h"
#include "sim/normal.h"

namespace roisim {
namespace {

// Double precision throughout (no promotion to long double, which is about 10x slower), and
// no exceptions from Boost: arguments are validated before they get there.
using BetaPolicy = boost::math::policies::policy<
    boost::math::policies::promote_float<false>, boost::math::policies::promote_double<false>,
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMaxFinite = std::numeric_limits<double>::max();

std::string fmt_num(double v) { return number_text(v); }  // sim/errors.h

[[noreturn]] void fail(const std::string& message) { throw ParameterError(message); }

void require_finite(const char* dist, const char* name, double v) {
  if (!std::isfinite(v))
    fail(std::string(dist) + ": " + name + " must be finite (got " + fmt_num(v) + ")");
}

void require_positive(const char* dist, const char* name, double v) {
  require_finite(dist, name, v);
  if (!(v > 0.0)) fail(std::string(dist) + ": " + name + " must be > 0 (got " + fmt_num(v) + ")");
}

void require_less(const char* dist, double min, double max) {
  if (!(min < max))
    fail(std::string(dist) + ": min " + fmt_num(min) + " must be less than max " + fmt_num(max));
}

// The beta shapes (pert's included) whose quantile table the tests prove (|F(Q(u)) - u| <= 1e-9,
// monotone, inside the support). Beyond them the table was wrong or could not be built: alpha
// 1e-14 gave a median of 1 (it is 0), alpha 1e-18 or pert lambda 1e306 ended in an internal
// error, alpha = beta = 1e15 was not monotone. Such shapes are nearly point masses; refusing them
// departs from SPEC §3's "> 0" (README).
constexpr double kMinShape = 1e-3, kMaxShape = 1e6;

void require_shape(const char* dist, const char* name, double v) {
  require_positive(dist, name, v);
  if (v < kMinShape || v > kMaxShape)
    fail(std::string(dist) + ": " + name + " must be from 0.001 to 1000000 (got " + fmt_num(v) +
         "): roisim's quantile table is exact only within that range (such a shape is nearly a point mass: a constant or a "
         "discrete input stands for it)");
}

inline double sigmoid(double y) noexcept { return 1.0 / (1.0 + std::exp(-y)); }
inline double log_sigmoid(double y) noexcept {
  return y < 0.0 ? y - std::log1p(std::exp(y)) : -std::log1p(std::exp(-y));
}

// ----------------------------------------------------------------------------------------
// Beta inverse table.

struct BetaEval {
  double t;   // logit of F at y (may be +-inf when F underflows)
  double g;   // dt/dy
  double d2;  // d2y/dt2
};

class BetaTableBuilder {
 public:
  BetaTableBuilder(double a, double b) : a_(a), b_(b) {
    log_beta_ = boost::math::lgamma(a, BetaPolicy()) + boost::math::lgamma(b, BetaPolicy()) -
                boost::math::lgamma(a + b, BetaPolicy());
  }

  // F and 1 - F at y = logit(x), the smaller one computed directly.
  void probs(double y, double& P, double& Pc) const {
    if (y <= 0.0) {
      const double x = sigmoid(y);
      P = boost::math::ibeta(a_, b_, x, BetaPolicy());
      Pc = P > 0.5 ? boost::math::ibetac(a_, b_, x, BetaPolicy()) : 1.0 - P;
    } else {
      const double z = sigmoid(-y);  // 1 - x, with full relative precision
      Pc = boost::math::ibeta(b_, a_, z, BetaPolicy());
      P = Pc > 0.5 ? boost::math::ibetac(b_, a_, z, BetaPolicy()) : 1.0 - Pc;
    }
  }

  double logit_F(double y) const {
    double P, Pc;
    probs(y, P, Pc);
    return std::log(P) - std::log(Pc);
  }

  BetaEval eval(double y) const {
    double P, Pc;
    probs(y, P, Pc);
    BetaEval e;
    e.t = std::log(P) - std::log(Pc);
    // dt/dy = x^a (1-x)^b / (B(a,b) F (1-F)).
    const double lx = log_sigmoid(y), lz = log_sigmoid(-y);
    e.g = std::exp(a_ * lx + b_ * lz - log_beta_ - std::log(P) - std::log(Pc));
    const double x = sigmoid(y), z = sigmoid(-y);
    // d(log g)/dy = a(1-x) - b x - g (1 - 2F);  y'' = -(d log g/dy) / g^2.
    e.d2 = -(a_ * z - b_ * x - e.g * (Pc - P)) / (e.g * e.g);
    return e;
  }

  // Solves logit_F(y) = t by safeguarded Newton steps from the guess y.
  double solve(double t, double y) const {
    double lo = -kInf, hi = kInf, step = 1.0;
    for (int iter = 0; iter < 300; ++iter) {
      double P, Pc;
      probs(y, P, Pc);
      const double r = std::log(P) - std::log(Pc) - t;
      if (r == 0.0) return y;
      if (r < 0.0) lo = y; else hi = y;
      double next = std::numeric_limits<double>::quiet_NaN();
      if (std::isfinite(r)) {
        const double g = std::exp(a_ * log_sigmoid(y) + b_ * log_sigmoid(-y) - log_beta_ -
                                  std::log(P) - std::log(Pc));
        if (g > 0.0 && std::isfinite(g)) next = y - r / g;
      }
      if (!(next > lo && next < hi)) {
        if (std::isfinite(lo) && std::isfinite(hi)) {
          next = 0.5 * (lo + hi);
        } else {
          step *= 2.0;
          next = std::isfinite(lo) ? lo + step : hi - step;
        }
      }
      if (std::fabs(next - y) <= 1e-15 * std::max(1.0, std::fabs(y))) return next;
      if (std::isfinite(lo) && std::isfinite(hi) &&
          hi - lo <= 4e-16 * std::max(1.0, std::max(std::fabs(lo), std::fabs(hi))))
        return next;
      y = next;
    }
    return y;
  }

  // Fills the table: t0, 1/h, coefficients and nodes.
  void build(double& t0_out, double& inv_h_out, std::vector<double>& coef,
             std::vector<double>& nodes) const {
    // Table range in t: down to u = 3e-17 and up to 1 - u = 8.5e-17 (past 1 - 2^-53, the
    // largest double below 1), narrowed where x or 1 - x would leave the normal double range.
    // Near 0, F ~ x^a / (a B(a, b)); near 1, 1 - F ~ (1-x)^b / (b B(a, b)).
    const double log_tiny = -690.0;  // log(1e-300)
    const double lu_lo = a_ * log_tiny - std::log(a_) - log_beta_;
    const double lu_hi = b_ * log_tiny - std::log(b_) - log_beta_;
    auto logit_of_log = [](double lu) { return lu - std::log1p(-std::exp(std::min(lu, -1e-300))); };
    double t_lo = lu_lo < -38.0 ? -38.0 : logit_of_log(lu_lo);
    double t_hi = lu_hi < -37.0 ? 37.0 : -logit_of_log(lu_hi);
    if (!(t_hi - t_lo >= 1.0)) {  // absurd parameters: keep some range around the median
      const double mid = 0.5 * (t_lo + t_hi);
      t_lo = mid - 0.5;
      t_hi = mid + 0.5;
    }
    const double width = t_hi - t_lo;
    std::size_t n = static_cast<std::size_t>(std::ceil(width / 0.15));
    const std::size_t n_max = std::size_t{1} << 13;
    std::vector<double> y, d1, d2;
    double prev_worst = kInf;
    for (;;) {
      const double h = width / static_cast<double>(n);
      y.assign(n + 1, 0.0);
      d1.assign(n + 1, 0.0);
      d2.assign(n + 1, 0.0);
      for (std::size_t i = 0; i <= n; ++i) {
        const double t = t_lo + static_cast<double>(i) * h;
        double guess;
        if (i == 0) {
          // Lower tail: F ~ x^a / (a B), so log x ~ (log u + log a + log B) / a.
          guess = (t + std::log(a_) + log_beta_) / a_;
        } else {
          guess = y[i - 1] + h * d1[i - 1] + 0.5 * h * h * d2[i - 1];
        }
        y[i] = solve(t, guess);
        if (i > 0 && !(y[i] >= y[i - 1])) y[i] = y[i - 1];  // keep the nodes monotone
        const BetaEval e = eval(y[i]);
        d1[i] = 1.0 / e.g;
        d2[i] = e.d2;
        if (!std::isfinite(d1[i])) d1[i] = 0.0;
        if (!std::isfinite(d2[i])) d2[i] = 0.0;
      }
      coef.assign(6 * n, 0.0);
      double worst = 0.0;  // worst midpoint error relative to the targets (<= 1 passes)
      for (std::size_t i = 0; i < n; ++i) {
        const double y0 = y[i], y1 = y[i + 1];
        const double p0 = h * d1[i], p1 = h * d1[i + 1];
        const double q0 = h * h * d2[i], q1 = h * h * d2[i + 1];
        const double r0 = y1 - y0 - p0 - 0.5 * q0, r1 = p1 - p0 - q0, r2 = q1 - q0;
        double* c = &coef[6 * i];
        c[0] = y0;
        c[1] = p0;
        c[2] = 0.5 * q0;
        c[3] = 10.0 * r0 - 4.0 * r1 + 0.5 * r2;
        c[4] = -15.0 * r0 + 7.0 * r1 - r2;
        c[5] = 6.0 * r0 - 3.0 * r1 + 0.5 * r2;
        // Check the midpoint (where the interpolation error of a Hermite quintic peaks):
        // targets 1e-11 in u and 1e-7 in t (relative precision of tail probabilities).
        const double s = 0.5;
        const double ym = c[0] + s * (c[1] + s * (c[2] + s * (c[3] + s * (c[4] + s * c[5]))));
        const double tm = t_lo + (static_cast<double>(i) + 0.5) * h;
        const double dt = std::fabs(logit_F(ym) - tm);
        const double um = sigmoid(tm), umc = sigmoid(-tm);
        const double e = std::max(dt * um * umc / 1e-11, dt / 1e-7);
        worst = std::isnan(e) ? kInf : std::max(worst, e);
      }
      // Stop when the targets are met, at the size cap, or when halving the spacing no longer
      // helps (the error is then the noise floor of ibeta itself, for extreme shapes).
      if (worst <= 1.0 || n >= n_max || !(worst < 0.25 * prev_worst)) break;
      prev_worst = worst;
      n *= 2;
    }
    t0_out = t_lo;
    inv_h_out = static_cast<double>(n) / width;
    nodes = std::move(y);
  }

 private:
  double a_, b_, log_beta_;
};

inline double beta_table_quantile(const double* p, double t0, double inv_h, const std::vector<double>& coef,
                                  const std::vector<double>& nodes, double u) noexcept {
  const double min = p[0], max = p[1];
  if (!(u > 0.0)) return min;
  if (!(u < 1.0)) return max;
  const double t = std::log(u / (1.0 - u));
  const double s = (t - t0) * inv_h;
  const std::size_t n = nodes.size() - 1;
  double y;
  if (s < 0.0) {
    // Below the table: log x = (log u + log(a B(a, b))) / a + O(x), and x < 1e-300 or u < 3e-17.
    y = nodes[0] + (log_sigmoid(t) - log_sigmoid(t0)) / p[2];
  } else if (s >= static_cast<double>(n)) {
    // Above it: log(1 - x) = (log(1 - u) + log(b B(a, b))) / b + O(1 - x).
    const double t_hi = t0 + static_cast<double>(n) / inv_h;
    y = nodes[n] + (log_sigmoid(-t_hi) - log_sigmoid(-t)) / p[3];
  } else {
    const std::size_t i = static_cast<std::size_t>(s);
    const double f = s - static_cast<double>(i);
    const double* c = coef.data() + 6 * i;
    y = c[0] + f * (c[1] + f * (c[2] + f * (c[3] + f * (c[4] + f * c[5]))));
    y = std::min(std::max(y, nodes[i]), nodes[i + 1]);
  }
  const double x = 1.0 / (1.0 + std::exp(-y));
  return std::min(min + (max - min) * x, max);
}

// ----------------------------------------------------------------------------------------

inline double triangular_quantile(const double* p, double u) noexcept {
  // p = {min, mode, max, Fc, (max-min)(mode-min), (max-min)(max-mode)}
  if (u < p[3]) return std::min(p[0] + std::sqrt(u * p[4]), p[1]);
  return std::max(p[2] - std::sqrt((1.0 - u) * p[5]), p[1]);
}

inline double normal_trunc_quantile(const double* p, double u) noexcept {
  // p = {mean, sd, lo, hi, side, Pa, Pb, Z}
  double z;
  if (p[4] == 0.0) {
    z = normal_quantile(u);
    return p[0] + p[1] * z;
  }
  // A probability that underflows to 0 (only for u within ~1e-300 of an unbounded end) is
  // replaced by the smallest positive double so that the value stays finite.
  constexpr double kTiny = std::numeric_limits<double>::denorm_min();
  if (p[4] == 1.0) {
    z = normal_quantile(std::max(p[5] + u * p[7], kTiny));
  } else {
    z = -normal_quantile(std::max(p[5] - u * p[7], kTiny));
  }
  const double x = p[0] + p[1] * z;
  return std::min(std::max(x, p[2]), p[3]);  // also maps a NaN-free +-inf into the bounds
}

inline double lognormal_quantile(const double* p, double u) noexcept {
  return std::min(std::exp(p[2] + p[1] * normal_quantile(u)), kMaxFinite);
}

inline double discrete_quantile(const std::vector<double>& values, const std::vector<double>& cum,
                                double u) noexcept {
  // Smallest value whose cumulative probability is >= u.
  const auto it = std::lower_bound(cum.begin(), cum.end(), u);
  const std::size_t i =
      it == cum.end() ? cum.size() - 1 : static_cast<std::size_t>(it - cum.begin());
  return values[i];
}

inline double phi_density(double z) noexcept {
  if (std::isinf(z)) return 0.0;
  return 0.39894228040143267794 * std::exp(-0.5 * z * z);
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Factories.

Distribution Distribution::constant(double value) {
  require_finite("constant", "value", value);
  Distribution d;
  d.kind_ = DistKind::Constant;
  d.p_[0] = value;
  return d;
}

Distribution Distribution::uniform(double min, double max) {
  require_finite("uniform", "min", min);
  require_finite("uniform", "max", max);
  require_less("uniform", min, max);
  if (!std::isfinite(max - min)) fail("uniform: max - min overflows");
  Distribution d;
  d.kind_ = DistKind::Uniform;
  d.p_[0] = min;
  d.p_[1] = max;
  d.p_[2] = max - min;
  return d;
}

Distribution Distribution::triangular(double min, double mode, double max) {
  require_finite("triangular", "min", min);
  require_finite("triangular", "mode", mode);
  require_finite("triangular", "max", max);
  require_less("triangular", min, max);
  if (mode < min || mode > max)
    fail("triangular: mode " + fmt_num(mode) + " is outside [min, max] = [" + fmt_num(min) + ", " +
         fmt_num(max) + "]");
  const double w = max - min;
  if (!std::isfinite(w)) fail("triangular: max - min overflows");
  Distribution d;
  d.kind_ = DistKind::Triangular;
  d.p_[0] = min;
  d.p_[1] = mode;
  d.p_[2] = max;
  d.p_[3] = (mode - min) / w;
  d.p_[4] = w * (mode - min);
  d.p_[5] = w * (max - mode);
  return d;
}

Distribution Distribution::pert(double min, double mode, double max, double lambda) {
  require_finite("pert", "min", min);
  require_finite("pert", "mode", mode);
  require_finite("pert", "max", max);
  require_positive("pert", "lambda", lambda);
  if (lambda > kMaxShape)  // alpha and beta lie in [1, 1 + lambda]
    fail("pert: lambda must be at most 1000000 (got " + fmt_num(lambda) +
         "): roisim's quantile table is exact only up to it (such a pert is nearly a point at its mode: a constant stands "
         "for it)");
  require_less("pert", min, max);
  if (mode < min || mode > max)
    fail("pert: mode " + fmt_num(mode) + " is outside [min, max] = [" + fmt_num(min) + ", " +
         fmt_num(max) + "]");
  const double w = max - min;
  if (!std::isfinite(w)) fail("pert: max - min overflows");
  const double a = 1.0 + lambda * (mode - min) / w;
  const double b = 1.0 + lambda * (max - mode) / w;
  Distribution d;
  d.kind_ = DistKind::Pert;
  d.p_[0] = min;
  d.p_[1] = max;
  d.p_[2] = a;
  d.p_[3] = b;
  d.p_[6] = mode;
  d.p_[7] = lambda;
  d.beta_ = std::make_shared<BetaTable>();
  return d;
}

Distribution Distribution::normal(double mean, double sd, double lo, double hi) {
  require_finite("normal", "mean", mean);
  require_positive("normal", "sd", sd);
  if (std::isnan(lo)) fail("normal: min must be a number (got nan)");
  if (std::isnan(hi)) fail("normal: max must be a number (got nan)");
  require_less("normal", lo, hi);
  Distribution d;
  d.kind_ = DistKind::Normal;
  d.p_[0] = mean;
  d.p_[1] = sd;
  d.p_[2] = lo;
  d.p_[3] = hi;
  if (lo == -kInf && hi == kInf) {
    d.p_[4] = 0.0;
    return d;
  }
  const double alpha = (lo - mean) / sd, beta = (hi - mean) / sd;
  if (alpha > 0.0) {  // interval in the upper tail: work with upper-tail probabilities
    d.p_[4] = 2.0;
    d.p_[5] = normal_cdf(-alpha);
    d.p_[6] = normal_cdf(-beta);
    d.p_[7] = d.p_[5] - d.p_[6];
  } else {
    d.p_[4] = 1.0;
    d.p_[5] = normal_cdf(alpha);
    d.p_[6] = normal_cdf(beta);
    d.p_[7] = d.p_[6] - d.p_[5];
  }
  if (!(d.p_[7] >= std::numeric_limits<double>::min()))
    fail("normal: the interval [min, max] = [" + fmt_num(lo) + ", " + fmt_num(hi) +
         "] has no probability under mean " + fmt_num(mean) + ", sd " + fmt_num(sd));
  return d;
}

Distribution Distribution::lognormal(double median, double sigma) {
  require_positive("lognormal", "median", median);
  require_positive("lognormal", "sigma", sigma);
  Distribution d;
  d.kind_ = DistKind::Lognormal;
  d.p_[0] = median;
  d.p_[1] = sigma;
  d.p_[2] = std::log(median);
  return d;
}

Distribution Distribution::beta(double alpha, double beta, double min, double max) {
  require_shape("beta", "alpha", alpha);
  require_shape("beta", "beta", beta);
  require_finite("beta", "min", min);
  require_finite("beta", "max", max);
  require_less("beta", min, max);
  if (!std::isfinite(max - min)) fail("beta: max - min overflows");
  Distribution d;
  d.kind_ = DistKind::Beta;
  d.p_[0] = min;
  d.p_[1] = max;
  d.p_[2] = alpha;
  d.p_[3] = beta;
  d.p_[6] = alpha;
  d.p_[7] = beta;
  d.beta_ = std::make_shared<BetaTable>();
  return d;
}

Distribution Distribution::discrete(std::vector<double> values, std::vector<double> probs) {
  if (values.empty()) fail("discrete: values is empty");
  if (values.size() != probs.size()) fail("discrete: values and probs differ in length");
  const std::size_t n = values.size();
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    std::string idx = "[";  // (appended: GCC 12 warns, wrongly, on "[" + std::string)
    idx += std::to_string(i);
    idx += ']';
    if (!std::isfinite(values[i]))
      fail("discrete: values" + idx + " must be finite (got " + fmt_num(values[i]) + ")");
    if (!std::isfinite(probs[i]))
      fail("discrete: probs" + idx + " must be finite (got " + fmt_num(probs[i]) + ")");
    if (probs[i] < 0.0)
      fail("discrete: probs" + idx + " must be >= 0 (got " + fmt_num(probs[i]) + ")");
    sum += probs[i];
  }
  if (!(std::fabs(sum - 1.0) <= 1e-9))
    fail("discrete: probs sum to " + fmt_num(sum) + ", not 1");

  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
  std::vector<double> v, pr;
  for (std::size_t k : order) {
    if (!v.empty() && v.back() == values[k]) {
      pr.back() += probs[k];
    } else {
      v.push_back(values[k] == 0.0 ? 0.0 : values[k]);  // -0 -> 0
      pr.push_back(probs[k]);
    }
  }
  Distribution d;
  d.kind_ = DistKind::Discrete;
  const std::size_t m = v.size();
  d.p_[0] = static_cast<double>(m);
  d.cum_.resize(m);
  double acc = 0.0;
  for (std::size_t i = 0; i < m; ++i) {
    acc += pr[i];
    d.cum_[i] = std::min(acc / sum, 1.0);
  }
  d.cum_[m - 1] = 1.0;
  d.values_ = std::move(v);
  d.values_.insert(d.values_.end(), pr.begin(), pr.end());
  return d;
}

Distribution Distribution::bernoulli(double p) {
  if (!(p >= 0.0 && p <= 1.0)) fail("bernoulli: p must be in [0, 1] (got " + fmt_num(p) + ")");
  Distribution d;
  d.kind_ = DistKind::Bernoulli;
  d.p_[0] = p;
  d.p_[1] = 1.0 - p;
  return d;
}

// ------------------------------------------------------------------------------------------
// Quantiles.

struct Distribution::BetaTable {
  std::once_flag once;
  double t0 = 0, inv_h = 0;
  std::vector<double> coef, nodes;
};

const Distribution::BetaTable& Distribution::beta_table() const {
  std::call_once(beta_->once, [this] { BetaTableBuilder(p_[2], p_[3]).build(beta_->t0, beta_->inv_h, beta_->coef, beta_->nodes); });
  return *beta_;
}

void Distribution::prepare() const {
  if (beta_) beta_table();
}

double Distribution::quantile(double u) const noexcept {
  switch (kind_) {
    case DistKind::Constant:
      return p_[0];
    case DistKind::Uniform:
      return std::min(p_[0] + u * p_[2], p_[1]);
    case DistKind::Triangular:
      return triangular_quantile(p_, u);
    case DistKind::Pert:
    case DistKind::Beta: {
      const BetaTable& b = beta_table();
      return beta_table_quantile(p_, b.t0, b.inv_h, b.coef, b.nodes, u);
    }
    case DistKind::Normal:
      return normal_trunc_quantile(p_, u);
    case DistKind::Lognormal:
      return lognormal_quantile(p_, u);
    case DistKind::Discrete:
      return discrete_quantile(values_, cum_, u);
    case DistKind::Bernoulli:
      return u <= p_[1] ? 0.0 : 1.0;
  }
  return p_[0];
}

void Distribution::quantile(const double* u, double* out, std::size_t n) const noexcept {
  switch (kind_) {
    case DistKind::Constant:
      for (std::size_t i = 0; i < n; ++i) out[i] = p_[0];
      return;
    case DistKind::Uniform:
      for (std::size_t i = 0; i < n; ++i) out[i] = std::min(p_[0] + u[i] * p_[2], p_[1]);
      return;
    case DistKind::Triangular:
      for (std::size_t i = 0; i < n; ++i) out[i] = triangular_quantile(p_, u[i]);
      return;
    case DistKind::Pert:
    case DistKind::Beta: {
      const BetaTable& b = beta_table();
      for (std::size_t i = 0; i < n; ++i) out[i] = beta_table_quantile(p_, b.t0, b.inv_h, b.coef, b.nodes, u[i]);
      return;
    }
    case DistKind::Normal:
      for (std::size_t i = 0; i < n; ++i) out[i] = normal_trunc_quantile(p_, u[i]);
      return;
    case DistKind::Lognormal:
      for (std::size_t i = 0; i < n; ++i) out[i] = lognormal_quantile(p_, u[i]);
      return;
    case DistKind::Discrete:
      for (std::size_t i = 0; i < n; ++i) out[i] = discrete_quantile(values_, cum_, u[i]);
      return;
    case DistKind::Bernoulli:
      for (std::size_t i = 0; i < n; ++i) out[i] = u[i] <= p_[1] ? 0.0 : 1.0;
      return;
  }
}

// ------------------------------------------------------------------------------------------
// CDF, support, mean, description.

double Distribution::cdf(double x) const noexcept {
  if (std::isnan(x)) return x;
  switch (kind_) {
    case DistKind::Constant:
      return x < p_[0] ? 0.0 : 1.0;
    case DistKind::Uniform:
      if (x <= p_[0]) return 0.0;
      if (x >= p_[1]) return 1.0;
      return (x - p_[0]) / p_[2];
    case DistKind::Triangular: {
      const double min = p_[0], mode = p_[1], max = p_[2];
      if (x <= min) return 0.0;
      if (x >= max) return 1.0;
      if (x <= mode) return (x - min) * (x - min) / p_[4];
      return 1.0 - (max - x) * (max - x) / p_[5];
    }
    case DistKind::Pert:
    case DistKind::Beta: {
      const double min = p_[0], max = p_[1];
      if (x <= min) return 0.0;
      if (x >= max) return 1.0;
      const double xs = std::min((x - min) / (max - min), 1.0);
      return boost::math::ibeta(p_[2], p_[3], xs, BetaPolicy());
    }
    case DistKind::Normal: {
      const double z = (x - p_[0]) / p_[1];
      if (p_[4] == 0.0) return normal_cdf(z);
      if (x < p_[2]) return 0.0;
      if (x >= p_[3]) return 1.0;
      double f = p_[4] == 1.0 ? (normal_cdf(z) - p_[5]) / p_[7] : (p_[5] - normal_cdf(-z)) / p_[7];
      return std::min(std::max(f, 0.0), 1.0);
    }
    case DistKind::Lognormal:
      if (x <= 0.0) return 0.0;
      return normal_cdf((std::log(x) - p_[2]) / p_[1]);
    case DistKind::Discrete: {
      const std::size_t m = cum_.size();
      const auto end = values_.begin() + static_cast<std::ptrdiff_t>(m);
      const std::size_t k = static_cast<std::size_t>(std::upper_bound(values_.begin(), end, x) -
                                                     values_.begin());
      return k == 0 ? 0.0 : cum_[k - 1];
    }
    case DistKind::Bernoulli:
      if (x < 0.0) return 0.0;
      if (x < 1.0) return p_[1];
      return 1.0;
  }
  return 0.0;
}

double Distribution::support_min() const noexcept {
  switch (kind_) {
    case DistKind::Constant:
      return p_[0];
    case DistKind::Uniform:
    case DistKind::Triangular:
    case DistKind::Pert:
    case DistKind::Beta:
      return p_[0];
    case DistKind::Normal:
      return p_[4] == 0.0 ? -kInf : p_[2];
    case DistKind::Lognormal:
      return 0.0;
    case DistKind::Discrete: {
      // The first value with positive probability (what quantile(u) gives as u -> 0).
      const auto it = std::upper_bound(cum_.begin(), cum_.end(), 0.0);
      return values_[static_cast<std::size_t>(it - cum_.begin())];
    }
    case DistKind::Bernoulli:
      return p_[1] > 0.0 ? 0.0 : 1.0;
  }
  return p_[0];
}

double Distribution::support_max() const noexcept {
  switch (kind_) {
    case DistKind::Constant:
      return p_[0];
    case DistKind::Uniform:
    case DistKind::Pert:
    case DistKind::Beta:
      return p_[1];
    case DistKind::Triangular:
      return p_[2];
    case DistKind::Normal:
      return p_[4] == 0.0 ? kInf : p_[3];
    case DistKind::Lognormal:
      return kInf;
    case DistKind::Discrete: {
      // The first value whose cumulative probability reaches 1 (quantile(u) as u -> 1).
      const auto it = std::lower_bound(cum_.begin(), cum_.end(), 1.0);
      return values_[static_cast<std::size_t>(it - cum_.begin())];
    }
    case DistKind::Bernoulli:
      return p_[0] > 0.0 ? 1.0 : 0.0;
  }
  return p_[0];
}

double Distribution::mean() const noexcept {
  switch (kind_) {
    case DistKind::Constant:
      return p_[0];
    case DistKind::Uniform:
      return 0.5 * (p_[0] + p_[1]);
    case DistKind::Triangular:
      return (p_[0] + p_[1] + p_[2]) / 3.0;
    case DistKind::Pert:
      return (p_[0] + p_[7] * p_[6] + p_[1]) / (p_[7] + 2.0);
    case DistKind::Beta:
      return p_[0] + (p_[1] - p_[0]) * (p_[2] / (p_[2] + p_[3]));
    case DistKind::Normal: {
      if (p_[4] == 0.0) return p_[0];
      const double alpha = (p_[2] - p_[0]) / p_[1], beta = (p_[3] - p_[0]) / p_[1];
      const double m = p_[0] + p_[1] * (phi_density(alpha) - phi_density(beta)) / p_[7];
      return std::min(std::max(m, p_[2]), p_[3]);
    }
    case DistKind::Lognormal:
      return p_[0] * std::exp(0.5 * p_[1] * p_[1]);
    case DistKind::Discrete: {
      const std::size_t m = cum_.size();
      double s = 0.0, prev = 0.0;
      for (std::size_t i = 0; i < m; ++i) {
        s += values_[i] * (cum_[i] - prev);
        prev = cum_[i];
      }
      return s;
    }
    case DistKind::Bernoulli:
      return p_[0];
  }
  return p_[0];
}

std::string Distribution::describe() const {
  switch (kind_) {
    case DistKind::Constant:
      return "constant(value=" + fmt_num(p_[0]) + ")";
    case DistKind::Uniform:
      return "uniform(min=" + fmt_num(p_[0]) + ", max=" + fmt_num(p_[1]) + ")";
    case DistKind::Triangular:
      return "triangular(min=" + fmt_num(p_[0]) + ", mode=" + fmt_num(p_[1]) +
             ", max=" + fmt_num(p_[2]) + ")";
    case DistKind::Pert:
      return "pert(min=" + fmt_num(p_[0]) + ", mode=" + fmt_num(p_[6]) + ", max=" + fmt_num(p_[1]) +
             ", lambda=" + fmt_num(p_[7]) + ")";
    case DistKind::Beta: {
      std::string s = "beta(alpha=" + fmt_num(p_[6]) + ", beta=" + fmt_num(p_[7]);
      if (p_[0] != 0.0 || p_[1] != 1.0) s += ", min=" + fmt_num(p_[0]) + ", max=" + fmt_num(p_[1]);
      return s + ")";
    }
    case DistKind::Normal: {
      std::string s = "normal(mean=" + fmt_num(p_[0]) + ", sd=" + fmt_num(p_[1]);
      if (p_[2] != -kInf) s += ", min=" + fmt_num(p_[2]);
      if (p_[3] != kInf) s += ", max=" + fmt_num(p_[3]);
      return s + ")";
    }
    case DistKind::Lognormal:
      return "lognormal(median=" + fmt_num(p_[0]) + ", sigma=" + fmt_num(p_[1]) + ")";
    case DistKind::Discrete: {
      const std::size_t m = cum_.size();
      std::string vs, ps;
      for (std::size_t i = 0; i < m; ++i) {
        if (i) {
          vs += ", ";
          ps += ", ";
        }
        vs += fmt_num(values_[i]);
        ps += fmt_num(values_[m + i]);
      }
      return "discrete(values=[" + vs + "], probs=[" + ps + "])";
    }
    case DistKind::Bernoulli:
      return "bernoulli(p=" + fmt_num(p_[0]) + ")";
  }
  return "unknown";
}

}  // namespace roisim
