#pragma once
// The fp16 engine (fp16 at 32 bits, docs/precision.md "fp16 and bf16"): each layer's weights
// rounded once to IEEE half (nearest even) and kept as halves, 2 bytes each; every layer runs a
// gemm_f32f16 kernel (fp32 activations, F16C conversion, fp32 FMA) and the fp32 bias + ReLU
// epilogue. The result differs from fp32 only by the weights' rounding to half.

#include <memory>
#include <string>

#include "kernels/engine/engine.h"

namespace lowbit::kernels {

// `path`: "auto" (the fastest kernel the CPU supports and `isa_cap` admits), or one of "avx512",
// "avx2", "ref" (kernels/gemm/gemm_f32f16.h). Throws std::invalid_argument naming the path when it
// is unknown, and EngineUnavailable saying what is missing when this CPU (or the cap) cannot run
// it.
std::unique_ptr<InferenceEngine> make_fp16_engine(const Mlp& model, const std::string& path,
                                                  const std::string& isa_cap = "native");

// The model with every weight rounded to half and back (biases untouched): the fp32 model the
// fp16 engine computes, for comparing against fp32 engines.
Mlp round_weights_to_half(const Mlp& model);

}  // namespace lowbit::kernels
