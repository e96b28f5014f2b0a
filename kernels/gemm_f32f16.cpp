#include "kernels/gemm_f32f16.h"

#include <stdexcept>

#include "kernels/peak.h"

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

bool admitted(const F32F16Kernel& kernel, int cap_rank) {
  return isa_cap_rank(kernel.min_cap) <= cap_rank && kernel.cpu_supports();
}

}  // namespace

std::span<const F32F16Kernel> f32f16_kernels() { return kKernels; }

const F32F16Kernel& select_f32f16_kernel(const std::string& isa_cap) {
  const int cap_rank = isa_cap_rank(isa_cap);
  for (const F32F16Kernel& kernel : kKernels) {
    if (admitted(kernel, cap_rank)) return kernel;
  }
  return kKernels[std::size(kKernels) - 1];  // the reference admits every cap
}

const F32F16Kernel& find_f32f16_kernel(const std::string& path, const std::string& isa_cap) {
  if (path == "auto") return select_f32f16_kernel(isa_cap);
  const int cap_rank = isa_cap_rank(isa_cap);
  for (const F32F16Kernel& kernel : kKernels) {
    if (path != kernel.path) continue;
    if (!kernel.cpu_supports()) {
      throw std::invalid_argument("fp16 kernel path \"" + path + "\" cannot run here: it needs " +
                                  kernel.cpu_flags + " and this CPU lacks some of them");
    }
    if (!admitted(kernel, cap_rank)) {
      throw std::invalid_argument("fp16 kernel path \"" + path + "\" needs ISA cap " +
                                  kernel.min_cap + " or above, not " + isa_cap);
    }
    return kernel;
  }
  throw std::invalid_argument("no fp16 kernel path \"" + path +
                              "\" (known: auto, avx512, avx2, ref)");
}

}  // namespace lowbit::kernels
