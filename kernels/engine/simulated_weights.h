#pragma once
// A float mode with b ≤ 8 weight bits (docs/precision.md "Bits × precision": weights
// quantize-dequantized to b bits, then the float kernel): the accuracy of b-bit weights at the
// latency of the float kernel. The result says `weights: "simulated"` so nobody mistakes the
// latency for that of a b-bit kernel.

#include <memory>

#include "kernels/engine/engine.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

// The model with every weight matrix quantize-dequantized (fake_quantize_weights) at spec.bits
// with spec.scheme and spec.granularity; biases and normalization untouched.
Mlp fake_quantize_model(const Mlp& model, const QuantSpec& spec);

// Wraps a float engine built on fake-quantized weights: every call forwards, weights() says
// "simulated".
std::unique_ptr<InferenceEngine> mark_simulated(std::unique_ptr<InferenceEngine> engine);

}  // namespace lowbit::kernels
