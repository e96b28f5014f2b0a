// OpenBLAS sgemm against the fp64-accumulating reference on seeded random
// shapes, including odd sizes and every transpose combination.
//
// Tolerance (derived, per element): a float dot product of length K, computed
// in any order, is within γ_K · Σ_k |a_ik · b_kj| of the exact value, with
// γ_K = K·u / (1 − K·u) and u = 2⁻²⁴ (Higham, Accuracy and Stability, §3.1).
// The reference rounds once more when storing, and alpha/beta add two
// roundings: we allow γ_{K+3}. The mean error must be far below the bound
// (random rounding errors grow like √K, not K).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/gemm/gemm.h"

using namespace lowbit::kernels;

namespace {

struct Case {
  GemmShape shape;
  Transpose ta;
  Transpose tb;
  float alpha;
  float beta;
};

std::vector<float> random_matrix(Rng& rng, std::size_t n) {
  std::vector<float> m(n);
  for (float& x : m) x = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  return m;
}

void check_case(const Case& c, std::uint64_t seed) {
  CAPTURE(seed);
  CAPTURE(c.shape.m);
  CAPTURE(c.shape.n);
  CAPTURE(c.shape.k);
  CAPTURE(static_cast<int>(c.ta));
  CAPTURE(static_cast<int>(c.tb));
  Rng rng(seed);
  const auto [m, n, k] = c.shape;
  const int a_rows = c.ta == Transpose::kNo ? m : k;
  const int a_cols = c.ta == Transpose::kNo ? k : m;
  const int b_rows = c.tb == Transpose::kNo ? k : n;
  const int b_cols = c.tb == Transpose::kNo ? n : k;
  std::vector<float> a = random_matrix(rng, static_cast<std::size_t>(a_rows * a_cols));
  std::vector<float> b = random_matrix(rng, static_cast<std::size_t>(b_rows * b_cols));
  std::vector<float> c_init = random_matrix(rng, static_cast<std::size_t>(m * n));
  std::vector<float> c_fast = c_init;
  std::vector<float> c_ref = c_init;
  GemmArgs args{c.shape,  c.ta,   c.tb,   c.alpha, a.data(), a_cols,
                b.data(), b_cols, c.beta, nullptr, n};
  args.c = c_fast.data();
  sgemm_openblas(args);
  args.c = c_ref.data();
  sgemm_ref(args);

  // Σ|a||b| per element, for the bound.
  auto at = [](const std::vector<float>& x, int ld, Transpose t, int r, int col) {
    return t == Transpose::kNo ? x[static_cast<std::size_t>(r * ld + col)]
                               : x[static_cast<std::size_t>(col * ld + r)];
  };
  const double u = std::numeric_limits<float>::epsilon() / 2.0;
  const double ku = (k + 3) * u;
  const double gamma = ku / (1.0 - ku);
  double sum_err = 0.0;
  double sum_bound = 0.0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double magnitude = 0.0;
      for (int p = 0; p < k; ++p) {
        magnitude +=
            std::fabs(static_cast<double>(at(a, a_cols, c.ta, i, p)) * at(b, b_cols, c.tb, p, j));
      }
      const double scale = std::fabs(c.alpha) * magnitude +
                           std::fabs(c.beta * c_init[static_cast<std::size_t>(i * n + j)]);
      const double bound = gamma * scale + std::numeric_limits<float>::denorm_min();
      const double err =
          std::fabs(static_cast<double>(c_fast[static_cast<std::size_t>(i * n + j)]) -
                    c_ref[static_cast<std::size_t>(i * n + j)]);
      sum_err += err;
      sum_bound += bound;
      if (err > bound) {
        CAPTURE(i);
        CAPTURE(j);
        CHECK(err <= bound);
      }
    }
  }
  if (m * n > 0 && k > 16) CHECK(sum_err <= 0.25 * sum_bound);
}

}  // namespace

TEST_CASE("gemm: OpenBLAS matches the reference on odd and regular shapes") {
  const int sizes[] = {1, 2, 3, 7, 16, 17, 31, 64, 100, 129};
  std::uint64_t seed = 1000;
  for (int m : {1, 7, 64, 129}) {
    for (int n : {1, 10, 17, 128}) {
      for (int k : sizes) {
        for (Transpose ta : {Transpose::kNo, Transpose::kYes}) {
          for (Transpose tb : {Transpose::kNo, Transpose::kYes}) {
            check_case({{m, n, k}, ta, tb, 1.0f, 0.0f}, ++seed);
          }
        }
      }
    }
  }
}

TEST_CASE("gemm: alpha and beta follow BLAS semantics") {
  check_case({{33, 19, 45}, Transpose::kNo, Transpose::kYes, 0.5f, 1.0f}, 7);
  check_case({{5, 128, 784}, Transpose::kNo, Transpose::kYes, -2.0f, 0.25f}, 8);
}

TEST_CASE("gemm: beta == 0 ignores NaN in C") {
  const std::vector<float> a{1, 2, 3, 4};  // 2×2
  const std::vector<float> b{1, 0, 0, 1};
  for (auto fn : {&sgemm_ref, &sgemm_openblas}) {
    std::vector<float> c(4, std::numeric_limits<float>::quiet_NaN());
    fn({{2, 2, 2},
        Transpose::kNo,
        Transpose::kNo,
        1.0f,
        a.data(),
        2,
        b.data(),
        2,
        0.0f,
        c.data(),
        2});
    CHECK(c == a);
  }
}

TEST_CASE("gemm: the reference is exact on small integers") {
  // 3×2 · 2×2: every product and sum is an exactly representable integer.
  const std::vector<float> a{1, 2, 3, 4, 5, 6};
  const std::vector<float> b{7, 8, 9, 10};
  std::vector<float> c(6, 0.0f);
  sgemm_ref({{3, 2, 2},
             Transpose::kNo,
             Transpose::kNo,
             1.0f,
             a.data(),
             2,
             b.data(),
             2,
             0.0f,
             c.data(),
             2});
  CHECK(c == std::vector<float>{25, 28, 57, 64, 89, 100});
}
