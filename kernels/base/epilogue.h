#pragma once
// The epilogue of every float layer, whatever GEMM produced its accumulators: the GEMM tiers
// compute y = x · Wᵀ alone, so bias and activation are applied once, the same way, for all.

namespace lowbit::kernels {

// y[b][o] += bias[o], then max(0, ·) when `relu`; y is batch × outputs, row-major.
void add_bias_activation(float* y, int batch, int outputs, const float* bias, bool relu);

}  // namespace lowbit::kernels
