#pragma once
// The `int8` compute path on oneDNN 2.6: per layer one dnnl::matmul, u8 activations × s8
// weights (spec.bits, symmetric per output channel) → f32 logits, or → u8 codes of the next layer
// (static activations, fused: clip post-op, per-column output scale S_x·S_w[n]/S_y, dst zero
// point), or → f32 that our loop requantizes (dynamic activations: runtime output scales and
// bias, since S_x is known only per batch). The arithmetic and the reference twin are in
// int8_reference.h; this file only binds it to oneDNN.
//
// Built once: weights handed to oneDNN as format_tag::any and reordered at construction into the
// layout the primitive chose; primitives created once with a runtime batch dimension
// (DNNL_RUNTIME_DIM_VAL) and reused for every batch size. kernel() is
// "onednn/<impl_info_str>/int8", e.g. "onednn/gemm:jit/int8" on AVX2.

#include <memory>

#include "kernels/engine/engine.h"
#include "kernels/engine/int8_reference.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

// Throws std::invalid_argument as quantize_int8_model (bits outside 2..8, static activations
// with an empty calibration set, ...), and dnnl::error if oneDNN cannot build a layer.
std::unique_ptr<InferenceEngine> make_onednn_int8_engine(const Mlp& model, const QuantSpec& spec,
                                                         const CalibrationSet& calibration,
                                                         const Int8Options& options = {});

}  // namespace lowbit::kernels
