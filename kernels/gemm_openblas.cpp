#include <cblas.h>

#include "kernels/gemm.h"

namespace lowbit::kernels {

namespace {

CBLAS_TRANSPOSE to_cblas(Transpose t) { return t == Transpose::kNo ? CblasNoTrans : CblasTrans; }

}  // namespace

void sgemm_openblas(const GemmArgs& args) {
  cblas_sgemm(CblasRowMajor, to_cblas(args.trans_a), to_cblas(args.trans_b), args.shape.m,
              args.shape.n, args.shape.k, args.alpha, args.a, args.lda, args.b, args.ldb, args.beta,
              args.c, args.ldc);
}

}  // namespace lowbit::kernels
