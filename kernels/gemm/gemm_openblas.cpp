#include <cblas.h>

#include "kernels/gemm/gemm.h"

namespace lowbit::kernels {

namespace {

CBLAS_TRANSPOSE to_cblas(Transpose t) { return t == Transpose::kNo ? CblasNoTrans : CblasTrans; }

}  // namespace

void sgemm_openblas(const GemmArgs& args) {
  const auto [m, n, k] = args.shape;
  // A single row of A is a matrix-vector product: OpenBLAS's sgemv avoids the
  // packing sgemm does, which dominates at batch 1.
  if (m == 1 && args.trans_a == Transpose::kNo) {
    if (args.trans_b == Transpose::kYes) {
      // c = B · a with B stored N×K.
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, args.alpha, args.b, args.ldb, args.a, 1,
                  args.beta, args.c, 1);
    } else {
      // c = Bᵀ · a with B stored K×N.
      cblas_sgemv(CblasRowMajor, CblasTrans, k, n, args.alpha, args.b, args.ldb, args.a, 1,
                  args.beta, args.c, 1);
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, to_cblas(args.trans_a), to_cblas(args.trans_b), m, n, k, args.alpha,
              args.a, args.lda, args.b, args.ldb, args.beta, args.c, args.ldc);
}

}  // namespace lowbit::kernels
