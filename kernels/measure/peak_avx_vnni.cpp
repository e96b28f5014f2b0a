// AVX-VNNI (VEX-encoded vpdpbusd on ymm; Alder Lake and later, Zen 5) throughput loop behind
// kernels/measure/peak.h. Compiled with the AVX2 flags only (kernels/isa_flags.cmake): the VNNI
// instruction is in asm, so the compiler cannot emit one anywhere else. Nothing here may run unless
// the CPU reports avxvnni. See peak_avx2.cpp for why the loop is one asm block.

#include <immintrin.h>

#include <cstdint>

#include "kernels/measure/peak_isa.h"

namespace lowbit::kernels::peak_isa {

namespace {

double sum_lanes(const __m256i acc) {
  alignas(32) std::int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  double sum = 0;
  for (const std::int32_t lane : lanes) sum += lane;
  return sum;
}

}  // namespace

// vpdpbusd: each int32 lane += 4 u8·s8 products. Latency 5 at 2 per cycle on Golden Cove, so 10
// chains in flight; 12 independent accumulators. {vex} (%{vex%} in asm text) forces the AVX-VNNI
// encoding: without it the assembler may pick the EVEX (AVX512_VNNI) form, which such a CPU may
// lack. Ops per iteration: 12 × 8 lanes × 4 multiply-adds × 2 = 768.
double int8_dot_avx_vnni(std::int64_t iterations) {
  const __m256i bytes = _mm256_set1_epi8(1);  // both the u8 and the s8 operand
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  __m256i a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
#define LOWBIT_VNNI(acc) "%{vex%} vpdpbusd %[s8], %[u8], %[" #acc "]\n\t"
  for (std::int64_t i = 0; i < iterations; ++i) {
    asm volatile(LOWBIT_VNNI(a0) LOWBIT_VNNI(a1) LOWBIT_VNNI(a2) LOWBIT_VNNI(a3) LOWBIT_VNNI(a4)
                     LOWBIT_VNNI(a5) LOWBIT_VNNI(a6) LOWBIT_VNNI(a7) LOWBIT_VNNI(a8) LOWBIT_VNNI(a9)
                         LOWBIT_VNNI(a10) LOWBIT_VNNI(a11)
                 : [a0] "+x"(a0), [a1] "+x"(a1), [a2] "+x"(a2), [a3] "+x"(a3), [a4] "+x"(a4),
                   [a5] "+x"(a5), [a6] "+x"(a6), [a7] "+x"(a7), [a8] "+x"(a8), [a9] "+x"(a9),
                   [a10] "+x"(a10), [a11] "+x"(a11)
                 : [u8] "x"(bytes), [s8] "x"(bytes));
  }
#undef LOWBIT_VNNI
  return sum_lanes(a0) + sum_lanes(a1) + sum_lanes(a2) + sum_lanes(a3) + sum_lanes(a4) +
         sum_lanes(a5) + sum_lanes(a6) + sum_lanes(a7) + sum_lanes(a8) + sum_lanes(a9) +
         sum_lanes(a10) + sum_lanes(a11);
}

}  // namespace lowbit::kernels::peak_isa
