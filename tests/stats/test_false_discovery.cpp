// Benjamini-Hochberg checked against cases worked out by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "stats/false_discovery.h"
#include "tests/stats/tolerances.h"

using namespace lowbit::stats;
using namespace lowbit::testing;

// ---------------------------------------------------------------------------
// Benjamini-Hochberg (step-up at FDR q: reject ranks 1..k for the largest k with p_(k) ≤ k·q/m)

TEST_CASE("benjamini-hochberg: textbook case, all four rejected at q = 0.05") {
  // Sorted: 0.005 ≤ 0.0125, 0.01 ≤ 0.025, 0.03 ≤ 0.0375, 0.04 ≤ 0.05.
  const std::vector<double> p{0.01, 0.04, 0.03, 0.005};
  CHECK(benjamini_hochberg(p, 0.05) == std::vector<bool>{true, true, true, true});
  // At q = 0.03 the thresholds are 0.0075, 0.015, 0.0225, 0.03: only ranks 1-2 pass.
  CHECK(benjamini_hochberg(p, 0.03) == std::vector<bool>{true, false, false, true});
}

TEST_CASE("benjamini-hochberg: only the smallest p-value is rejected") {
  // Sorted: 0.001 ≤ 0.0125; 0.04 > 0.025; 0.2 > 0.0375; 0.3 > 0.05.
  const std::vector<double> p{0.2, 0.001, 0.04, 0.3};
  CHECK(benjamini_hochberg(p, 0.05) == std::vector<bool>{false, true, false, false});
}

TEST_CASE("benjamini-hochberg: step-up — a passing larger rank carries the smaller ones") {
  // Sorted: 0.01 ≤ 0.0125; 0.03 > 0.025 (fails on its own); 0.035 ≤ 0.0375 → k = 3.
  const std::vector<double> p{0.035, 0.01, 0.9, 0.03};
  CHECK(benjamini_hochberg(p, 0.05) == std::vector<bool>{true, true, false, true});
  // Tied p-values are rejected together: 0.02 ≤ 3·0.05/4.
  const std::vector<double> tied{0.02, 0.9, 0.02, 0.02};
  CHECK(benjamini_hochberg(tied, 0.05) == std::vector<bool>{true, false, true, true});
}

TEST_CASE("benjamini-hochberg: nothing rejected, empty input, invalid arguments") {
  // Thresholds 0.0167, 0.0333, 0.05: every sorted p is above its own.
  const std::vector<double> p{0.5, 0.2, 0.06};
  CHECK(benjamini_hochberg(p, 0.05) == std::vector<bool>{false, false, false});
  CHECK(benjamini_hochberg(std::vector<double>{}, 0.05).empty());

  CHECK_THROWS_AS(benjamini_hochberg(p, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(benjamini_hochberg(p, 1.5), std::invalid_argument);
  CHECK_THROWS_AS(benjamini_hochberg(p, kNan), std::invalid_argument);
  CHECK_THROWS_AS(benjamini_hochberg(std::vector<double>{0.1, -0.1}, 0.05), std::invalid_argument);
  CHECK_THROWS_AS(benjamini_hochberg(std::vector<double>{1.1}, 0.05), std::invalid_argument);
  CHECK_THROWS_AS(benjamini_hochberg(std::vector<double>{kNan}, 0.05), std::invalid_argument);
}

TEST_CASE("benjamini-hochberg q-values: R's p.adjust(method = \"BH\") on a hand-worked case") {
  // Sorted 0.005, 0.01, 0.03, 0.04 (m = 4): m·p/rank = 0.02, 0.02, 0.04, 0.04; the running
  // minimum from the top keeps them. In input order:
  const std::vector<double> p{0.01, 0.04, 0.03, 0.005};
  const std::vector<double> q = benjamini_hochberg_q_values(p);
  REQUIRE(q.size() == 4);
  CHECK_REL(q[0], 0.02, 2 * kEps);
  CHECK_REL(q[1], 0.04, 2 * kEps);
  CHECK_REL(q[2], 0.04, 2 * kEps);
  CHECK_REL(q[3], 0.02, 2 * kEps);

  // A large p-value late in the order caps at 1, and the step-up carries a smaller rank down:
  // p = 0.02, 0.021, 0.9 → 3·0.02/1 = 0.06 but 3·0.021/2 = 0.0315 below it.
  const std::vector<double> r = benjamini_hochberg_q_values(std::vector<double>{0.9, 0.021, 0.02});
  CHECK(r[0] == 0.9);
  CHECK_REL(r[1], 0.0315, 2 * kEps);
  CHECK_REL(r[2], 0.0315, 2 * kEps);
  CHECK(benjamini_hochberg_q_values(std::vector<double>{1.0, 1.0}) ==
        std::vector<double>{1.0, 1.0});
  CHECK(benjamini_hochberg_q_values(std::vector<double>{}).empty());
  CHECK_THROWS_AS(benjamini_hochberg_q_values(std::vector<double>{0.5, 1.5}),
                  std::invalid_argument);
}

TEST_CASE("benjamini-hochberg q-values: q ≤ alpha rejects exactly what the step-up rejects") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> p(50);
    for (double& v : p) v = std::pow(uniform(rng), 3.0);  // many small p-values
    const std::vector<double> q = benjamini_hochberg_q_values(p);
    const std::vector<bool> rejected = benjamini_hochberg(p, 0.05);
    for (std::size_t i = 0; i < p.size(); ++i) {
      CHECK(q[i] >= p[i]);
      CHECK((q[i] <= 0.05) == rejected[i]);
    }
  }
}
