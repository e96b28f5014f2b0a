#pragma once
// The sparse compute path's matrix product: dst = src · Wᵀ where W (out × in, the layout of
// kernels/model/mlp.h) is stored in CSR — per row, the nonzero values and their int32 column
// indices, and row_ptr[o] .. row_ptr[o+1] delimiting row o. A pruned layer stores and multiplies
// only its nonzeros, so at high sparsity it moves and computes a fraction of what the dense GEMM
// does.
//
// Tiers (docs/architecture.md "Kernel tiers and how a path is chosen"), one ISA per file, each
// compiled with its own -m flags (isa_flags.cmake):
//   spmm_csr_ref   plain loops with fp64 sums: the test oracle;
//   spmm_csr_avx2  AVX2 + FMA (kernels/gemm/sparse_csr_avx2.cpp explains the two schemes: a
//                  row dot product at batch 1, 8-wide batch vectors times broadcast
//                  weights above).
// Calling the AVX2 kernel on a CPU without AVX2 and FMA is an illegal instruction: go through
// csr_kernels() / select_csr_kernel(), whose entries check the CPU first.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lowbit::kernels {

struct CsrMatrix {
  int rows = 0;                       // outputs
  int cols = 0;                       // inputs
  std::vector<std::int32_t> row_ptr;  // rows + 1 entries, row_ptr[0] = 0
  std::vector<std::int32_t> col_idx;  // nnz, ascending within a row
  std::vector<float> values;          // nnz

  // The nonzeros of a dense row-major rows × cols matrix with leading dimension ld (every entry
  // ≠ 0.0f, so −0.0f is dropped too). Throws std::invalid_argument on negative sizes, ld < cols,
  // or more than INT32_MAX nonzeros.
  static CsrMatrix from_dense(const float* dense, int rows, int cols, int ld);

  std::int64_t nnz() const { return static_cast<std::int64_t>(values.size()); }
  // The storage it really uses: values, column indices and row pointers.
  std::int64_t bytes() const;
};

// Scratch the AVX2 kernel reuses between calls (transposed src and dst panels); grows to the
// largest batch seen, so an engine that keeps one allocates nothing once warmed up.
struct SpmmScratch {
  std::vector<float> src_panel;
  std::vector<float> dst_panel;
  std::vector<float> staging;
};

// dst[b][o] = Σ_k src[b][k] · W[o][k] for b < batch, o < weights.rows; dst is overwritten (bias
// and activation are the caller's epilogue). Row-major with leading dimensions; src and dst must
// not overlap. batch ≥ 0.
struct SpmmArgs {
  int batch = 0;
  const float* src = nullptr;  // batch × weights->cols
  int ld_src = 0;
  const CsrMatrix* weights = nullptr;
  float* dst = nullptr;  // batch × weights->rows
  int ld_dst = 0;
  SpmmScratch* scratch = nullptr;  // may be null: the kernel then uses its own, per thread
};

using SpmmFn = void (*)(const SpmmArgs& args);

void spmm_csr_ref(const SpmmArgs& args);
// CPU: avx2, fma.
void spmm_csr_avx2(const SpmmArgs& args);

struct CsrKernel {
  const char* path;       // what a user forces: "avx2", "ref"
  const char* name;       // the kernel name a result records: "csr_avx2", "csr"
  const char* min_cap;    // the lowest ISA level (kernels/base/isa_cap.h) admitting it
  const char* cpu_flags;  // what cpu_supports checks, for messages
  bool (*cpu_supports)();
  SpmmFn run;
};

// Every kernel compiled in, fastest first, the reference last; chosen by the one tier table
// (kernels/base/tier_table.h).
std::span<const CsrKernel> csr_kernels();

// The first of csr_kernels() the CPU supports and `isa_cap` admits ("native" admits all). Never
// fails: the reference runs everywhere. Throws std::invalid_argument for an unknown cap.
const CsrKernel& select_csr_kernel(const std::string& isa_cap = "native");

// The kernel forced as `path` ("avx2", "ref"), or "auto" for select_csr_kernel. Throws
// std::invalid_argument naming the path when it is unknown, and EngineUnavailable
// (kernels/base/engine_unavailable.h) when the CPU cannot run it or `isa_cap` excludes it.
const CsrKernel& find_csr_kernel(const std::string& path, const std::string& isa_cap = "native");

}  // namespace lowbit::kernels
