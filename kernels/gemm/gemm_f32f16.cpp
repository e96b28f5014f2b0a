#include "kernels/gemm/gemm_f32f16.h"

#include "kernels/base/tier_table.h"

namespace lowbit::kernels {

namespace {

bool cpu_has_avx2_f16c() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}

// Every flag gemm_f32f16_avx512.cpp is compiled with: the compiler may use any of them.
bool cpu_has_avx512_core_f16c() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         cpu_has_avx2_f16c();
}

bool always() { return true; }

constexpr F32F16Kernel kKernels[] = {
    {"avx512", "avx512f", "gemm_f32f16_avx512", "avx512_core",
     "avx512f avx512bw avx512vl avx512dq f16c fma", cpu_has_avx512_core_f16c, gemm_f32f16_avx512},
    {"avx2", "avx2_f16c", "gemm_f32f16_avx2", "avx2", "avx2 fma f16c", cpu_has_avx2_f16c,
     gemm_f32f16_avx2},
    {"ref", "ref", "gemm_f32f16_ref", "sse41", "", always, gemm_f32f16_ref},
};

constexpr TierTable<F32F16Kernel> kTable{"fp16", kKernels};

}  // namespace

std::span<const F32F16Kernel> f32f16_kernels() { return kTable.tiers(); }

const F32F16Kernel& select_f32f16_kernel(const std::string& isa_cap) {
  return kTable.select(isa_cap);
}

const F32F16Kernel& find_f32f16_kernel(const std::string& path, const std::string& isa_cap) {
  return kTable.find(path, isa_cap);
}

}  // namespace lowbit::kernels
