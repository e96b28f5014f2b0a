#pragma once
// The fp16 compute path's GEMM: dst = src · Wᵀ with fp32 activations, IEEE half weights stored
// [out][in] (the layout of kernels/model/mlp.h), products and sums in fp32. Half weights move half
// the bytes of fp32 ones, which is what a batch-1 layer (a GEMV, bound by memory) gains; the
// arithmetic stays fp32, so only the weights' rounding to half changes the result.
//
// Three tiers (docs/architecture.md "Kernel tiers and how a path is chosen"), one ISA per file,
// each compiled with its own -m flags (kernels/isa_flags.cmake):
//   gemm_f32f16_ref     plain loops, software half_to_float, fp64 sums: the test oracle;
//   gemm_f32f16_avx2    AVX2 + FMA + F16C (vcvtph2ps ymm);
//   gemm_f32f16_avx512  AVX-512 (vcvtph2ps zmm).
// Calling a fast kernel on a CPU without its ISA is an illegal instruction: go through
// f32f16_kernels() / select_f32f16_kernel(), whose entries check the CPU first.

#include <cstdint>
#include <span>
#include <string>

namespace lowbit::kernels {

// dst[b][o] = Σ_k src[b][k] · weights[o][k] for b < batch, o < n, k < k; dst is overwritten
// (bias and activation are the caller's epilogue). Row-major with leading dimensions; any sizes
// ≥ 0, no alignment required. src and dst must not overlap.
struct GemmF32F16Args {
  int batch = 0;  // rows of src and dst
  int n = 0;      // output features: rows of weights, columns of dst
  int k = 0;      // input features: columns of src and weights
  const float* src = nullptr;
  int ld_src = 0;
  const std::uint16_t* weights = nullptr;  // IEEE binary16 bit patterns, n × k
  int ld_weights = 0;
  float* dst = nullptr;
  int ld_dst = 0;
};

using GemmF32F16Fn = void (*)(const GemmF32F16Args&);

void gemm_f32f16_ref(const GemmF32F16Args& args);
// CPU: avx2, fma, f16c.
void gemm_f32f16_avx2(const GemmF32F16Args& args);
// CPU: avx512f, avx512bw, avx512vl, avx512dq (the flags the file is compiled with; oneDNN's
// avx512_core), plus f16c and fma.
void gemm_f32f16_avx512(const GemmF32F16Args& args);

struct F32F16Kernel {
  const char* path;       // what a user forces: "avx512", "avx2", "ref"
  const char* isa;        // the instructions it needs: "avx512f", "avx2_f16c", "ref"
  const char* name;       // the function: "gemm_f32f16_avx2"
  const char* min_cap;    // the lowest ISA level (kernels/base/isa_cap.h) admitting it
  const char* cpu_flags;  // what cpu_supports checks, for messages: "avx2 fma f16c"
  bool (*cpu_supports)();
  GemmF32F16Fn run;
};

// Every kernel compiled in, fastest first, the reference last; chosen by the one tier table
// (kernels/base/tier_table.h).
std::span<const F32F16Kernel> f32f16_kernels();

// The first of f32f16_kernels() that the CPU supports and `isa_cap` admits ("native" admits
// all; see kernels/base/isa_cap.h). Never fails: the reference runs everywhere. Throws
// std::invalid_argument for an unknown cap.
const F32F16Kernel& select_f32f16_kernel(const std::string& isa_cap = "native");

// The kernel forced as `path` ("ref", "avx2", "avx512"), or "auto" for select_f32f16_kernel.
// Throws std::invalid_argument naming the path when it is unknown, and EngineUnavailable
// (kernels/base/engine_unavailable.h) when the CPU cannot run it or `isa_cap` excludes it.
const F32F16Kernel& find_f32f16_kernel(const std::string& path,
                                       const std::string& isa_cap = "native");

}  // namespace lowbit::kernels
