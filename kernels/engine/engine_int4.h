#pragma once
// The int4 engine (int4 at 2..4 bits, every layer; docs/precision.md "int4: packed 2-, 3- and 4-bit
// weights"): each layer's weights in packed groups (kernels/quant/block_quant.h: b-bit codes, one
// half scale — and for asymmetric groups one zero point — per group of G inputs, found by the
// error-minimizing search), activations quantized per call to int8 blocks of the same G
// (kernels/gemm/q8_blocks.h), one gemm_lowbit kernel per layer (kernels/gemm/gemm_lowbit.h), then
// bias + ReLU in fp32.
//
// kernel() names the width, group and tier, e.g. "lowbit/q4_g32_avx2"; layers() gives each
// layer's kernel and, in impl, the function and the scheme. model_bytes() is what the path really
// stores: packed codes (padding included), scales, zero points and fp32 biases.
// Engines with the same model, bits, G and scheme compute bit-identical logits on every path
// (the kernels' contract), so "ref" is every other path's twin.

#include <memory>
#include <string>

#include "kernels/engine/engine.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

// bits ∈ {2, 3, 4}; group_size ∈ {32, 64, 128}; `path`: "auto" (the fastest kernel the CPU
// supports and `isa_cap` admits) or one of "avx512_vnni", "avx2", "portable", "ref".
// Throws std::invalid_argument naming the field ("bits", "group_size", "path", "isa_cap", or the
// model) for bad arguments, and EngineUnavailable when the forced path cannot run on this CPU or
// under this cap.
//
// `calibration` (training images; null or empty: none): when given, each layer's groups are
// searched for the least error weighted by the layer's input statistics, and its bias corrected
// for the mean shift quantization causes (kernels/quant/int4_calibration.h). Without it, the plain
// per-group least squared error.
std::unique_ptr<InferenceEngine> make_int4_engine(const Mlp& model, int bits, int group_size,
                                                  QuantScheme scheme,
                                                  const std::string& path = "auto",
                                                  const std::string& isa_cap = "native",
                                                  const CalibrationSet* calibration = nullptr);

struct BlockQuantSpec;

// The same with every weight-format choice explicit (kernels/quant/block_quant.h), e.g. min-max
// scales instead of the search, for comparing them. Throws as above.
std::unique_ptr<InferenceEngine> make_int4_engine(const Mlp& model, const BlockQuantSpec& spec,
                                                  const std::string& path = "auto",
                                                  const std::string& isa_cap = "native",
                                                  const CalibrationSet* calibration = nullptr);

}  // namespace lowbit::kernels
