#pragma once
// The int4 compute path's GEMM: packed 2-, 3- or 4-bit group weights (kernels/quant/block_quant.h)
// against int8 activation blocks (kernels/gemm/q8_blocks.h), llama.cpp's Q4_0 × Q8_0 dot product
// generalized to 2..4 bits, zero points and groups of 32, 64 or 128 inputs (docs/precision.md
// "int4: packed 2-, 3- and 4-bit weights"). For every row m, output n and group g of G inputs:
//
//     dot[m][n][g] = Σ_{k in g} (u[n][k] − z[n][g]) · q_x[m][k]            exact, int32
//     dst[m][n]    = Σ_g float(dot[m][n][g]) · (d_w[n][g] · d_x[m][g])       fp32
//
// The integer part is exact in every tier (|dot| ≤ 15 · 127 · 128 < 2^18, so also exact as a
// float). The fp32 part is pinned down so that every tier gives the same bits: per output, an
// fp32 accumulator starts at +0 and takes the groups in order g = 0, 1, ...; each step is
// s = d_w · d_x (d_w widened from half, exact), p = float(dot) · s, acc = acc + p — three
// roundings, no FMA (the files are compiled with -ffp-contract=off, kernels/isa_flags.cmake).
// Vector tiers keep one output per lane and follow the same steps, so whole outputs are bit-exact
// across tiers, and the tests compare them with memcmp.
//
// Four tiers (docs/architecture.md "Kernel tiers and how a path is chosen"), one ISA per file:
//   gemm_lowbit_ref          plain loops over unpacked codes, int64 dots: the oracle;
//   gemm_lowbit_portable     one unpack per weight group reused across the batch, plain C++;
//   gemm_lowbit_avx2         vpmaddubsw on unpacked u8 codes × s8 activations (AVX2, F16C);
//   gemm_lowbit_x8_avx2      the same multiply on eight interleaved outputs (lowbit_x8.h);
//   gemm_lowbit_avx512vnni   vpdpbusd (AVX-512 F/BW/VL + VNNI).
// Calling a fast kernel on a CPU without its ISA is an illegal instruction: go through
// lowbit_kernels() / find_lowbit_kernel(), whose entries check the CPU first.
//
// This header is plain pointers on purpose: the ISA files include it, and a std:: template
// instantiated there would be compiled with their -m flags and could be the copy the linker
// keeps for the whole program.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "kernels/gemm/lowbit_x8.h"

namespace lowbit::kernels {

struct Q8Blocks;

// Packed weights, n × k, as kernels/quant/block_quant.h lays them out.
struct LowbitWeightsView {
  int bits = 4;                       // 2, 3 or 4
  int n = 0;                          // output features (rows)
  int k = 0;                          // input features, before padding
  int group_size = 32;                // 32, 64 or 128
  int groups = 0;                     // per row: ceil(k / group_size)
  const std::uint8_t* low = nullptr;  // row r at low + r · low_stride
  std::size_t low_stride = 0;
  const std::uint8_t* high = nullptr;  // 3 bits only: row r at high + r · high_stride
  std::size_t high_stride = 0;
  const std::uint16_t* scales = nullptr;      // n × groups, IEEE half
  const std::uint8_t* zero_points = nullptr;  // n × groups; nullptr: symmetric, z = 2^(bits−1)
};

// Activations m × k in int8 blocks of the same group size, each row padded with zero codes to
// groups · group_size.
struct Q8BlocksView {
  int m = 0;
  const std::int8_t* codes = nullptr;  // row r at codes + r · ld_codes; values in [−127, 127]
  std::size_t ld_codes = 0;
  const float* scales = nullptr;       // m × groups: d_x
  const std::int32_t* sums = nullptr;  // m × groups: Σ q_x over the group
};

// dst[m][n] for m < src.m, n < weights.n; dst is overwritten (bias and activation are the
// caller's epilogue). src must have the weights' groups and group size.
struct GemmLowbitArgs {
  LowbitWeightsView weights;
  Q8BlocksView src;
  float* dst = nullptr;
  int ld_dst = 0;
};

// The same on weights interleaved eight outputs at a time (kernels/gemm/lowbit_x8.h), for the
// batched kernels.
struct GemmLowbitX8Args {
  LowbitX8View weights;
  Q8BlocksView src;
  float* dst = nullptr;
  int ld_dst = 0;
};

Q8BlocksView view_of(const Q8Blocks& blocks);

using GemmLowbitFn = void (*)(const GemmLowbitArgs&);
using GemmLowbitX8Fn = void (*)(const GemmLowbitX8Args&);

void gemm_lowbit_ref(const GemmLowbitArgs& args);
void gemm_lowbit_portable(const GemmLowbitArgs& args);
// CPU: avx2, f16c.
void gemm_lowbit_avx2(const GemmLowbitArgs& args);
// CPU: avx2, f16c. Interleaved weights: what the engine runs on its avx2 tier.
void gemm_lowbit_x8_avx2(const GemmLowbitX8Args& args);
// CPU: avx512f, avx512bw, avx512vl, avx512vnni (+ f16c, which they imply in practice).
void gemm_lowbit_avx512vnni(const GemmLowbitArgs& args);

struct LowbitKernel {
  const char* path;       // what a user forces: "avx512_vnni", "avx2", "portable", "ref"
  const char* name;       // the function: "gemm_lowbit_avx2"
  const char* min_cap;    // the lowest ISA level (kernels/base/isa_cap.h) admitting it
  const char* cpu_flags;  // what cpu_supports checks, for messages: "avx2 f16c"
  bool (*cpu_supports)();
  GemmLowbitFn run;
  // When set, the tier's engine interleaves its weights (kernels/gemm/lowbit_x8.h) and runs this,
  // named name_x8, instead of `run`: the same outputs bit for bit, faster in batches.
  GemmLowbitX8Fn run_x8 = nullptr;
  const char* name_x8 = nullptr;
  // The tier may quantize its activations with AVX2 (kernels/gemm/q8_blocks.h): same codes, and the
  // tier's own CPU check already covers it.
  bool avx2_activations = false;
};

// Every kernel compiled in, fastest first, the reference last; chosen by the one tier table
// (kernels/base/tier_table.h).
std::span<const LowbitKernel> lowbit_kernels();

// The first of lowbit_kernels() that the CPU supports and `isa_cap` admits ("native" admits
// all). Never fails: the portable and reference tiers run everywhere. Throws
// std::invalid_argument for an unknown cap.
const LowbitKernel& select_lowbit_kernel(const std::string& isa_cap = "native");

// The kernel forced as `path`, or "auto" for select_lowbit_kernel. Throws std::invalid_argument
// naming the path when it is unknown (or the cap is), and EngineUnavailable
// (kernels/base/engine_unavailable.h) saying which flags are missing when this CPU, or
// `isa_cap`, excludes it.
const LowbitKernel& find_lowbit_kernel(const std::string& path,
                                       const std::string& isa_cap = "native");

}  // namespace lowbit::kernels
