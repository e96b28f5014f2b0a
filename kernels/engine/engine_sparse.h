#pragma once
// The fp32 sparse engine (fp32 runs OpenBLAS or, when faster, a sparse kernel; docs/pruning.md "The
// sparse fp32 path"): every layer's weights in CSR (kernels/gemm/sparse_csr.h), a CSR × dense
// product per layer and the fp32 bias + ReLU epilogue. It computes the same function as the dense
// fp32 engines on the same (pruned) model; only the summation order differs. model_bytes() is what
// the CSR arrays and biases really occupy.

#include <cstdint>
#include <memory>
#include <string>

#include "kernels/engine/engine.h"

namespace lowbit::kernels {

// `path`: "auto" (the fastest CSR kernel the CPU supports and `isa_cap` admits), "avx2" or "ref".
// kernel() is "lowbit/csr_avx2" or "ref/csr". Throws std::invalid_argument naming the path when
// it is unknown, and EngineUnavailable saying what is missing when this CPU (or the cap) cannot
// run it.
std::unique_ptr<InferenceEngine> make_fp32_sparse_engine(const Mlp& model,
                                                         const std::string& path = "auto",
                                                         const std::string& isa_cap = "native");

// Whether the sparse engine is expected to beat OpenBLAS sgemm on `model` at `batch`, with one
// thread (the rule and the measurements behind it are in engine_sparse.cpp). For choosing the
// fp32 path; a forced path (--kernel) overrides it.
bool sparse_is_faster(const Mlp& model, int batch);

// The weight density (nonzero / dense weights, biases excluded) below which the sparse engine is
// expected to be faster at `batch`: the measured break-even, interpolated in log(batch).
double sparse_break_even_density(int batch);

}  // namespace lowbit::kernels
