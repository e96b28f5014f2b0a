#include "stats/normal.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace lowbit::stats {

namespace {

// Acklam's coefficients: a central rational function for p in [0.02425, 0.97575] and one for
// each tail in √(−2 ln p).
constexpr double kA[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                         1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
constexpr double kB[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                         6.680131188771972e+01, -1.328068155288572e+01};
constexpr double kC[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                         -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
constexpr double kD[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                         3.754408661907416e+00};
constexpr double kLowTail = 0.02425;

double acklam(double p) {
  if (p < kLowTail || p > 1.0 - kLowTail) {
    const double q = std::sqrt(-2.0 * std::log(p < kLowTail ? p : 1.0 - p));
    const double x = (((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5]) /
                     ((((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1.0);
    return p < kLowTail ? x : -x;
  }
  const double q = p - 0.5;
  const double r = q * q;
  return (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q /
         (((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1.0);
}

}  // namespace

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) {
    throw std::invalid_argument(fmt::format("normal_quantile: p = {} is outside (0, 1)", p));
  }
  // The upper half by symmetry: 1 − p is exact there, and Φ(x) − p loses digits near 1.
  if (p > 0.5) return -normal_quantile(1.0 - p);
  const double x = acklam(p);
  // Deep in the subnormal tail exp(x²/2) overflows; Acklam alone is the best there is.
  if (x * x / 2.0 > 700.0) return x;
  // Halley: e = Φ(x) − p, u = e·√(2π)·exp(x²/2) = e / φ(x); x − u / (1 + x·u/2).
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2.0 * std::numbers::pi) * std::exp(x * x / 2.0);
  return x - u / (1.0 + x * u / 2.0);
}

}  // namespace lowbit::stats
