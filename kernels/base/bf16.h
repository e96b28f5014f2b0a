#pragma once
// bfloat16: the top 16 bits of an IEEE float (sign, 8 exponent bits, 7 fraction bits). The
// conversion rounds to nearest, ties to even, as oneDNN's reorders, AVX512_BF16's vcvtneps2bf16
// and PyTorch do; the reference twin of the bf16 path (engine_onednn_bf16.h) must round exactly
// like them, so this is the one definition. NaN stays NaN (quieted), ±inf stays ±inf, finite
// values past the largest bf16 round to ±inf, denormals are kept (no flush to zero).

#include <bit>
#include <cstdint>

namespace lowbit::kernels {

inline std::uint16_t float_to_bf16(float x) {
  constexpr std::uint32_t kAbsMask = 0x7fffffffU;
  constexpr std::uint32_t kInfinity = 0x7f800000U;
  constexpr std::uint32_t kQuietBit = 0x0040U;  // in the 16-bit result
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  if ((bits & kAbsMask) > kInfinity) {
    // Rounding could carry a NaN's payload into the exponent and make it inf: keep it a NaN.
    return static_cast<std::uint16_t>((bits >> 16) | kQuietBit);
  }
  // Add just under half an ulp of the result, plus one if the kept lsb is odd: ties go to even.
  const std::uint32_t lsb = (bits >> 16) & 1U;
  return static_cast<std::uint16_t>((bits + 0x7fffU + lsb) >> 16);
}

inline float bf16_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

// x rounded to the nearest bf16, as a float.
inline float round_to_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

}  // namespace lowbit::kernels
