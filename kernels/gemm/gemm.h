#pragma once
// Single-precision GEMM in the kernel tiers (docs/architecture.md "Kernel tiers and how a path is
// chosen"): a plain-loop reference (the test oracle, fp64 accumulation) and OpenBLAS for real work.
// Row-major throughout: C[M×N] = alpha · op(A) · op(B) + beta · C.

#include <cstdint>
#include <string>

namespace lowbit::kernels {

enum class Transpose : std::uint8_t { kNo, kYes };

struct GemmShape {
  int m = 0;
  int n = 0;
  int k = 0;
};

// Leading dimensions are those of the stored (untransposed) row-major arrays.
struct GemmArgs {
  GemmShape shape;
  Transpose trans_a = Transpose::kNo;
  Transpose trans_b = Transpose::kNo;
  float alpha = 1.0f;
  const float* a = nullptr;
  int lda = 0;
  const float* b = nullptr;
  int ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int ldc = 0;
};

using GemmFn = void (*)(const GemmArgs&);

// The obvious triple loop, accumulating in double. Slow; used as the oracle.
void sgemm_ref(const GemmArgs& args);

// OpenBLAS cblas_sgemm.
void sgemm_openblas(const GemmArgs& args);

}  // namespace lowbit::kernels
