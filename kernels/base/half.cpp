#include "kernels/base/half.h"

#include <bit>

namespace lowbit::kernels {

namespace {

// binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
// binary32: 1 sign, 8 exponent (bias 127), 23 mantissa bits.
constexpr std::uint32_t kHalfMantissaBits = 10;
constexpr std::uint32_t kFloatMantissaBits = 23;
constexpr std::uint32_t kMantissaShift = kFloatMantissaBits - kHalfMantissaBits;  // 13
constexpr std::uint32_t kHalfMantissaMask = 0x3ff;
constexpr std::uint32_t kHalfExponentMax = 0x1f;
constexpr std::uint32_t kHalfQuietBit = 0x200;
constexpr std::uint32_t kHalfInfinity = 0x7c00;
constexpr std::uint32_t kFloatExponentMask = 0x7f800000;
constexpr std::uint32_t kFloatQuietBit = 0x00400000;
constexpr std::uint32_t kFloatAbsMask = 0x7fffffff;
constexpr std::uint32_t kBiasDifference = 127 - 15;
// |x| bit patterns that bound the cases of float_to_half.
constexpr std::uint32_t kRoundsToInfinity = 0x477ff000;    // 65520 = 65504 + half an ulp
constexpr std::uint32_t kSmallestNormalHalf = 0x38800000;  // 2^-14
constexpr std::uint32_t kRoundsToZero =
    0x33000000;  // 2^-25, half the smallest subnormal (a tie → 0)

}  // namespace

float half_to_float(std::uint16_t half) {
  const std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  std::uint32_t exponent = (half >> kHalfMantissaBits) & kHalfExponentMax;
  std::uint32_t mantissa = half & kHalfMantissaMask;
  std::uint32_t bits = 0;
  if (exponent == kHalfExponentMax) {
    // Infinity keeps a zero mantissa; a NaN keeps its payload and is made quiet, as F16C does.
    bits = sign | kFloatExponentMask | (mantissa << kMantissaShift) |
           (mantissa != 0 ? kFloatQuietBit : 0);
  } else if (exponent != 0) {
    bits =
        sign | ((exponent + kBiasDifference) << kFloatMantissaBits) | (mantissa << kMantissaShift);
  } else if (mantissa == 0) {
    bits = sign;  // ±0
  } else {
    // Subnormal: mantissa · 2^-24. Shift the leading one up to the implicit bit; each shift
    // halves the exponent the value would have as a normal half (2^-14 at the start).
    exponent = 1 + kBiasDifference;
    while ((mantissa & (kHalfMantissaMask + 1)) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << kFloatMantissaBits) |
           ((mantissa & kHalfMantissaMask) << kMantissaShift);
  }
  return std::bit_cast<float>(bits);
}

std::uint16_t float_to_half(float x) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t magnitude = bits & kFloatAbsMask;
  std::uint32_t half = 0;
  if (magnitude > kFloatExponentMask) {
    // NaN: quiet, with the top bits of the payload (vcvtps2ph does the same).
    half = kHalfInfinity | kHalfQuietBit | ((magnitude >> kMantissaShift) & kHalfMantissaMask);
  } else if (magnitude >= kRoundsToInfinity) {
    half = kHalfInfinity;  // overflow and infinity
  } else if (magnitude >= kSmallestNormalHalf) {
    // Normal: rebias, then round the 13 dropped bits to nearest even. Adding 0xfff plus the kept
    // lowest bit carries exactly when the dropped bits are above half, or at half with an odd
    // kept bit; a carry out of the mantissa correctly bumps the exponent (and stops below
    // infinity, thanks to the test above).
    const std::uint32_t rebiased = magnitude - (kBiasDifference << kFloatMantissaBits);
    const std::uint32_t odd = (rebiased >> kMantissaShift) & 1u;
    half = (rebiased + ((1u << (kMantissaShift - 1)) - 1) + odd) >> kMantissaShift;
  } else if (magnitude > kRoundsToZero) {
    // Subnormal: the result is round(|x| / 2^-24). With the implicit one made explicit,
    // |x| = m · 2^(e − 150), so |x| / 2^-24 = m / 2^(126 − e), a shift of 14..24 bits.
    const std::uint32_t exponent = magnitude >> kFloatMantissaBits;
    const std::uint32_t m =
        (magnitude & ((1u << kFloatMantissaBits) - 1)) | (1u << kFloatMantissaBits);
    const std::uint32_t shift = 126 - exponent;
    const std::uint32_t kept = m >> shift;
    const std::uint32_t dropped = m & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    // Rounding 0x3ff up gives 0x400, the smallest normal half: the encoding carries over.
    half = kept + ((dropped > halfway || (dropped == halfway && (kept & 1u) != 0)) ? 1u : 0u);
  }
  return static_cast<std::uint16_t>(sign | half);
}

std::vector<std::uint16_t> floats_to_halves(std::span<const float> src) {
  std::vector<std::uint16_t> dst(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = float_to_half(src[i]);
  return dst;
}

}  // namespace lowbit::kernels
