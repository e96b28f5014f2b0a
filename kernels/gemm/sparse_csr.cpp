#include "kernels/gemm/sparse_csr.h"

#include <fmt/format.h>

#include <limits>
#include <stdexcept>

#include "kernels/base/tier_table.h"

namespace lowbit::kernels {

CsrMatrix CsrMatrix::from_dense(const float* dense, int rows, int cols, int ld) {
  if (rows < 0 || cols < 0 || ld < cols) {
    throw std::invalid_argument(fmt::format(
        "csr: needs rows, cols ≥ 0 and ld ≥ cols, got {} × {} with ld {}", rows, cols, ld));
  }
  CsrMatrix csr;
  csr.rows = rows;
  csr.cols = cols;
  csr.row_ptr.reserve(static_cast<std::size_t>(rows) + 1);
  csr.row_ptr.push_back(0);
  for (int o = 0; o < rows; ++o) {
    const float* row = dense + static_cast<std::size_t>(o) * static_cast<std::size_t>(ld);
    for (int k = 0; k < cols; ++k) {
      if (row[k] != 0.0f) {
        csr.values.push_back(row[k]);
        csr.col_idx.push_back(k);
      }
    }
    if (csr.values.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      throw std::invalid_argument("csr: more than 2³¹ − 1 nonzeros do not fit int32 row pointers");
    }
    csr.row_ptr.push_back(static_cast<std::int32_t>(csr.values.size()));
  }
  return csr;
}

std::int64_t CsrMatrix::bytes() const {
  return static_cast<std::int64_t>(values.size() * sizeof(float) +
                                   col_idx.size() * sizeof(std::int32_t) +
                                   row_ptr.size() * sizeof(std::int32_t));
}

namespace {

bool cpu_has_avx2_fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

bool always() { return true; }

constexpr CsrKernel kKernels[] = {
    {"avx2", "csr_avx2", "avx2", "avx2 fma", cpu_has_avx2_fma, spmm_csr_avx2},
    {"ref", "csr", "sse41", "", always, spmm_csr_ref},
};

constexpr TierTable<CsrKernel> kTable{"sparse", kKernels};

}  // namespace

std::span<const CsrKernel> csr_kernels() { return kTable.tiers(); }

const CsrKernel& select_csr_kernel(const std::string& isa_cap) { return kTable.select(isa_cap); }

const CsrKernel& find_csr_kernel(const std::string& path, const std::string& isa_cap) {
  return kTable.find(path, isa_cap);
}

}  // namespace lowbit::kernels
