#include "stats/mcnemar.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>

namespace lowbit::stats {

namespace {

// ln P(X = k) for X ~ Binomial(n, ½).
double log_binomial_half(std::int64_t n, std::int64_t k) {
  const auto nd = static_cast<double>(n);
  const auto kd = static_cast<double>(k);
  return std::lgamma(nd + 1.0) - std::lgamma(kd + 1.0) - std::lgamma(nd - kd + 1.0) -
         nd * std::numbers::ln2;
}

// P(X ≤ m) for m ≤ n/2: the largest term P(X = m) from lgamma, the smaller ones relative to it
// by the ratio P(X = k − 1) / P(X = k) = k / (n − k + 1), so no term underflows before it is
// counted. lgamma of n ~ 10⁴ carries ~1e-11 of relative error into the result; the sum adds
// a rounding per term.
double binomial_half_cdf(std::int64_t n, std::int64_t m) {
  double term = 1.0;
  double sum = 1.0;
  for (std::int64_t k = m; k >= 1; --k) {
    term *= static_cast<double>(k) / static_cast<double>(n - k + 1);
    sum += term;
    if (term < 1e-17 * sum) break;  // the rest cannot change the double
  }
  return std::exp(log_binomial_half(n, m)) * sum;
}

}  // namespace

McNemarResult mcnemar_exact(std::int64_t baseline_only, std::int64_t variant_only) {
  if (baseline_only < 0 || variant_only < 0) {
    throw std::invalid_argument(
        fmt::format("mcnemar_exact: discordant counts must be ≥ 0, got {} and {}", baseline_only,
                    variant_only));
  }
  McNemarResult r;
  r.baseline_only = baseline_only;
  r.variant_only = variant_only;
  const std::int64_t n = baseline_only + variant_only;
  if (n == 0) return r;
  const std::int64_t m = std::min(baseline_only, variant_only);
  r.p_value = std::min(1.0, 2.0 * binomial_half_cdf(n, m));
  return r;
}

McNemarResult mcnemar_exact(std::span<const std::uint8_t> baseline_correct,
                            std::span<const std::uint8_t> variant_correct) {
  if (baseline_correct.size() != variant_correct.size()) {
    throw std::invalid_argument(
        fmt::format("mcnemar_exact: {} baseline images but {} variant images; the test pairs them",
                    baseline_correct.size(), variant_correct.size()));
  }
  std::int64_t baseline_only = 0;
  std::int64_t variant_only = 0;
  for (std::size_t i = 0; i < baseline_correct.size(); ++i) {
    const bool base = baseline_correct[i] != 0;
    const bool variant = variant_correct[i] != 0;
    baseline_only += base && !variant ? 1 : 0;
    variant_only += variant && !base ? 1 : 0;
  }
  return mcnemar_exact(baseline_only, variant_only);
}

}  // namespace lowbit::stats
