#pragma once
// Activations of the int4 compute path in int8 blocks (after llama.cpp's Q8_0): each
// row is cut into groups of the weights' group size G, and each group gets one fp32 scale
// d = max|x| / 127 and codes q = round(x / d) ∈ [−127, 127], so x ≈ d · q. Symmetric, because
// the weights carry the zero point (kernels/quant/block_quant.h) and the integer dot then needs
// only Σ q per group, stored alongside. The scale stays fp32: it is computed per call, never stored
// with the model, so rounding it to half would save nothing.
//
// One scalar function for every kernel tier: its output is what the tiers must agree on bit
// for bit, and at K values per row it is cheap next to the GEMM (N · K).

#include <cstdint>
#include <vector>

namespace lowbit::kernels {

struct Q8Blocks {
  int rows = 0;
  int cols = 0;                    // before padding
  int group_size = 0;              // 32, 64 or 128
  int groups = 0;                  // ceil(cols / group_size)
  std::vector<std::int8_t> codes;  // rows × groups · group_size; 0 past cols
  std::vector<float> scales;       // rows × groups
  std::vector<std::int32_t> sums;  // rows × groups

  std::size_t ld_codes() const {
    return static_cast<std::size_t>(groups) * static_cast<std::size_t>(group_size);
  }
};

// Quantizes src (rows × cols, leading dimension ld_src ≥ cols) into dst, reusing its storage
// (no allocation once it has held a batch this large). A group of zeros gets d = 0 and codes 0.
// Rounding is half to even (x · (1/d), then the float add-subtract of 1.5 · 2^23). NaN or
// infinite inputs give unspecified codes. Throws std::invalid_argument for a group size other
// than 32, 64 or 128, rows < 0, cols < 1 or ld_src < cols.
void quantize_q8_blocks(const float* src, int rows, int cols, int ld_src, int group_size,
                        Q8Blocks& dst, bool avx2 = false);

// The row loop with AVX2, identical output (kernels/gemm/q8_blocks_avx2.cpp); quantize_q8_blocks
// calls it when `avx2` is set, after sizing dst. Only for callers that checked the CPU: the
// int4 tiers that run AVX2 kernels anyway (kernels/gemm/gemm_lowbit.h `avx2_activations`).
void quantize_q8_rows_avx2(const float* src, int rows, int cols, int ld_src, Q8Blocks& dst);

}  // namespace lowbit::kernels
