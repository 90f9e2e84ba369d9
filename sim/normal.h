#pragma once
// The standard normal distribution: CDF and its inverse, to full double precision.

namespace roisim {

// Phi(z) = P[Z <= z] for Z ~ N(0, 1).
double normal_cdf(double z) noexcept;
// Phi^{-1}(p) for p in (0, 1) (Wichura's AS241, relative error about 1e-16);
// -inf at 0 and +inf at 1.
double normal_quantile(double p) noexcept;

}  // namespace roisim
