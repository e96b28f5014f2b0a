#pragma once
// The `bf16` compute path (bf16 at 32 bits, docs/precision.md "fp16 and bf16"): per layer one
// oneDNN 2.6 dnnl::matmul, bf16 activations × bf16 weights → f32 accumulation; hidden layers write
// bf16 (bias and ReLU fused, round to nearest even), the last writes f32 logits. Weights are
// rounded to bf16 and reordered once, at construction, into the layout the primitive chose.
//
// oneDNN 2.6 implements bf16 from avx512_core up (emulated there, several times slower than fp32;
// native on avx512_core_bf16). Below it, or when oneDNN reports the primitive unimplemented, the
// builder refuses with the reason: it never falls back to fp32, because a result labelled bf16 must
// have run in bf16.

#include <memory>

#include "kernels/engine/engine.h"
#include "kernels/model/mlp.h"

namespace lowbit::kernels {

// Throws EngineUnavailable as described above. kernel() is "onednn/<impl_info_str>/bf16".
std::unique_ptr<InferenceEngine> make_onednn_bf16_engine(const Mlp& model);

// The twin: x and W rounded to bf16 (round to nearest even), products and sums in fp32 in
// k order, + bias, ReLU, and hidden outputs rounded to bf16 as the next layer's src. "ref/bf16".
std::unique_ptr<InferenceEngine> make_bf16_reference_engine(const Mlp& model);

}  // namespace lowbit::kernels
