// The int4 path's kernel table (kernels/gemm/gemm_lowbit.h): which tiers exist, what each needs,
// and how one is chosen or forced. Compiled for baseline x86-64, like every caller of the ISA
// files.
#include "kernels/gemm/gemm_lowbit.h"

#include "kernels/base/tier_table.h"
#include "kernels/gemm/q8_blocks.h"

namespace lowbit::kernels {

namespace {

bool cpu_has_avx2_f16c() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}

// Every flag gemm_lowbit_avx512vnni.cpp is compiled with: the compiler may use any of them.
bool cpu_has_avx512_vnni() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
         cpu_has_avx2_f16c();
}

bool always() { return true; }

constexpr LowbitKernel kKernels[] = {
    {"avx512_vnni", "gemm_lowbit_avx512vnni", "avx512_core_vnni",
     "avx512f avx512bw avx512vl avx512vnni f16c", cpu_has_avx512_vnni, gemm_lowbit_avx512vnni,
     nullptr, nullptr, true},
    {"avx2", "gemm_lowbit_avx2", "avx2", "avx2 f16c", cpu_has_avx2_f16c, gemm_lowbit_avx2,
     gemm_lowbit_x8_avx2, "gemm_lowbit_x8_avx2", true},
    {"portable", "gemm_lowbit_portable", "sse41", "", always, gemm_lowbit_portable, nullptr,
     nullptr, false},
    {"ref", "gemm_lowbit_ref", "sse41", "", always, gemm_lowbit_ref, nullptr, nullptr, false},
};

constexpr TierTable<LowbitKernel> kTable{"int4", kKernels};

}  // namespace

Q8BlocksView view_of(const Q8Blocks& b) {
  return {b.rows, b.codes.data(), b.ld_codes(), b.scales.data(), b.sums.data()};
}

std::span<const LowbitKernel> lowbit_kernels() { return kTable.tiers(); }

const LowbitKernel& select_lowbit_kernel(const std::string& isa_cap) {
  return kTable.select(isa_cap);
}

const LowbitKernel& find_lowbit_kernel(const std::string& path, const std::string& isa_cap) {
  return kTable.find(path, isa_cap);
}

}  // namespace lowbit::kernels
