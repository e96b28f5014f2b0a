#include <cstddef>

#include "kernels/gemm/gemm.h"

namespace lowbit::kernels {

namespace {

float element(const float* m, int ld, Transpose trans, int row, int col) {
  const auto r = static_cast<std::size_t>(row);
  const auto c = static_cast<std::size_t>(col);
  const auto l = static_cast<std::size_t>(ld);
  return trans == Transpose::kNo ? m[r * l + c] : m[c * l + r];
}

}  // namespace

void sgemm_ref(const GemmArgs& args) {
  const auto [m, n, k] = args.shape;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int p = 0; p < k; ++p) {
        acc += static_cast<double>(element(args.a, args.lda, args.trans_a, i, p)) *
               static_cast<double>(element(args.b, args.ldb, args.trans_b, p, j));
      }
      float& dst = args.c[static_cast<std::size_t>(i) * static_cast<std::size_t>(args.ldc) +
                          static_cast<std::size_t>(j)];
      // beta == 0 must not read C: it may hold NaN garbage (BLAS semantics).
      const double prior = args.beta == 0.0f ? 0.0 : static_cast<double>(args.beta) * dst;
      dst = static_cast<float>(static_cast<double>(args.alpha) * acc + prior);
    }
  }
}

}  // namespace lowbit::kernels
