#pragma once
// The per-ISA throughput loops behind kernels/measure/peak.h, one file per ISA, each compiled with
// its own -m flags (kernels/isa_flags.cmake). Calling one on a CPU without its ISA is an illegal
// instruction: go through peak_loops(), whose entries check the CPU first.
//
// Each loop runs `iterations` times with every input equal to 1 and returns the sum of its
// accumulators, i.e. the number of multiply-adds it did (PeakLoop in peak.h). Its ops per
// iteration are written beside it and in peak_loops().

#include <cstdint>

namespace lowbit::kernels::peak_isa {

// peak_avx2.cpp (-mavx2 -mfma -mf16c); CPU: avx2, fma
double fp32_fma_avx2(std::int64_t iterations);  // vfmadd231ps ymm
double int8_dot_avx2(std::int64_t iterations);  // vpmaddubsw + vpmaddwd + vpaddd ymm
// Sum of `count` (a multiple of 16) words at `src` (32-byte aligned), with ymm loads.
std::uint64_t sum_u64_avx2(const std::uint64_t* src, std::int64_t count);

// peak_avx_vnni.cpp (-mavx2 -mfma -mf16c; the VNNI instruction is asm); CPU: avx2, fma, avxvnni
double int8_dot_avx_vnni(std::int64_t iterations);  // {vex} vpdpbusd ymm

// peak_avx512.cpp (-mavx512f -mavx512bw -mavx512vl -mavx512dq; VNNI and BF16 are asm);
// CPU: avx512f, avx512bw, avx512vl, avx512dq, plus avx512vnni or avx512bf16 where named
double fp32_fma_avx512(std::int64_t iterations);       // vfmadd231ps zmm
double int8_dot_avx512bw(std::int64_t iterations);     // vpmaddubsw + vpmaddwd + vpaddd zmm
double int8_dot_avx512_vnni(std::int64_t iterations);  // vpdpbusd zmm
double bf16_dot_avx512(std::int64_t iterations);       // vdpbf16ps zmm

}  // namespace lowbit::kernels::peak_isa
