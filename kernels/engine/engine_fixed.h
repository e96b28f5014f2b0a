#pragma once
// The `fixed` compute path: integer-only inference (gemmlowp / TFLite), from the quantization of
// the normalized input to the last layer's int32 accumulators. uint8 activations × int8 weights
// (b bits, symmetric per channel) → int32, requantized per channel by a Q31 multiplier with ReLU
// as the clamp. The only float after the input quantization is the last step: the logits are the
// last layer's accumulators plus bias times S_x·S_w[c].

#include <memory>
#include <string>

#include "kernels/engine/engine.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

// Quantizes `model` once (fixed_model.h: static calibration on `calibration`, which must hold
// training images, never test images) and binds it to a tier of gemm_u8s8.h: "avx2", "ref", or
// "auto" (the first of u8s8_paths() the CPU supports). Every tier gives the same logits bit for
// bit. kernel() is "lowbit/fixed_u8s8_<tier>".
// Throws std::invalid_argument naming the problem: bits outside 2..8, an unknown path, a path the
// CPU cannot run, an empty calibration set (and what quantize_fixed_model rejects).
std::unique_ptr<InferenceEngine> make_fixed_engine(const Mlp& model, const QuantSpec& spec,
                                                   const CalibrationSet& calibration,
                                                   const std::string& path = "auto");

}  // namespace lowbit::kernels
