// gemm_lowbit for AVX2 (compiled with -mavx2 -mf16c -ffp-contract=off, kernels/isa_flags.cmake;
// run only where the CPU has avx2 and f16c, kernels/gemm/gemm_lowbit.cpp). The algorithm is
// gemm_lowbit_tiles_x86.h's; this file supplies the multiply: vpmaddubsw (u8 codes × s8
// activations, adjacent pairs summed in int16, never saturating for these ranges) accumulated in
// int16 over a group's blocks, then vpmaddwd by ones into int32 once per group.
#include "kernels/gemm/gemm_lowbit_tiles_x86.h"

namespace lowbit::kernels {

namespace {

struct Avx2Dot {
  using Acc = __m256i;  // int16 lanes
  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc step(Acc acc, __m256i codes, __m256i activations) {
    return _mm256_add_epi16(acc, _mm256_maddubs_epi16(codes, activations));
  }
  static __m256i to_i32(Acc acc) { return _mm256_madd_epi16(acc, _mm256_set1_epi16(1)); }
};

}  // namespace

void gemm_lowbit_avx2(const GemmLowbitArgs& args) { gemm_lowbit_x86<Avx2Dot>(args); }

}  // namespace lowbit::kernels
