// The gemm workload's error metrics and problem parsing.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "kernels/base/random.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_workload.h"

using namespace lowbit::kernels;

TEST_CASE("gemm workload: error metrics are exact on small integer matrices") {
  // Integers in [−8, 8] with K = 64: every product and partial sum is an
  // integer below 2^24, so fp32 GEMM is exact and the error must be zero.
  const GemmProblem p{7, 64, 5};
  Rng rng(99);
  std::vector<float> a(7 * 64);
  std::vector<float> b(64 * 5);
  for (float& v : a) v = static_cast<float>(static_cast<int>(rng.below(17)) - 8);
  for (float& v : b) v = static_cast<float>(static_cast<int>(rng.below(17)) - 8);
  std::vector<float> c(7 * 5);
  for (GemmFn fn : {&sgemm_openblas, &sgemm_ref}) {
    fn({{p.m, p.n, p.k},
        Transpose::kNo,
        Transpose::kNo,
        1.0f,
        a.data(),
        p.k,
        b.data(),
        p.n,
        0.0f,
        c.data(),
        p.n});
    const GemmError e = gemm_error(c, gemm_reference_f64(p, a, b));
    CHECK(e.max_rel == 0.0);
    CHECK_FALSE(e.sqnr_db.has_value());
  }
}

TEST_CASE("gemm workload: error metrics on a known perturbation") {
  const std::vector<double> reference{3.0, -4.0, 0.0, 1.0};
  const std::vector<float> computed{3.0f, -4.0f, 0.5f, 1.0f};
  const GemmError e = gemm_error(computed, reference);
  CHECK(e.max_rel == doctest::Approx(0.5 / 4.0));
  REQUIRE(e.sqnr_db.has_value());
  CHECK(*e.sqnr_db == doctest::Approx(10.0 * std::log10(26.0 / 0.25)));
  CHECK_THROWS_AS(gemm_error(computed, std::vector<double>{1.0}), std::invalid_argument);
}

TEST_CASE("gemm workload: the fp64 reference multiplies") {
  const GemmProblem p{2, 3, 2};
  const std::vector<float> a{1, 2, 3, 4, 5, 6};
  const std::vector<float> b{7, 8, 9, 10, 11, 12};
  CHECK(gemm_reference_f64(p, a, b) == std::vector<double>{58, 64, 139, 154});
}

TEST_CASE("gemm workload: problems parse and bad ones are refused") {
  const GemmProblem p = parse_gemm_problem("100,128,10");
  CHECK(p.m == 100);
  CHECK(p.k == 128);
  CHECK(p.n == 10);
  CHECK(p.multiply_adds() == 128000.0);
  CHECK_THROWS_AS(parse_gemm_problem("1,2"), std::invalid_argument);
  CHECK_THROWS_AS(parse_gemm_problem("1,2,3,4"), std::invalid_argument);
  CHECK_THROWS_AS(parse_gemm_problem("1,0,3"), std::invalid_argument);
  CHECK_THROWS_AS(parse_gemm_problem("a,b,c"), std::invalid_argument);
}

TEST_CASE("gemm workload: kernel choice runs or says why not") {
  CHECK((select_gemm_kernel("fp32", 32, "auto").fn == &sgemm_openblas));
  CHECK(select_gemm_kernel("fp32", 32, "ref").name == "ref/sgemm");
  const GemmKernelChoice skipped = select_gemm_kernel("fp32", 8, "auto");
  CHECK((skipped.fn == nullptr));
  CHECK(skipped.skip_reason.find("8-bit") != std::string::npos);
  CHECK((select_gemm_kernel("fp32", 32, "cuda").fn == nullptr));
}
