// Fixed-point requantization (kernels/gemm/requantize.h) against exact integer
// references written independently of the implementation: 128-bit products and
// floor divisions, no floating point, so "equal" means bit for bit. The
// references are derived, not copied:
//   SRDHM(a, b)  = floor((a·b + 2^30) / 2^31), saturated to int32 — the nudge
//                  and truncating division of gemmlowp are exactly this (round
//                  to nearest, ties toward +∞);
//   RDBPOT(x, e) = x / 2^e rounded to nearest, ties away from zero;
//   multiply     = RDBPOT(SRDHM(x·2^left, M0), right), the same two roundings
//                  applied to the exact product x·M0·2^(e − 31).
// Random inputs are seeded; the seed is CAPTUREd so a failure can be replayed.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/gemm/requantize.h"

using namespace lowbit::kernels;

namespace {

using Wide = __int128;

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kTwo30 = std::int64_t{1} << 30;
constexpr std::int64_t kTwo31 = std::int64_t{1} << 31;

// Sanitizers slow the loops ~10×; fewer iterations keep the suite quick there,
// the Release build runs the full counts.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kIterationDivisor = 8;
#else
constexpr int kIterationDivisor = 1;
#endif
constexpr int kSrdhmPairs = 2'000'000 / kIterationDivisor;
constexpr int kRdbpotValues = 1'000'000 / kIterationDivisor;
constexpr int kMultiplyCases = 1'000'000 / kIterationDivisor;

// The values where rounding and saturation change behaviour.
constexpr std::array<std::int32_t, 11> kEdgeValues = {
    kMin, kMin + 1, -(1 << 30) - 1, -(1 << 30), -2, -1, 0, 1, 1 << 30, kMax - 1, kMax};

Wide floor_div(Wide n, Wide d) {  // d > 0
  const Wide q = n / d;
  return (n % d != 0 && n < 0) ? q - 1 : q;
}

std::int32_t saturate(Wide v) { return static_cast<std::int32_t>(std::clamp<Wide>(v, kMin, kMax)); }

std::int32_t srdhm_reference(std::int32_t a, std::int32_t b) {
  return saturate(floor_div(static_cast<Wide>(a) * b + kTwo30, kTwo31));
}

// Round half away from zero of v / 2^e, on the magnitude.
Wide round_div_pot_reference(Wide v, int e) {
  const Wide magnitude = v < 0 ? -v : v;
  const Wide half = e == 0 ? 0 : Wide{1} << (e - 1);
  const Wide rounded = (magnitude + half) >> e;
  return v < 0 ? -rounded : rounded;
}

std::int32_t rdbpot_reference(std::int32_t x, int e) {
  return static_cast<std::int32_t>(round_div_pot_reference(x, e));
}

// x·M0·2^(e − 31) with the kernel's two roundings, for x·2^left within int32.
std::int32_t multiply_reference(std::int32_t x, QuantizedMultiplier m) {
  const int left = std::max(m.exponent, 0);
  const int right = std::max(-m.exponent, 0);
  const Wide product = static_cast<Wide>(x) * (Wide{1} << left) * m.multiplier;
  const Wide high = floor_div(product + kTwo30, kTwo31);
  return saturate(round_div_pot_reference(high, right));
}

// A random int32: half the time uniform over all of int32, otherwise of a
// random bit length, so that small and mid-sized values are as common as huge.
std::int32_t random_int32(Rng& rng) {
  const std::uint64_t bits = rng.next_u64();
  if ((bits & 1) != 0) return static_cast<std::int32_t>(static_cast<std::uint32_t>(bits >> 32));
  const int length = static_cast<int>(rng.below(32));  // magnitude < 2^length
  const auto magnitude =
      static_cast<std::int64_t>((bits >> 1) & ((std::uint64_t{1} << length) - 1));
  return static_cast<std::int32_t>((bits & 2) != 0 ? -magnitude : magnitude);
}

}  // namespace

TEST_CASE("requantize: quantize_multiplier on hand-worked cases") {
  // 0.5 = 0.5·2^0: M0 = 0.5·2^31.
  QuantizedMultiplier m = quantize_multiplier(0.5);
  CHECK(m.multiplier == (1 << 30));
  CHECK(m.exponent == 0);
  // 1.0 = 0.5·2^1.
  m = quantize_multiplier(1.0);
  CHECK(m.multiplier == (1 << 30));
  CHECK(m.exponent == 1);
  // 0.75 = 0.75·2^0: M0 = 3·2^29.
  m = quantize_multiplier(0.75);
  CHECK(m.multiplier == 3 * (1 << 29));
  CHECK(m.exponent == 0);
  // q = 1 − 2^−33: q·2^31 = 2^31 − 1/4 rounds to 2^31, so M0 halves and e grows.
  m = quantize_multiplier(1.0 - std::ldexp(1.0, -33));
  CHECK(m.multiplier == (1 << 30));
  CHECK(m.exponent == 1);
  // q = 1 − 2^−31: q·2^31 = 2^31 − 1 exactly, the largest M0.
  m = quantize_multiplier(1.0 - std::ldexp(1.0, -31));
  CHECK(m.multiplier == kMax);
  CHECK(m.exponent == 0);
  // 2^−32 = 0.5·2^−31 is the smallest kept; anything below is 0.
  m = quantize_multiplier(std::ldexp(1.0, -32));
  CHECK(m.multiplier == (1 << 30));
  CHECK(m.exponent == -31);
  for (const double tiny : {std::ldexp(0.75, -32), std::ldexp(1.0, -33), 1e-20, 1e-300}) {
    CAPTURE(tiny);
    m = quantize_multiplier(tiny);
    CHECK(m.multiplier == 0);
    CHECK(m.exponent == 0);
  }
  // Just below 2^−32 the mantissa rounds up to 2^31 first, which lifts e to −31:
  // the order of the two rules matters.
  m = quantize_multiplier(std::ldexp(1.0 - std::ldexp(1.0, -40), -32));
  CHECK(m.multiplier == (1 << 30));
  CHECK(m.exponent == -31);
  m = quantize_multiplier(0.0);
  CHECK(m.multiplier == 0);
  CHECK(m.exponent == 0);
  CHECK_THROWS_AS(quantize_multiplier(-0.5), std::invalid_argument);
  CHECK_THROWS_AS(quantize_multiplier(std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(quantize_multiplier(std::numeric_limits<double>::infinity()),
                  std::invalid_argument);
}

TEST_CASE("requantize: quantize_multiplier is within half a unit of M0") {
  // M0 = round(q·2^31) with q·2^31 exact, so |M0·2^(e−31) − M| ≤ ½·2^(e−31)
  // exactly (both sides are exact in double: M0 has 31 bits).
  const std::uint64_t seed = 0x5eed0001;
  CAPTURE(seed);
  Rng rng(seed);
  for (int i = 0; i < 10'000; ++i) {
    const double real = std::exp2(-30.0 + 40.0 * rng.uniform());
    CAPTURE(real);
    const QuantizedMultiplier m = quantize_multiplier(real);
    REQUIRE(m.multiplier >= (1 << 30));
    REQUIRE(m.multiplier <= kMax);
    const double unit = std::ldexp(1.0, m.exponent - 31);
    CHECK(std::fabs(m.multiplier * unit - real) <= unit / 2);
  }
}

TEST_CASE("requantize: SRDHM equals the exact 128-bit reference") {
  // The saturating case first: (−1)·(−1) in Q31 is +1, which is not representable.
  CHECK(saturating_rounding_doubling_high_mul(kMin, kMin) == kMax);
  // Ties: 2^30·1 / 2^31 = ½ rounds to 1; −½ rounds up to 0 (ties toward +∞).
  CHECK(saturating_rounding_doubling_high_mul(1 << 30, 1) == 1);
  CHECK(saturating_rounding_doubling_high_mul(-(1 << 30), 1) == 0);
  CHECK(saturating_rounding_doubling_high_mul(3 << 29, 2) == 2);      // 1.5 → 2
  CHECK(saturating_rounding_doubling_high_mul(-(3 << 29), 2) == -1);  // −1.5 → −1
  for (const std::int32_t a : kEdgeValues) {
    for (const std::int32_t b : kEdgeValues) {
      CAPTURE(a);
      CAPTURE(b);
      CHECK(saturating_rounding_doubling_high_mul(a, b) == srdhm_reference(a, b));
    }
  }
  const std::uint64_t seed = 0x5eed0002;
  CAPTURE(seed);
  Rng rng(seed);
  int mismatches = 0;
  std::int32_t first_a = 0;
  std::int32_t first_b = 0;
  for (int i = 0; i < kSrdhmPairs; ++i) {
    const std::int32_t a = random_int32(rng);
    const std::int32_t b = random_int32(rng);
    if (saturating_rounding_doubling_high_mul(a, b) != srdhm_reference(a, b)) {
      if (mismatches++ == 0) {
        first_a = a;
        first_b = b;
      }
    }
  }
  CAPTURE(first_a);
  CAPTURE(first_b);
  CHECK(mismatches == 0);
}

TEST_CASE("requantize: RDBPOT equals the exact reference for every exponent") {
  for (int e = 0; e <= 31; ++e) {
    for (const std::int32_t x : kEdgeValues) {
      CAPTURE(e);
      CAPTURE(x);
      CHECK(rounding_divide_by_pot(x, e) == rdbpot_reference(x, e));
    }
  }
  // Ties go away from zero: ±2.5 → ±3, ±1.5 → ±2, ±0.5 → ±1.
  CHECK(rounding_divide_by_pot(5, 1) == 3);
  CHECK(rounding_divide_by_pot(-5, 1) == -3);
  CHECK(rounding_divide_by_pot(6, 2) == 2);
  CHECK(rounding_divide_by_pot(-6, 2) == -2);
  CHECK(rounding_divide_by_pot(-2, 2) == -1);
  CHECK(rounding_divide_by_pot(kMin, 31) == -1);
  CHECK(rounding_divide_by_pot(kMax, 31) == 1);
  CHECK(rounding_divide_by_pot(kMin, 0) == kMin);

  const std::uint64_t seed = 0x5eed0003;
  CAPTURE(seed);
  Rng rng(seed);
  int mismatches = 0;
  std::int32_t first_x = 0;
  int first_e = 0;
  for (int i = 0; i < kRdbpotValues; ++i) {
    const std::int32_t x = random_int32(rng);
    for (int e = 0; e <= 31; ++e) {
      if (rounding_divide_by_pot(x, e) != rdbpot_reference(x, e)) {
        if (mismatches++ == 0) {
          first_x = x;
          first_e = e;
        }
      }
    }
  }
  CAPTURE(first_x);
  CAPTURE(first_e);
  CHECK(mismatches == 0);
}

TEST_CASE("requantize: multiply_by_quantized_multiplier equals the exact double rounding") {
  const std::uint64_t seed = 0x5eed0004;
  CAPTURE(seed);
  Rng rng(seed);
  int mismatches = 0;
  int left_shifted = 0;   // e > 0: x·2^left, then SRDHM
  int right_shifted = 0;  // e ≤ 0: SRDHM, then RDBPOT
  std::int32_t first_x = 0;
  double first_real = 0.0;
  for (int i = 0; i < kMultiplyCases; ++i) {
    // Multipliers from 2^−33 (stored as 0) up to 2^8, so that e covers
    // −31..9 and the zero multiplier.
    const double real = std::exp2(-33.0 + 41.0 * rng.uniform());
    const QuantizedMultiplier m = quantize_multiplier(real);
    std::int32_t x = random_int32(rng);
    const int left = std::max(m.exponent, 0);
    x = static_cast<std::int32_t>(x / (std::int64_t{1} << left));  // keeps x·2^left in int32
    (m.exponent > 0 ? left_shifted : right_shifted) += 1;
    if (multiply_by_quantized_multiplier(x, m) != multiply_reference(x, m)) {
      if (mismatches++ == 0) {
        first_x = x;
        first_real = real;
      }
    }
  }
  CAPTURE(first_x);
  CAPTURE(first_real);
  CHECK(mismatches == 0);
  // Both branches (left shift and right shift) must actually have run.
  CHECK(left_shifted > kMultiplyCases / 10);
  CHECK(right_shifted > kMultiplyCases / 10);
  // Edge values with typical multipliers.
  for (const double real : {0.5, 0.999, 1.0, 1.5, std::ldexp(1.0, -20), 3e-9}) {
    const QuantizedMultiplier m = quantize_multiplier(real);
    for (std::int32_t x : kEdgeValues) {
      const int left = std::max(m.exponent, 0);
      x = static_cast<std::int32_t>(x / (std::int64_t{1} << left));
      CAPTURE(real);
      CAPTURE(x);
      CHECK(multiply_by_quantized_multiplier(x, m) == multiply_reference(x, m));
    }
  }
}

TEST_CASE("requantize: a left shift that overflows int32 saturates before SRDHM") {
  // M = 4 = 0.5·2^3: M0 = 2^30, left = 3. x = 2^30 gives x·8 = 2^33, saturated
  // to 2^31 − 1; SRDHM(2^31 − 1, 2^30) = round(2^30 − ½) = 2^30 (tie up).
  // The true product 2^32 is beyond int32 too; either way any clamp to an 8-
  // or 16-bit output range gives its maximum.
  const QuantizedMultiplier four = quantize_multiplier(4.0);
  REQUIRE(four.multiplier == (1 << 30));
  REQUIRE(four.exponent == 3);
  CHECK(multiply_by_quantized_multiplier(1 << 30, four) == (1 << 30));
  CHECK(multiply_by_quantized_multiplier(-(1 << 30), four) == -(1 << 30));
  CHECK(multiply_by_quantized_multiplier(kMax, four) == (1 << 30));
  CHECK(multiply_by_quantized_multiplier(kMin, four) == -(1 << 30));
  // Just inside: (2^28 − 1)·8 fits, and the result is the exact product.
  CHECK(multiply_by_quantized_multiplier((1 << 28) - 1, four) == 4 * ((1 << 28) - 1));
  // Absurd exponents (M = 2^40) saturate as well, without overflowing int64.
  const QuantizedMultiplier huge = quantize_multiplier(std::ldexp(1.0, 40));
  REQUIRE(huge.exponent == 41);
  CHECK(multiply_by_quantized_multiplier(1, huge) == (1 << 30));
  CHECK(multiply_by_quantized_multiplier(-1, huge) == -(1 << 30));
  CHECK(multiply_by_quantized_multiplier(0, huge) == 0);
  // Saturated results are never smaller in magnitude than 2^30 − 1, far outside
  // any int8/int16 output: the overflow cannot hide as an in-range value.
  const std::uint64_t seed = 0x5eed0005;
  CAPTURE(seed);
  Rng rng(seed);
  for (int i = 0; i < 10'000; ++i) {
    const QuantizedMultiplier m = quantize_multiplier(std::exp2(1.0 + 7.0 * rng.uniform()));
    const std::int32_t x = random_int32(rng);
    const std::int64_t wide = static_cast<std::int64_t>(x) << m.exponent;
    if (wide >= kMin && wide <= kMax) continue;
    CAPTURE(x);
    CAPTURE(m.exponent);
    CHECK(std::abs(static_cast<std::int64_t>(multiply_by_quantized_multiplier(x, m))) >=
          (1 << 30) - 1);
  }
}

TEST_CASE("requantize: the result is within 1 of the real product x·M") {
  // Why < 1: three small errors add up, each bounded.
  //  1. M0·2^(e−31) differs from M by ≤ ½·2^(e−31) ≤ M·2^−31 (M0 ≥ 2^30), so
  //     the exact x·M0·2^(e−31) is within |x·M|·2^−31 of x·M;
  //  2. SRDHM rounds x·2^left·M0/2^31 to an integer (≤ ½), which RDBPOT then
  //     divides by 2^right: ≤ 2^−(right+1) in the output;
  //  3. RDBPOT rounds once more: ≤ ½, and 0 when right = 0 — then the first
  //     rounding is the only one, ≤ ½.
  // For |x·M| ≤ 2^20 the total is < ½ + ¼ + 2^−11 < 1: the result is the real
  // product rounded up or down — the ±1 LSB of a double rounding, never more.
  // (x·M in double has relative error 2^−53, far below the margin.)
  const std::uint64_t seed = 0x5eed0006;
  CAPTURE(seed);
  Rng rng(seed);
  constexpr double kMaxProduct = 1 << 20;
  double worst = 0.0;
  for (int i = 0; i < 200'000; ++i) {
    const double real = std::exp2(-31.0 + 35.0 * rng.uniform());  // e from −30 to 5
    const QuantizedMultiplier m = quantize_multiplier(real);
    const double x_limit = std::min(kMaxProduct / real, static_cast<double>(kMax) / 64);
    const auto x = static_cast<std::int32_t>((2.0 * rng.uniform() - 1.0) * x_limit);
    const double exact = static_cast<double>(x) * real;
    const double err = std::fabs(multiply_by_quantized_multiplier(x, m) - exact);
    worst = std::max(worst, err);
    if (err >= 1.0) {
      CAPTURE(x);
      CAPTURE(real);
      CHECK(err < 1.0);
    }
  }
  CAPTURE(worst);
  CHECK(worst < 1.0);
  CHECK(worst > 0.5);  // the double rounding does show: some results are off by more than ½
}
