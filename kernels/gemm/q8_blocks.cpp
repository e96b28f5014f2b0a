#include "kernels/gemm/q8_blocks.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace lowbit::kernels {

namespace {

constexpr float kQ8Max = 127.0f;

// Half to even for |v| ≤ 2^22 (see block_quant_group.cpp); plain float arithmetic.
float round_half_even(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 · 2^23
  return (v + kMagic) - kMagic;
}

// Clamps to [−127, 127]; NaN goes to −127, so the int conversion below is always defined.
float clamp_q8(float v) { return v > kQ8Max ? kQ8Max : (v >= -kQ8Max ? v : -kQ8Max); }

}  // namespace

void quantize_q8_blocks(const float* src, int rows, int cols, int ld_src, int group_size,
                        Q8Blocks& dst, bool avx2) {
  if (group_size != 32 && group_size != 64 && group_size != 128) {
    throw std::invalid_argument("group_size must be 32, 64 or 128, not " +
                                std::to_string(group_size));
  }
  if (rows < 0 || cols < 1 || ld_src < cols) {
    throw std::invalid_argument("quantize_q8_blocks: bad shape " + std::to_string(rows) + " × " +
                                std::to_string(cols) + " (ld " + std::to_string(ld_src) + ")");
  }
  dst.rows = rows;
  dst.cols = cols;
  dst.group_size = group_size;
  dst.groups = (cols + group_size - 1) / group_size;
  const std::size_t ld = dst.ld_codes();
  const auto groups = static_cast<std::size_t>(dst.groups);
  const auto g_size = static_cast<std::size_t>(group_size);
  const auto n_cols = static_cast<std::size_t>(cols);
  if (dst.codes.size() < static_cast<std::size_t>(rows) * ld) {
    dst.codes.resize(static_cast<std::size_t>(rows) * ld);
    dst.scales.resize(static_cast<std::size_t>(rows) * groups);
    dst.sums.resize(static_cast<std::size_t>(rows) * groups);
  }
  if (avx2) {
    quantize_q8_rows_avx2(src, rows, cols, ld_src, dst);
    return;
  }
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    const float* x = src + r * static_cast<std::size_t>(ld_src);
    std::int8_t* q = dst.codes.data() + r * ld;
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t first = g * g_size;
      const std::size_t end = first + g_size < n_cols ? first + g_size : n_cols;
      float amax = 0.0f;
      // A compare-select, not std::fmax (a libm call per element that no loop vectorizes:
      // it was a third of an int4 forward pass at batch 64). The max of |x| is exact in any
      // order; only NaN handling differs, and NaN inputs give unspecified codes anyway.
      for (std::size_t k = first; k < end; ++k) {
        const float a = std::fabs(x[k]);
        amax = a > amax ? a : amax;
      }
      const float d = amax / kQ8Max;
      const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
      std::int32_t sum = 0;
      for (std::size_t k = first; k < end; ++k) {
        const auto code = static_cast<std::int8_t>(round_half_even(clamp_q8(x[k] * inverse)));
        q[k] = code;
        sum += code;
      }
      for (std::size_t k = end; k < first + g_size; ++k) q[k] = 0;
      dst.scales[r * groups + g] = d;
      dst.sums[r * groups + g] = sum;
    }
  }
}

}  // namespace lowbit::kernels
