#pragma once
// The three integer kernels of the `fixed` compute path (gemmlowp / TFLite, Jacob et al. 2018),
// in two tiers: `ref` (plain loops calling the scalar requantization of requantize.h; the test
// oracle) and `avx2` (gemm_u8s8_avx2.cpp, compiled with -mavx2 -mfma; call it only when the CPU
// reports avx2). Every function here is integer arithmetic once its float input is quantized, so
// the tiers agree bit for bit, and the tests check exactly that.
//
//   quantize_src   float activations → uint8 with one (S, Z): the entry into the integer domain;
//   gemm           uint8 activations × int8 weights → int32 accumulators;
//   requantize     int32 accumulators + bias → uint8 activations of the next layer (Q31 multiplier
//                  per output channel, ReLU as the clamp).

#include <cstdint>
#include <span>

#include "kernels/gemm/gemm.h"

namespace lowbit::kernels {

// dst[m][n] = Σ_k src[m][k] · weights[n][k]: row-major uint8 activations against int8 weights
// stored [out][in] (mlp.h), i.e. x · Wᵀ. Exact as long as |dst| < 2^31, which
// k · 255 · 128 < 2^31 (k ≤ 65,793) guarantees; callers check their depth.
struct GemmU8S8Args {
  GemmShape shape;  // m = batch, n = output channels, k = depth
  const std::uint8_t* src = nullptr;
  int ld_src = 0;
  const std::int8_t* weights = nullptr;
  int ld_weights = 0;
  std::int32_t* dst = nullptr;
  int ld_dst = 0;
};

// The output stage of a hidden layer, for every row m and channel c:
//   x = acc[m][c] + bias[c]                      (the caller keeps this inside int32)
//   x = clamp(x, −2^(31−L), 2^(31−L) − 1)        L = max(exponent[c], 0): x·2^L must fit int32
//   r = multiply_by_quantized_multiplier(x, {multiplier[c], exponent[c]})
//   dst[m][c] = clamp(r, act_min − Z, act_max − Z) + Z
// The clamp on x changes no result: a clamped x has |x·M| ≥ 2^30 (M ≥ 2^(L−1)), which saturates
// the output whether or not it is clamped. Clamping r before adding Z (rather than after) keeps
// r + Z from overflowing. Both make the stage defined for every int32 input.
struct RequantizeU8Args {
  int rows = 0;
  int channels = 0;
  const std::int32_t* acc = nullptr;
  int ld_acc = 0;
  const std::int32_t* bias = nullptr;        // per channel, with −Z_x·Σ_k q_w folded in
  const std::int32_t* multiplier = nullptr;  // M0 per channel, Q31 (quantize_multiplier)
  const std::int32_t* exponent = nullptr;    // per channel, in [−31, 30]
  std::int32_t zero_point = 0;               // Z of the output
  std::int32_t act_min = 0;                  // ReLU: max(0, Z)
  std::int32_t act_max = 255;
  std::uint8_t* dst = nullptr;
  int ld_dst = 0;
};

// dst[i] = clamp(round(src[i] / scale) + zero_point, 0, 255), rounding half away from zero
// (std::round) in float; NaN becomes 0.
struct QuantizeSrcArgs {
  std::span<const float> src;
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  std::uint8_t* dst = nullptr;
};

void quantize_src_u8_ref(const QuantizeSrcArgs& args);
void gemm_u8s8_s32_ref(const GemmU8S8Args& args);
void requantize_s32_u8_ref(const RequantizeU8Args& args);

// gemm_u8s8_avx2.cpp. Illegal instructions on a CPU without AVX2: go through u8s8_paths().
void quantize_src_u8_avx2(const QuantizeSrcArgs& args);
void gemm_u8s8_s32_avx2(const GemmU8S8Args& args);
void requantize_s32_u8_avx2(const RequantizeU8Args& args);

// One tier: its name and the three kernels. Listed fastest first, `ref` last: the first that the
// CPU supports runs, and its name is recorded with the result (docs/architecture.md "Kernel tiers
// and how a path is chosen").
struct U8S8Path {
  const char* name;  // "avx2", "ref"
  bool (*cpu_supports)();
  void (*quantize_src)(const QuantizeSrcArgs&);
  void (*gemm)(const GemmU8S8Args&);
  void (*requantize)(const RequantizeU8Args&);
};
std::span<const U8S8Path> u8s8_paths();

// The largest depth whose accumulators cannot overflow int32 (255 · 128 · k < 2^31).
inline constexpr int kMaxU8S8Depth = 65793;

}  // namespace lowbit::kernels
