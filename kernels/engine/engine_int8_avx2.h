#pragma once
// The `int8` compute path on our own AVX2 kernel: the int8 mode's arithmetic (int8_reference.h:
// the same quantized model, epilogue and activation handling) with the u8 × s8 → s32 GEMM of the
// fixed path (gemm_u8s8.h), whose int16 products via vpmaddwd never saturate, so activations
// keep all 8 bits on any AVX2 CPU. Why it exists next to oneDNN: without VNNI, oneDNN 2.6 runs
// int8 matmul as gemm:jit, which re-packs the weights on every call — at batch 1 that costs more
// than the whole fp32 GEMV. The accumulators are exact, so the output equals the reference
// twin's (same options) bit for bit. kernel() is "lowbit/u8s8_avx2/int8".

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/engine/engine.h"
#include "kernels/engine/int8_reference.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

struct U8S8Path;

// True when the CPU can run it (avx2).
bool int8_avx2_supported();

// One int8 layer on a u8s8 GEMM tier (gemm_u8s8.h): the exact int32 accumulators into `acc`
// (grown as needed), then the mode's epilogue (int8_store) element by element. Shared by this
// path and the oneDNN engine's small-batch route.
void run_int8_layer_u8s8(const U8S8Path& path, const Int8Layer& layer, const Int8LayerCall& call,
                         std::vector<std::int32_t>& acc);

// options.range kAuto means the full range [0, 255] here (nothing saturates). Throws as
// quantize_int8_model, and EngineUnavailable on a CPU without AVX2.
std::unique_ptr<InferenceEngine> make_int8_avx2_engine(const Mlp& model, const QuantSpec& spec,
                                                       const CalibrationSet& calibration,
                                                       const Int8Options& options = {});

}  // namespace lowbit::kernels
