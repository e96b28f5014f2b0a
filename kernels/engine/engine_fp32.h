#pragma once
// fp32 engines: the reference (plain loops, the oracle) and OpenBLAS sgemm.

#include <memory>

#include "kernels/engine/engine.h"

namespace lowbit::kernels {

std::unique_ptr<InferenceEngine> make_fp32_reference_engine(const Mlp& model);
std::unique_ptr<InferenceEngine> make_fp32_openblas_engine(const Mlp& model);

}  // namespace lowbit::kernels
