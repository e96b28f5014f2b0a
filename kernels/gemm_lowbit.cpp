// The int4 path's kernel table (kernels/gemm_lowbit.h): which tiers exist, what each needs, and
// how one is chosen or forced. Compiled for baseline x86-64, like every caller of the ISA files.
#include "kernels/gemm_lowbit.h"

#include <stdexcept>

#include "kernels/block_quant.h"
#include "kernels/engine.h"
#include "kernels/peak.h"
#include "kernels/q8_blocks.h"

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
    {"portable", "gemm_lowbit_portable", "sse41", "", always, gemm_lowbit_portable, nullptr, nullptr, false},
    {"ref", "gemm_lowbit_ref", "sse41", "", always, gemm_lowbit_ref, nullptr, nullptr, false},
};

bool admitted(const LowbitKernel& kernel, int cap_rank) {
  return isa_cap_rank(kernel.min_cap) <= cap_rank && kernel.cpu_supports();
}

}  // namespace

LowbitWeightsView view_of(const BlockQuantMatrix& m) {
  LowbitWeightsView v;
  v.bits = m.spec.bits;
  v.n = m.rows;
  v.k = m.cols;
  v.group_size = m.spec.group_size;
  v.groups = m.groups_per_row();
  v.low = m.low.data();
  v.low_stride = m.low_bytes_per_row();
  v.high = m.high.empty() ? nullptr : m.high.data();
  v.high_stride = m.high_bytes_per_row();
  v.scales = m.scales.data();
  v.zero_points = m.zero_points.empty() ? nullptr : m.zero_points.data();
  return v;
}

Q8BlocksView view_of(const Q8Blocks& b) {
  return {b.rows, b.codes.data(), b.ld_codes(), b.scales.data(), b.sums.data()};
}

std::span<const LowbitKernel> lowbit_kernels() { return kKernels; }

const LowbitKernel& select_lowbit_kernel(const std::string& isa_cap) {
  const int cap_rank = isa_cap_rank(isa_cap);
  for (const LowbitKernel& kernel : kKernels) {
    if (admitted(kernel, cap_rank)) return kernel;
  }
  return kKernels[std::size(kKernels) - 1];  // the reference admits every cap
}

const LowbitKernel& find_lowbit_kernel(const std::string& path, const std::string& isa_cap) {
  if (path == "auto") return select_lowbit_kernel(isa_cap);
  const int cap_rank = isa_cap_rank(isa_cap);
  for (const LowbitKernel& kernel : kKernels) {
    if (path != kernel.path) continue;
    if (!kernel.cpu_supports()) {
      throw EngineUnavailable(std::string("int4 kernel path \"") + path + "\" cannot run here: it needs " +
                              kernel.cpu_flags + " and this CPU lacks some of them");
    }
    if (!admitted(kernel, cap_rank)) {
      throw EngineUnavailable("int4 kernel path \"" + path + "\" needs ISA cap " + kernel.min_cap +
                              " or above, not " + isa_cap);
    }
    return kernel;
  }
  throw std::invalid_argument("path: no int4 kernel path \"" + path +
                              "\" (known: auto, avx512_vnni, avx2, portable, ref)");
}

}  // namespace lowbit::kernels
