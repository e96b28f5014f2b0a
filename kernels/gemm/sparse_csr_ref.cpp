// spmm_csr_ref: the obvious loops over each row's nonzeros, summed in double and rounded once —
// the oracle the AVX2 kernel is tested against.
#include "kernels/gemm/sparse_csr.h"

namespace lowbit::kernels {

void spmm_csr_ref(const SpmmArgs& args) {
  const CsrMatrix& w = *args.weights;
  for (int b = 0; b < args.batch; ++b) {
    const float* x = args.src + static_cast<std::size_t>(b) * static_cast<std::size_t>(args.ld_src);
    float* y = args.dst + static_cast<std::size_t>(b) * static_cast<std::size_t>(args.ld_dst);
    for (int o = 0; o < w.rows; ++o) {
      double sum = 0.0;
      for (std::int32_t j = w.row_ptr[static_cast<std::size_t>(o)];
           j < w.row_ptr[static_cast<std::size_t>(o) + 1]; ++j) {
        sum += static_cast<double>(w.values[static_cast<std::size_t>(j)]) *
               x[w.col_idx[static_cast<std::size_t>(j)]];
      }
      y[o] = static_cast<float>(sum);
    }
  }
}

}  // namespace lowbit::kernels
