#include "kernels/gemm/gemm_workload.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/model/mlp.h"

namespace lowbit::kernels {

GemmProblem parse_gemm_problem(const std::string& text) {
  std::vector<int> dims;
  try {
    dims = parse_size_list(text);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(fmt::format("\"{}\" is not M,K,N with positive integers", text));
  }
  if (dims.size() != 3) {
    throw std::invalid_argument(
        fmt::format("\"{}\" has {} sizes, expected M,K,N", text, dims.size()));
  }
  return {dims[0], dims[1], dims[2]};
}

GemmError gemm_error(std::span<const float> computed, std::span<const double> reference) {
  if (computed.size() != reference.size()) throw std::invalid_argument("gemm_error: sizes differ");
  double max_abs_err = 0.0;
  double max_abs_ref = 0.0;
  double signal = 0.0;
  double noise = 0.0;
  for (std::size_t i = 0; i < computed.size(); ++i) {
    const double r = reference[i];
    const double e = static_cast<double>(computed[i]) - r;
    max_abs_err = std::max(max_abs_err, std::fabs(e));
    max_abs_ref = std::max(max_abs_ref, std::fabs(r));
    signal += r * r;
    noise += e * e;
  }
  GemmError error;
  error.max_rel = max_abs_ref > 0 ? max_abs_err / max_abs_ref : max_abs_err;
  if (noise > 0) error.sqnr_db = 10.0 * std::log10(signal / noise);
  return error;
}

std::vector<double> gemm_reference_f64(const GemmProblem& p, std::span<const float> a,
                                       std::span<const float> b) {
  const auto m = static_cast<std::size_t>(p.m);
  const auto k = static_cast<std::size_t>(p.k);
  const auto n = static_cast<std::size_t>(p.n);
  std::vector<double> c(m * n, 0.0);
  // i-p-j order: the inner loop streams rows of B and C.
  for (std::size_t i = 0; i < m; ++i) {
    double* row = c.data() + i * n;
    for (std::size_t q = 0; q < k; ++q) {
      const double x = a[i * k + q];
      const float* brow = b.data() + q * n;
      for (std::size_t j = 0; j < n; ++j) row[j] += x * static_cast<double>(brow[j]);
    }
  }
  return c;
}

GemmKernelChoice select_gemm_kernel(const std::string& precision, int bits,
                                    const std::string& kernel) {
  GemmKernelChoice choice;
  if (precision != "fp32" || bits != 32) {
    choice.skip_reason =
        fmt::format("the gemm workload has no {} path with {}-bit weights yet", precision, bits);
    return choice;
  }
  if (kernel == "auto" || kernel == "openblas") {
    choice.fn = &sgemm_openblas;
    choice.name = fmt::format("openblas/{}/sgemm", openblas_core());
  } else if (kernel == "ref") {
    choice.fn = &sgemm_ref;
    choice.name = "ref/sgemm";
  } else {
    choice.skip_reason =
        fmt::format("no gemm path named \"{}\" (known: auto, openblas, ref)", kernel);
  }
  return choice;
}

std::vector<float> random_uniform_matrix(std::size_t count, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> m(count);
  for (float& v : m) v = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return m;
}

}  // namespace lowbit::kernels
