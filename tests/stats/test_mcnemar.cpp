// The exact McNemar test against the binomial tail computed with exact integers
// (2·Σ_{k ≤ min(b, c)} C(n, k) / 2^n in rational arithmetic, rounded once to a double).
#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "stats/mcnemar.h"
#include "tests/stats/tolerances.h"

using namespace lowbit::stats;
using namespace lowbit::testing;

TEST_CASE("mcnemar: small counts are the exact binomial tail") {
  CHECK(mcnemar_exact(1, 9).p_value == doctest::Approx(22.0 / 1024.0).epsilon(1e-14));  // 2·11/2^10
  CHECK(mcnemar_exact(9, 1).p_value == mcnemar_exact(1, 9).p_value);                    // symmetric
  CHECK(mcnemar_exact(4, 6).p_value == doctest::Approx(0.75390625).epsilon(1e-14));  // 2·386/2^10
  CHECK(mcnemar_exact(0, 20).p_value == doctest::Approx(1.9073486328125e-06).epsilon(1e-14));
}

TEST_CASE("mcnemar: balanced discordance is p = 1, never above; no discordance is p = 1") {
  CHECK(mcnemar_exact(5, 5).p_value == 1.0);
  CHECK(mcnemar_exact(0, 0).p_value == 1.0);
  CHECK(mcnemar_exact(0, 1).p_value == 1.0);
}

TEST_CASE("mcnemar: large counts keep their precision (10^4 discordant images)") {
  // The distillation comparison of docs/distillation.md: 118 vs 107 discordant images.
  CHECK_REL(mcnemar_exact(118, 107).p_value, 0.505073741510283, 1e-12);
  CHECK_REL(mcnemar_exact(30, 70).p_value, 7.85013964559367e-05, 1e-12);
  CHECK_REL(mcnemar_exact(2000, 2300).p_value, 5.079935568924032e-06, 1e-10);
  CHECK_REL(mcnemar_exact(4900, 5100).p_value, 0.04658552770494739, 1e-10);
}

TEST_CASE("mcnemar: from per-image correctness, counting only the discordant images") {
  //                                 both right ×3, base only ×2, variant only ×1, both wrong ×2
  const std::vector<std::uint8_t> base{1, 1, 1, 1, 1, 0, 0, 0};
  const std::vector<std::uint8_t> variant{1, 1, 1, 0, 0, 1, 0, 0};
  const McNemarResult r = mcnemar_exact(base, variant);
  CHECK(r.baseline_only == 2);
  CHECK(r.variant_only == 1);
  CHECK(r.p_value == 1.0);  // 2·P(X ≤ 1), n = 3: 2·4/8

  // All correct on both sides: nothing discordant, nothing to test.
  const std::vector<std::uint8_t> all(100, 1);
  const McNemarResult same = mcnemar_exact(all, all);
  CHECK(same.baseline_only == 0);
  CHECK(same.variant_only == 0);
  CHECK(same.p_value == 1.0);
}

TEST_CASE("mcnemar: unpaired lengths or negative counts throw, naming them") {
  const std::vector<std::uint8_t> three{1, 0, 1};
  const std::vector<std::uint8_t> two{1, 0};
  CHECK_THROWS_WITH_AS(mcnemar_exact(three, two), doctest::Contains("3 baseline images but 2"),
                       std::invalid_argument);
  CHECK_THROWS_AS(mcnemar_exact(-1, 3), std::invalid_argument);
}
