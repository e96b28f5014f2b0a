#pragma once
// Fixed-point requantization as gemmlowp and TFLite do it (Jacob et al. 2018,
// arXiv:1712.05877): a real multiplier M in (0, 1) or above becomes a Q31
// integer M0 in [2^30, 2^31) and a power-of-two exponent, and int32
// accumulators are scaled by SaturatingRoundingDoublingHighMul followed by
// RoundingDivideByPOT. Integer only; the results are pinned bit for bit.

#include <cstdint>

namespace lowbit::kernels {

struct QuantizedMultiplier {
  std::int32_t multiplier = 0;  // M0, Q31
  int exponent = 0;             // M ≈ M0 · 2^(exponent − 31)
};

// M = q·2^e with q in [0.5, 1) (frexp); M0 = round(q·2^31); if M0 = 2^31,
// M0 /= 2 and e += 1; if e < −31, M0 = 0 and e = 0. M = 0 gives {0, 0}.
// Throws std::invalid_argument for a negative, NaN or infinite M.
QuantizedMultiplier quantize_multiplier(double real_multiplier);

// SRDHM(a, b): if a = b = INT32_MIN return INT32_MAX; ab = (int64)a·b;
// nudge = ab ≥ 0 ? 2^30 : 1 − 2^30; return (int32)((ab + nudge) / 2^31).
// (C division truncates, so this is floor((ab + 2^30) / 2^31): round to
// nearest with ties toward +∞ — not away from zero, despite the nudge.)
std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b);

// RDBPOT(x, e): mask = 2^e − 1; rem = x & mask; thr = (mask >> 1) + (x < 0);
// return (x >> e) + (rem > thr).  0 ≤ e ≤ 31 (asserted). This is x / 2^e
// rounded to nearest, ties away from zero.
std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent);

// y = RDBPOT(SRDHM(x · 2^left, M0), right), left = max(e, 0), right = max(−e, 0).
// m.exponent ≥ −31, as quantize_multiplier guarantees.
// x · 2^left can overflow int32 when M ≥ 1 (left > 0). TFLite computes it in
// int32, which overflows (undefined behaviour in C++); we compute it in int64 and
// saturate to [INT32_MIN, INT32_MAX] before SRDHM. Where it does not overflow
// the result is TFLite's bit for bit. Where it does, y ≈ ±M0 ≥ 2^30 in
// magnitude instead of the true product, which is larger still: both lie far
// outside any 8- or 16-bit output range, so after the usual clamp to
// [act_min, act_max] the output is the same saturated code.
std::int32_t multiply_by_quantized_multiplier(std::int32_t x, QuantizedMultiplier m);

}  // namespace lowbit::kernels
