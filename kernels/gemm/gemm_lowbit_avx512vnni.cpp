// gemm_lowbit with AVX-512 VNNI (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni
// -mf16c -ffp-contract=off, kernels/isa_flags.cmake; run only where the CPU has all of them,
// kernels/gemm/gemm_lowbit.cpp). The algorithm is gemm_lowbit_tiles_x86.h's on 256-bit vectors
// (AVX512-VL encodings); this file supplies the multiply: vpdpbusd sums four u8 × s8 products
// straight into each int32 lane, replacing AVX2's vpmaddubsw + vpaddw and the per-group vpmaddwd.
// It cannot be run on an AVX2-only machine: the tests skip it there and say so.

// g++ 12 reports its own AVX-512 intrinsics as using uninitialized values when inlined at -O3
// (GCC bug 105593, fixed in g++ 13); see gemm_f32f16_avx512.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "kernels/gemm/gemm_lowbit_tiles_x86.h"

namespace lowbit::kernels {

namespace {

struct VnniDot {
  using Acc = __m256i;  // int32 lanes
  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc step(Acc acc, __m256i codes, __m256i activations) {
    return _mm256_dpbusd_epi32(acc, codes, activations);
  }
  static __m256i to_i32(Acc acc) { return acc; }
};

}  // namespace

void gemm_lowbit_avx512vnni(const GemmLowbitArgs& args) { gemm_lowbit_x86<VnniDot>(args); }

}  // namespace lowbit::kernels
