#pragma once
// The standard normal distribution, for the large-sample approximations of the rank tests.

namespace lowbit::stats {

// Φ(x) = P(Z ≤ x), through erfc so that it stays accurate far into the lower tail.
double normal_cdf(double x);

// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error < 1.15e-9) refined by
// one step of Halley's method on normal_cdf, which brings it to a few ulps of the true quantile
// (Φ⁻¹(0.975) = 1.959963984540054); the upper half is −Φ⁻¹(1 − p). Throws
// std::invalid_argument outside (0, 1).
double normal_quantile(double p);

}  // namespace lowbit::stats
