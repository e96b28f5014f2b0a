#pragma once
// The raw GEMM workload: C[M×N] = A[M×K] · B[K×N] on seeded random inputs,
// timed like any other kernel and scored by its error against an fp64
// reference instead of by top-1.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernels/gemm/gemm.h"

namespace lowbit::kernels {

struct GemmProblem {
  int m = 0;
  int k = 0;
  int n = 0;
  double multiply_adds() const { return static_cast<double>(m) * k * n; }
};

// Parses "M,K,N" (each ≥ 1); throws std::invalid_argument naming the problem.
GemmProblem parse_gemm_problem(const std::string& text);

// Error of a computed C against the exact product.
//   max_rel = max |c − r| / max |r|  (normwise: elementwise ratios explode near zeros)
//   sqnr_db = 10·log10(Σ r² / Σ (c − r)²), absent when the error is exactly zero
struct GemmError {
  double max_rel = 0.0;
  std::optional<double> sqnr_db;
};

GemmError gemm_error(std::span<const float> computed, std::span<const double> reference);

// C = A·B accumulated in fp64 (A row-major M×K, B row-major K×N).
std::vector<double> gemm_reference_f64(const GemmProblem& p, std::span<const float> a,
                                       std::span<const float> b);

// The compute path for a GEMM workload, chosen like an engine: the ordered
// list is {openblas, ref}; a forced path that cannot run the request is a
// skip with its reason.
struct GemmKernelChoice {
  GemmFn fn = nullptr;
  std::string name;         // e.g. "openblas/Zen/sgemm"
  std::string skip_reason;  // set when fn is null
};
GemmKernelChoice select_gemm_kernel(const std::string& precision, int bits,
                                    const std::string& kernel);

// Inputs uniform in [−1, 1] from a seed.
std::vector<float> random_uniform_matrix(std::size_t count, std::uint64_t seed);

}  // namespace lowbit::kernels
