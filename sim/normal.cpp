// The standard normal CDF (via erfc) and its inverse (Wichura's algorithm AS241, PPND16).
#include "sim/normal.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace roisim {

double normal_cdf(double z) noexcept {
  // Phi(z) = erfc(w) / 2 with w = -z / sqrt(2); erfc keeps full relative precision in the
  // lower tail, where 1 + erf would cancel.
  constexpr double kRsqrt2Hi = 0.70710678118654757;        // 1/sqrt(2) rounded to double
  constexpr double kRsqrt2Lo = -4.8336466567264567e-17;    // 1/sqrt(2) - kRsqrt2Hi
  const double w = -z * kRsqrt2Hi;
  if (!(z < -1.0) || std::isinf(z)) return 0.5 * std::erfc(w);
  // Lower tail: the rounding of w costs a relative error of about 2 w^2 eps in erfc(w)
  // (1e-13 at z = -37). Recover the exact w = wh + wl to first order:
  // erfc(wh + wl) ~ erfc(wh) - wl * (2 / sqrt(pi)) * exp(-wh^2).
  const double wl = std::fma(-z, kRsqrt2Hi, -w) + (-z) * kRsqrt2Lo;
  return 0.5 * (std::erfc(w) - wl * 1.1283791670955126 * std::exp(-w * w));
}

namespace {

// Wichura's three rational approximations (PPND16).
// Central region |q| <= 0.425, q = p - 0.5: Phi^{-1}(p) = q * central_ratio(q).
inline double central_ratio(double q) noexcept {
  const double r = 0.180625 - q * q;
  const double num =
      (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r +
            6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r +
          1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
        1.3314166789178437745e+2) * r + 3.3871328727963666080e+0);
  const double den =
      (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r +
            3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r +
          5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
        4.2313330701600911252e+1) * r + 1.0);
  return num / den;
}

// Intermediate tail, r = sqrt(-log(min(p, 1-p))) <= 5: |Phi^{-1}(p)|.
inline double tail_ratio1(double r) noexcept {
  r -= 1.6;
  const double num =
      (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r +
            2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r +
          3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
        4.63033784615654529590e+0) * r + 1.42343711074968357734e+0);
  const double den =
      (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r +
            1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r +
          6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
        2.05319162663775882187e+0) * r + 1.0);
  return num / den;
}

// Far tail, r > 5: |Phi^{-1}(p)|.
inline double tail_ratio2(double r) noexcept {
  r -= 5.0;
  const double num =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
            1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r +
          2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
        5.46378491116411436990e+0) * r + 6.65790464350110377720e+0);
  const double den =
      (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r +
            1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r +
          1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
        5.99832206555887937690e-1) * r + 1.0);
  return num / den;
}

// The approximations disagree in the last bit where they meet; each tail branch is clamped
// to be at least the magnitude of the branch inside it at the shared edge, which makes the
// quantile monotone across the branch points.
struct BranchEdges {
  double central = 0.425 * central_ratio(0.425);  // |Phi^{-1}| at |p - 0.5| = 0.425
  double tail1 = tail_ratio1(5.0);                // |Phi^{-1}| at r = 5
};

}  // namespace

// M. J. Wichura (1988), "Algorithm AS 241: The Percentage Points of the Normal
// Distribution", Applied Statistics 37(3), 477-484: PPND16, relative error about 1e-16.
double normal_quantile(double p) noexcept {
  if (std::isnan(p)) return p;
  if (p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return std::numeric_limits<double>::infinity();

  const double q = p - 0.5;
  if (std::fabs(q) <= 0.425) return q * central_ratio(q);

  static const BranchEdges edges;
  // Tails: r = sqrt(-log(min(p, 1 - p))); 1 - p is exact for p > 0.5.
  const double r = std::sqrt(-std::log(q < 0.0 ? p : 1.0 - p));
  double value;
  if (r <= 5.0) {
    value = std::max(tail_ratio1(r), edges.central);
  } else {
    value = std::max(tail_ratio2(r), edges.tail1);
  }
  return q < 0.0 ? -value : value;
}

}  // namespace roisim
