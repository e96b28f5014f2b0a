// The fp16 path's oracle: each half converted in software (exactly), each product exact in
// double (24 + 11 significant bits), the sum in double and rounded to float once at the end. Its
// only error is that last rounding plus a double-precision sum, so the fast kernels' tests can
// charge every other difference to their fp32 arithmetic (tests/kernels/gemm/test_fp16.cpp).
#include <cstddef>

#include "kernels/base/half.h"
#include "kernels/gemm/gemm_f32f16.h"

namespace lowbit::kernels {

void gemm_f32f16_ref(const GemmF32F16Args& args) {
  for (int b = 0; b < args.batch; ++b) {
    const float* src =
        args.src + static_cast<std::size_t>(b) * static_cast<std::size_t>(args.ld_src);
    float* dst = args.dst + static_cast<std::size_t>(b) * static_cast<std::size_t>(args.ld_dst);
    for (int o = 0; o < args.n; ++o) {
      const std::uint16_t* weights =
          args.weights + static_cast<std::size_t>(o) * static_cast<std::size_t>(args.ld_weights);
      double acc = 0.0;
      for (int k = 0; k < args.k; ++k) {
        acc += static_cast<double>(src[k]) * static_cast<double>(half_to_float(weights[k]));
      }
      dst[o] = static_cast<float>(acc);
    }
  }
}

}  // namespace lowbit::kernels
