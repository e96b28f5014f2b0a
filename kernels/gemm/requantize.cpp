#include "kernels/gemm/requantize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace lowbit::kernels {

namespace {

constexpr std::int64_t kQ31One = std::int64_t{1} << 31;  // 1.0 in Q31
// frexp's exponent below which M0·2^(e − 31) < 2^−62: every int32 times it
// rounds to 0, so TFLite (and we) store 0.
constexpr int kMinExponent = -31;
// x·2^32 already saturates for every x ≠ 0, so larger shifts change nothing
// and the int64 product below cannot overflow (|x| ≤ 2^31).
constexpr int kMaxUsefulLeftShift = 32;

}  // namespace

QuantizedMultiplier quantize_multiplier(double real_multiplier) {
  if (!std::isfinite(real_multiplier) || real_multiplier < 0.0) {
    throw std::invalid_argument(fmt::format(
        "quantize_multiplier: multiplier must be finite and >= 0, got {}", real_multiplier));
  }
  if (real_multiplier == 0.0) return {};
  int exponent = 0;
  const double q = std::frexp(real_multiplier, &exponent);  // q in [0.5, 1)
  // q·2^31 is exact in double (a power-of-two scaling); std::round is TFLite's TfLiteRound.
  auto m0 = static_cast<std::int64_t>(std::round(q * static_cast<double>(kQ31One)));
  if (m0 == kQ31One) {
    m0 /= 2;
    ++exponent;
  }
  if (exponent < kMinExponent) return {};
  return {static_cast<std::int32_t>(m0), exponent};
}

std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
  if (a == kMin && b == kMin) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int64_t nudge = ab >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
  return static_cast<std::int32_t>((ab + nudge) / kQ31One);
}

std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  assert(exponent >= 0 && exponent <= 31);
  // The mask in int64 first: 2^31 − 1 is fine in int32, but 1 << 31 is not.
  const auto mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // C++20: >> of a negative value is an arithmetic shift (floor division).
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

std::int32_t multiply_by_quantized_multiplier(std::int32_t x, QuantizedMultiplier m) {
  const int left = std::max(m.exponent, 0);
  const int right = std::max(-m.exponent, 0);
  const std::int64_t wide =
      static_cast<std::int64_t>(x) * (std::int64_t{1} << std::min(left, kMaxUsefulLeftShift));
  const auto shifted = static_cast<std::int32_t>(std::clamp<std::int64_t>(
      wide, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m.multiplier),
                                right);
}

}  // namespace lowbit::kernels
