// AVX-512 throughput loops behind kernels/measure/peak.h. Compiled with -mavx512f -mavx512bw
// -mavx512vl -mavx512dq (oneDNN's avx512_core; kernels/isa_flags.cmake), and every loop needs a CPU
// with those; the VNNI and BF16 loops need avx512vnni or avx512bf16 too. Their instructions are in
// asm only, so the compiler cannot emit one into the other loops. See peak_avx2.cpp for why each
// loop is asm.
//
// 16 independent zmm accumulators throughout: the deepest of these instructions has 6 cycles
// latency at 2 per cycle (Sapphire Rapids vdpbf16ps), so 12 chains must be in flight; "v"
// operands may use zmm16-31, so 16 accumulators plus the inputs fit without spilling. The
// accumulators are separate variables, not an array: GCC keeps an array of vectors in memory
// and would store and reload every accumulator around each asm block.

#include <immintrin.h>

#include <cstdint>

#include "kernels/measure/peak_isa.h"

namespace lowbit::kernels::peak_isa {

namespace {

double sum_lanes(const __m512 acc) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  double sum = 0;
  for (const float lane : lanes) sum += lane;
  return sum;
}

double sum_lanes(const __m512i acc) {
  alignas(64) std::int32_t lanes[16];
  _mm512_store_si512(lanes, acc);
  double sum = 0;
  for (const std::int32_t lane : lanes) sum += lane;
  return sum;
}

}  // namespace

// GCC allows 30 asm operands and an in/out one counts twice, so each iteration is two asm blocks
// of 8 accumulators, a0..a7 and then a8..a15, each block naming its eight %[r0]..%[r7].
// clang-format off
#define LOWBIT_OPERANDS8(x0, x1, x2, x3, x4, x5, x6, x7)                                  \
  [r0] "+v"(x0), [r1] "+v"(x1), [r2] "+v"(x2), [r3] "+v"(x3), [r4] "+v"(x4), [r5] "+v"(x5), \
      [r6] "+v"(x6), [r7] "+v"(x7)
#define LOWBIT_OP(op, r) op " %[src], %[src], %[" #r "]\n\t"
#define LOWBIT_OP8(op)                                                                  \
  LOWBIT_OP(op, r0) LOWBIT_OP(op, r1) LOWBIT_OP(op, r2) LOWBIT_OP(op, r3) LOWBIT_OP(op, r4) \
  LOWBIT_OP(op, r5) LOWBIT_OP(op, r6) LOWBIT_OP(op, r7)
// `op src, src, acc` into each of the 16 accumulators a0..a15, `iterations` times; returns their
// sum.
#define LOWBIT_LOOP16(Vec, zero, op, src)                                                        \
  Vec a0 = zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,       \
      a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;                     \
  for (std::int64_t i = 0; i < iterations; ++i) {                                              \
    asm volatile(LOWBIT_OP8(op) : LOWBIT_OPERANDS8(a0, a1, a2, a3, a4, a5, a6, a7)             \
                 : [src] "v"(src));                                                            \
    asm volatile(LOWBIT_OP8(op) : LOWBIT_OPERANDS8(a8, a9, a10, a11, a12, a13, a14, a15)       \
                 : [src] "v"(src));                                                            \
  }                                                                                            \
  return sum_lanes(a0) + sum_lanes(a1) + sum_lanes(a2) + sum_lanes(a3) + sum_lanes(a4) +       \
         sum_lanes(a5) + sum_lanes(a6) + sum_lanes(a7) + sum_lanes(a8) + sum_lanes(a9) +       \
         sum_lanes(a10) + sum_lanes(a11) + sum_lanes(a12) + sum_lanes(a13) + sum_lanes(a14) + \
         sum_lanes(a15)
// clang-format on

// avx512f. Ops per iteration: 16 FMAs × 16 lanes × 2 = 512.
double fp32_fma_avx512(std::int64_t iterations) {
  const __m512 src = _mm512_set1_ps(1.0f);
  LOWBIT_LOOP16(__m512, _mm512_setzero_ps(), "vfmadd231ps", src);
}

// avx512_vnni: each int32 lane += 4 u8·s8 products (src is both the u8 and the s8 operand).
// Ops per iteration: 16 × 16 lanes × 4 multiply-adds × 2 = 2048.
double int8_dot_avx512_vnni(std::int64_t iterations) {
  const __m512i src = _mm512_set1_epi8(1);
  LOWBIT_LOOP16(__m512i, _mm512_setzero_si512(), "vpdpbusd", src);
}

// avx512_bf16: each fp32 lane += 2 bf16 products; 0x3F80 is bf16 1.0.
// Ops per iteration: 16 × 16 lanes × 2 multiply-adds × 2 = 1024.
double bf16_dot_avx512(std::int64_t iterations) {
  const __m512i src = _mm512_set1_epi16(0x3F80);
  LOWBIT_LOOP16(__m512, _mm512_setzero_ps(), "vdpbf16ps", src);
}

#undef LOWBIT_LOOP16
#undef LOWBIT_OP8
#undef LOWBIT_OP
#undef LOWBIT_OPERANDS8

// avx512bw: the AVX2 int8 sequence (peak_avx2.cpp) on zmm, for AVX-512 CPUs without VNNI
// (Skylake-SP) or an ISA cap of avx512_core. Eight chains, each with its own temporary.
// Ops per iteration: 8 chains × 64 multiply-adds × 2 = 1024.
double int8_dot_avx512bw(std::int64_t iterations) {
  const __m512i bytes = _mm512_set1_epi8(1);   // both the u8 and the s8 operand
  const __m512i words = _mm512_set1_epi16(1);  // vpmaddwd's ones
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
          a7 = a0;
// clang-format off
#define LOWBIT_DOT(acc, tmp)                       \
  "vpmaddubsw %[s8], %[u8], %[" #tmp "]\n\t"       \
  "vpmaddwd %[ones], %[" #tmp "], %[" #tmp "]\n\t" \
  "vpaddd %[" #tmp "], %[" #acc "], %[" #acc "]\n\t"
  // clang-format on
  for (std::int64_t i = 0; i < iterations; ++i) {
    __m512i t0, t1, t2, t3, t4, t5, t6, t7;  // written before read: early-clobber outputs
    asm volatile(
        LOWBIT_DOT(a0, t0) LOWBIT_DOT(a1, t1) LOWBIT_DOT(a2, t2) LOWBIT_DOT(a3, t3)
            LOWBIT_DOT(a4, t4) LOWBIT_DOT(a5, t5) LOWBIT_DOT(a6, t6) LOWBIT_DOT(a7, t7)
        : [a0] "+v"(a0), [a1] "+v"(a1), [a2] "+v"(a2), [a3] "+v"(a3), [a4] "+v"(a4), [a5] "+v"(a5),
          [a6] "+v"(a6), [a7] "+v"(a7), [t0] "=&v"(t0), [t1] "=&v"(t1), [t2] "=&v"(t2),
          [t3] "=&v"(t3), [t4] "=&v"(t4), [t5] "=&v"(t5), [t6] "=&v"(t6), [t7] "=&v"(t7)
        : [u8] "v"(bytes), [s8] "v"(bytes), [ones] "v"(words));
  }
#undef LOWBIT_DOT
  return sum_lanes(a0) + sum_lanes(a1) + sum_lanes(a2) + sum_lanes(a3) + sum_lanes(a4) +
         sum_lanes(a5) + sum_lanes(a6) + sum_lanes(a7);
}

}  // namespace lowbit::kernels::peak_isa
