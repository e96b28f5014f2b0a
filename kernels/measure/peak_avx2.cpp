// AVX2 + FMA throughput loops behind kernels/measure/peak.h. Compiled with -mavx2 -mfma -mf16c
// (kernels/isa_flags.cmake); nothing here may run unless the CPU reports avx2 and fma.
//
// Every loop is one asm block per iteration naming all its accumulators as in/out operands: the
// compiler must keep them in registers, cannot fold or drop the arithmetic, and the instruction
// the probe is about is exactly the one executed. Inputs are all ones, so the accumulator sum
// counts the multiply-adds done (PeakLoop in peak.h); tests check that count.

#include <immintrin.h>

#include <cstdint>

#include "kernels/measure/peak_isa.h"

namespace lowbit::kernels::peak_isa {

namespace {

double sum_lanes(const __m256 acc) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  double sum = 0;
  for (const float lane : lanes) sum += lane;
  return sum;
}

double sum_lanes(const __m256i acc) {
  alignas(32) std::int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  double sum = 0;
  for (const std::int32_t lane : lanes) sum += lane;
  return sum;
}

}  // namespace

// 12 independent ymm accumulators: Zen 3 and Skylake-to-Raptor-Lake cores retire 2 FMAs per
// cycle at 4 cycles latency, so 8 chains are needed in flight; 12 leave slack. Two rounds per
// iteration keep the loop counter's share of the front end small.
// Ops per iteration: 2 rounds × 12 FMAs × 8 lanes × 2 = 384.
double fp32_fma_avx2(std::int64_t iterations) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  __m256 a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
// clang-format off
#define LOWBIT_FMA(acc) "vfmadd231ps %[one], %[one], %[" #acc "]\n\t"
#define LOWBIT_FMA_ROUND                                                                      \
  LOWBIT_FMA(a0) LOWBIT_FMA(a1) LOWBIT_FMA(a2) LOWBIT_FMA(a3) LOWBIT_FMA(a4) LOWBIT_FMA(a5) \
  LOWBIT_FMA(a6) LOWBIT_FMA(a7) LOWBIT_FMA(a8) LOWBIT_FMA(a9) LOWBIT_FMA(a10) LOWBIT_FMA(a11)
  // clang-format on
  for (std::int64_t i = 0; i < iterations; ++i) {
    asm volatile(LOWBIT_FMA_ROUND LOWBIT_FMA_ROUND
                 : [a0] "+x"(a0), [a1] "+x"(a1), [a2] "+x"(a2), [a3] "+x"(a3), [a4] "+x"(a4),
                   [a5] "+x"(a5), [a6] "+x"(a6), [a7] "+x"(a7), [a8] "+x"(a8), [a9] "+x"(a9),
                   [a10] "+x"(a10), [a11] "+x"(a11)
                 : [one] "x"(one));
  }
#undef LOWBIT_FMA_ROUND
#undef LOWBIT_FMA
  return sum_lanes(a0) + sum_lanes(a1) + sum_lanes(a2) + sum_lanes(a3) + sum_lanes(a4) +
         sum_lanes(a5) + sum_lanes(a6) + sum_lanes(a7) + sum_lanes(a8) + sum_lanes(a9) +
         sum_lanes(a10) + sum_lanes(a11);
}

// The u8·s8 sequence of AVX2 int8 GEMMs without VNNI (oneDNN's avx2 kernels, ggml's
// mul_sum_us8_pairs): vpmaddubsw multiplies 32 u8·s8 pairs and adds neighbours into int16,
// vpmaddwd by ones widens neighbours into int32, vpaddd accumulates. Six independent chains; only
// the vpaddd into each accumulator is loop-carried, so the two multiplies bound the rate.
// Ops per iteration: 6 chains × 32 multiply-adds × 2 = 384.
double int8_dot_avx2(std::int64_t iterations) {
  const __m256i bytes = _mm256_set1_epi8(1);   // both the u8 and the s8 operand
  const __m256i words = _mm256_set1_epi16(1);  // vpmaddwd's ones
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
// clang-format off
#define LOWBIT_DOT(acc, tmp)                              \
  "vpmaddubsw %[s8], %[u8], %[" #tmp "]\n\t"              \
  "vpmaddwd %[ones], %[" #tmp "], %[" #tmp "]\n\t"        \
  "vpaddd %[" #tmp "], %[" #acc "], %[" #acc "]\n\t"
  // clang-format on
  for (std::int64_t i = 0; i < iterations; ++i) {
    __m256i t0, t1, t2, t3, t4, t5;  // written before read: early-clobber outputs
    asm volatile(LOWBIT_DOT(a0, t0) LOWBIT_DOT(a1, t1) LOWBIT_DOT(a2, t2) LOWBIT_DOT(a3, t3)
                     LOWBIT_DOT(a4, t4) LOWBIT_DOT(a5, t5)
                 : [a0] "+x"(a0), [a1] "+x"(a1), [a2] "+x"(a2), [a3] "+x"(a3), [a4] "+x"(a4),
                   [a5] "+x"(a5), [t0] "=&x"(t0), [t1] "=&x"(t1), [t2] "=&x"(t2), [t3] "=&x"(t3),
                   [t4] "=&x"(t4), [t5] "=&x"(t5)
                 : [u8] "x"(bytes), [s8] "x"(bytes), [ones] "x"(words));
  }
#undef LOWBIT_DOT
  return sum_lanes(a0) + sum_lanes(a1) + sum_lanes(a2) + sum_lanes(a3) + sum_lanes(a4) +
         sum_lanes(a5);
}

// Four accumulators so the 1-cycle vpaddq latency never limits a stream that DRAM feeds at a few
// bytes per cycle; `count` is a multiple of 16 and `src` 32-byte aligned.
std::uint64_t sum_u64_avx2(const std::uint64_t* src, std::int64_t count) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (std::int64_t i = 0; i < count; i += 16) {
    s0 = _mm256_add_epi64(s0, _mm256_load_si256(reinterpret_cast<const __m256i*>(src + i)));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256(reinterpret_cast<const __m256i*>(src + i + 4)));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256(reinterpret_cast<const __m256i*>(src + i + 8)));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256(reinterpret_cast<const __m256i*>(src + i + 12)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

}  // namespace lowbit::kernels::peak_isa
