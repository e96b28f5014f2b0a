// The `ref` tier of the fixed path: the obvious loops, int32 accumulation, and the scalar
// requantization of requantize.h. The oracle every faster tier is checked against bit for bit.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "kernels/gemm/gemm_u8s8.h"
#include "kernels/gemm/requantize.h"

namespace lowbit::kernels {

namespace {

std::size_t at(int row, int ld, int col) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(ld) +
         static_cast<std::size_t>(col);
}

bool cpu_any() { return true; }
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

}  // namespace

void quantize_src_u8_ref(const QuantizeSrcArgs& args) {
  const auto zero_point = static_cast<float>(args.zero_point);
  for (std::size_t i = 0; i < args.src.size(); ++i) {
    // fmax first: it maps NaN to 0, and the clamp happens in float so that no out-of-range
    // value is ever converted to an integer.
    const float q = std::round(args.src[i] / args.scale) + zero_point;
    args.dst[i] = static_cast<std::uint8_t>(std::fmin(std::fmax(q, 0.0f), 255.0f));
  }
}

void gemm_u8s8_s32_ref(const GemmU8S8Args& args) {
  const auto [m, n, k] = args.shape;
  for (int i = 0; i < m; ++i) {
    const std::uint8_t* x = args.src + at(i, args.ld_src, 0);
    for (int j = 0; j < n; ++j) {
      const std::int8_t* w = args.weights + at(j, args.ld_weights, 0);
      std::int32_t acc = 0;
      for (int p = 0; p < k; ++p) acc += static_cast<std::int32_t>(x[p]) * w[p];
      args.dst[at(i, args.ld_dst, j)] = acc;
    }
  }
}

void requantize_s32_u8_ref(const RequantizeU8Args& args) {
  const std::int32_t low = args.act_min - args.zero_point;
  const std::int32_t high = args.act_max - args.zero_point;
  for (int i = 0; i < args.rows; ++i) {
    for (int c = 0; c < args.channels; ++c) {
      const QuantizedMultiplier m{args.multiplier[c], args.exponent[c]};
      const int left = std::max(m.exponent, 0);
      const std::int64_t x_min = -(std::int64_t{1} << (31 - left));
      const std::int64_t x_max = (std::int64_t{1} << (31 - left)) - 1;
      const std::int64_t x = std::clamp<std::int64_t>(
          std::int64_t{args.acc[at(i, args.ld_acc, c)]} + args.bias[c], x_min, x_max);
      const std::int32_t r = multiply_by_quantized_multiplier(static_cast<std::int32_t>(x), m);
      args.dst[at(i, args.ld_dst, c)] =
          static_cast<std::uint8_t>(std::clamp(r, low, high) + args.zero_point);
    }
  }
}

std::span<const U8S8Path> u8s8_paths() {
  static constexpr U8S8Path kPaths[] = {
      {"avx2", cpu_has_avx2, quantize_src_u8_avx2, gemm_u8s8_s32_avx2, requantize_s32_u8_avx2},
      {"ref", cpu_any, quantize_src_u8_ref, gemm_u8s8_s32_ref, requantize_s32_u8_ref},
  };
  return kPaths;
}

}  // namespace lowbit::kernels
