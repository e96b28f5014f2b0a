// The Mann-Whitney U test checked against values worked out by hand (in the comments) and
// against values that scipy documents or checks against R in its own test suite
// (tests/test_mannwhitneyu.py), so that a p-value here means what it means in Python.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "stats/mann_whitney.h"
#include "tests/stats/tolerances.h"

using namespace lowbit::stats;
using namespace lowbit::testing;

// ---------------------------------------------------------------------------
// Mann-Whitney U (scipy.stats.mannwhitneyu, alternative='two-sided')

TEST_CASE("mann-whitney: {1,2,3} vs {4,5,6} uses the exact distribution: U = 0, p = 2/20") {
  // No a_i exceeds any b_j: U1 = 0. Of the C(6, 3) = 20 equally likely
  // orderings only one has U = 0 (and one U = 9): p = 2·1/20 = 0.1.
  const std::vector<double> a{1.0, 2.0, 3.0};
  const std::vector<double> b{4.0, 5.0, 6.0};
  const MannWhitneyResult r = mann_whitney_u(a, b);
  CHECK(r.exact);
  CHECK(r.u == 0.0);
  CHECK_REL(r.p_value, 0.1, kEps);
  CHECK(r.z < 0.0);  // a is the smaller sample
}

TEST_CASE("mann-whitney: identical samples tie everywhere, go asymptotic and give U = 4.5, p = 1") {
  // Pooled {1,1,2,2,3,3}: average ranks 1.5, 3.5, 5.5, so R1 = 10.5 and
  // U1 = 10.5 − 3·4/2 = 4.5 = n1·n2/2: no evidence at all. Ties force the
  // normal approximation; z = 0 and p = 2·Φ(0) = 1.
  const std::vector<double> a{1.0, 2.0, 3.0};
  const MannWhitneyResult r = mann_whitney_u(a, a);
  CHECK_FALSE(r.exact);
  CHECK(r.u == 4.5);
  CHECK(r.z == 0.0);
  CHECK(r.p_value == 1.0);

  // Every value equal: the tie-corrected variance is 0, and still p = 1.
  const std::vector<double> same{2.0, 2.0};
  const MannWhitneyResult all_tied = mann_whitney_u(same, same);
  CHECK(all_tied.u == 2.0);
  CHECK(all_tied.p_value == 1.0);
}

TEST_CASE("mann-whitney: 10 vs 10, completely separated, uses the normal approximation") {
  // Both sides have more than 8 values → asymptotic. No ties, so
  //   mu    = 10·10/2 = 50
  //   sigma = sqrt(10·10·(20 + 1)/12) = sqrt(175) = 13.2288
  //   z     = (0 − 50 + 0.5)/13.2288 = −3.7418   (continuity: ½ towards the mean)
  //   p     = 2·Φ(−3.7418) ≈ 1.827e-4
  std::vector<double> a;
  std::vector<double> b;
  for (int i = 0; i < 10; ++i) {
    a.push_back(i);
    b.push_back(100 + i);
  }
  const MannWhitneyResult r = mann_whitney_u(a, b);
  CHECK_FALSE(r.exact);
  CHECK(r.u == 0.0);
  CHECK_REL(r.z, -3.7418, 1e-4);  // hand value to 5 digits
  CHECK_REL(r.z, -49.5 / std::sqrt(175.0), 4 * kEps);
  CHECK_REL(r.p_value, 1.827e-4, 1e-3);  // hand value to 4 digits
}

TEST_CASE("mann-whitney: swapping the samples gives U' = n1·n2 − U, z' = −z and the same p") {
  struct Pair {
    std::vector<double> a;
    std::vector<double> b;
  };
  const Pair pairs[] = {
      {{1, 2, 3}, {4, 5, 6}},                    // exact
      {{19, 22, 16, 29, 24}, {20, 11, 17, 12}},  // exact, unequal sizes
      {{1, 2, 3, 4}, {1, 2, 3, 4, 5}},           // ties → asymptotic
      {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},  // 10 vs 10
  };
  for (const Pair& pair : pairs) {
    const MannWhitneyResult ab = mann_whitney_u(pair.a, pair.b);
    const MannWhitneyResult ba = mann_whitney_u(pair.b, pair.a);
    const auto n1n2 = static_cast<double>(pair.a.size() * pair.b.size());
    CAPTURE(ab.u);
    // U and σ are sums of half-integers (exact in double), so the two
    // directions compute p from identical numbers.
    CHECK(ba.u == n1n2 - ab.u);
    CHECK(ba.z == -ab.z);
    CHECK(ba.p_value == ab.p_value);
    CHECK(ba.exact == ab.exact);
  }
}

TEST_CASE("mann-whitney: scipy's documented example (Shier 2004): U = 17, exact p = 1/9") {
  // scipy.stats.mannwhitneyu docstring: males vs females.
  const std::vector<double> males{19, 22, 16, 29, 24};
  const std::vector<double> females{20, 11, 17, 12};
  const MannWhitneyResult exact = mann_whitney_u(males, females);
  CHECK(exact.exact);
  CHECK(exact.u == 17.0);
  // min(U) = 3; orderings with U ≤ 3 number 1 + 1 + 2 + 3 = 7 of C(9, 4) = 126:
  // p = 2·7/126 = 1/9 (scipy prints 0.1111111111111111).
  CHECK_REL(exact.p_value, 1.0 / 9.0, 2 * kEps);

  // method="asymptotic": scipy prints 0.11134688653314041 (all 17 digits). z
  // takes ~4 roundings, and p = erfc(z/√2) amplifies z's relative error by
  // z·|p'|/p ≈ 3.2 here; erfc itself is good to ~2 ulp: 16 roundings in all.
  const MannWhitneyResult asymptotic =
      mann_whitney_u(males, females, MannWhitneyMethod::kAsymptotic);
  CHECK_FALSE(asymptotic.exact);
  CHECK(asymptotic.u == 17.0);
  CHECK_REL(asymptotic.p_value, 0.11134688653314041, 16 * kEps);
}

TEST_CASE("mann-whitney: values scipy's test suite checks against R's wilcox.test") {
  SUBCASE("gh-9184: 10 vs 5 is exact because the smaller side has at most 8 values") {
    const std::vector<double> x{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    const std::vector<double> y{1.15, 0.88, 0.90, 0.74, 1.21};
    const MannWhitneyResult auto_method = mann_whitney_u(x, y);
    CHECK(auto_method.exact);
    CHECK(auto_method.u == 35.0);
    // R: 0.2544122544123 = 2·382/3003 with C(15, 5) = 3003.
    CHECK_REL(auto_method.p_value, 0.2544122544123, kQuoted13Digits);
    CHECK_REL(auto_method.p_value, 764.0 / 3003.0, 2 * kEps);
    const MannWhitneyResult asymptotic = mann_whitney_u(x, y, MannWhitneyMethod::kAsymptotic);
    CHECK_REL(asymptotic.p_value, 0.244623605127, kQuoted13Digits);
  }
  SUBCASE("test_basic: 3 vs 13") {
    const std::vector<double> x{210.052110, 110.190630, 307.918612};
    const std::vector<double> y{436.08811482466416, 416.37397329768191, 179.96975939463582,
                                197.8118754228619,  34.038757281225756, 138.54220550921517,
                                128.7769351470246,  265.92721427951852, 275.6617533155341,
                                592.34083395416258, 448.73177590617018, 300.61495185038905,
                                187.97508449019588};
    const MannWhitneyResult exact = mann_whitney_u(x, y);
    CHECK(exact.exact);
    CHECK(exact.u == 16.0);
    CHECK_REL(exact.p_value, 0.7035714285714, kQuoted13Digits);  // = 2·197/560
    const MannWhitneyResult asymptotic = mann_whitney_u(x, y, MannWhitneyMethod::kAsymptotic);
    CHECK_REL(asymptotic.p_value, 0.6865041817876, kQuoted13Digits);
  }
  SUBCASE("test_tie_correct: {1,2,3,4} vs {1,2,3,4,5}, ties → asymptotic with tie correction") {
    const std::vector<double> x{1, 2, 3, 4};
    const std::vector<double> y{1, 2, 3, 4, 5};
    const MannWhitneyResult r = mann_whitney_u(x, y);
    CHECK_FALSE(r.exact);
    CHECK(r.u == 8.0);
    CHECK_REL(r.p_value, 0.7086240584439, kQuoted13Digits);
  }
  SUBCASE("gh-11355: infinity is just the largest value") {
    const std::vector<double> x{1, 2, 3, 4};
    const std::vector<double> y{3, 6, 7, 8, kInf, 3, 2, 1, 4, 4, 5};
    const MannWhitneyResult r = mann_whitney_u(x, y);
    CHECK_FALSE(r.exact);
    CHECK(r.u == 10.0);
    CHECK_REL(r.p_value, 0.1297704873477, kQuoted13Digits);
  }
  SUBCASE("U at the mean: 2·P(U ≥ 3) exceeds 1 and is capped") {
    const std::vector<double> x{1, 2, 3};
    const std::vector<double> y{1.5, 2.5};
    const MannWhitneyResult r = mann_whitney_u(x, y);
    CHECK(r.exact);
    CHECK(r.u == 3.0);
    CHECK(r.p_value == 1.0);
  }
}

TEST_CASE("mann-whitney: exact p-values equal a brute-force count over all orderings") {
  // Independent oracle: enumerate every way to pick which of m + n distinct
  // positions belong to the first sample, tabulate U (pairs a > b, counted
  // directly), and compare p = 2·#{U ≥ max(U1, U2)} / C(m + n, m), capped at 1.
  // The pairs include sizes where the (1 − q^(n+i)) factors matter (U beyond n).
  struct Sizes {
    int m;
    int n;
  };
  std::vector<Sizes> sizes;
  for (int m = 1; m <= 6; ++m) {
    for (int n = 1; m + n <= 12; ++n) sizes.push_back({m, n});
  }
  sizes.push_back({2, 20});
  sizes.push_back({3, 15});
  sizes.push_back({8, 8});

  for (const Sizes& s : sizes) {
    CAPTURE(s.m);
    CAPTURE(s.n);
    const int total_positions = s.m + s.n;
    auto u_of = [&](std::uint32_t mask) {
      int u = 0;
      for (int i = 0; i < total_positions; ++i) {
        if (!(mask >> i & 1u)) continue;
        for (int j = 0; j < i; ++j) u += !(mask >> j & 1u);  // b values below a_i
      }
      return u;
    };
    std::vector<double> frequency(static_cast<std::size_t>(s.m * s.n + 1), 0.0);
    std::vector<std::uint32_t> masks;
    for (std::uint32_t mask = 0; mask < (1u << total_positions); ++mask) {
      if (std::popcount(mask) != s.m) continue;
      masks.push_back(mask);
      frequency[static_cast<std::size_t>(u_of(mask))] += 1.0;
    }
    const auto orderings = static_cast<double>(masks.size());

    int checked = 0;
    // Every 7th ordering keeps the larger sizes fast; all U values still occur.
    for (std::size_t k = 0; k < masks.size();
         k += (masks.size() > 500 ? std::size_t{7} : std::size_t{1})) {
      std::vector<double> a;
      std::vector<double> b;
      for (int i = 0; i < total_positions; ++i) (masks[k] >> i & 1u ? a : b).push_back(i);
      const int u1 = u_of(masks[k]);
      const int u_max = std::max(u1, s.m * s.n - u1);
      double at_least = 0.0;
      for (int u = u_max; u <= s.m * s.n; ++u) at_least += frequency[static_cast<std::size_t>(u)];
      const double expected = std::min(1.0, 2.0 * (at_least / orderings));

      const MannWhitneyResult r = mann_whitney_u(a, b);
      CAPTURE(u1);
      REQUIRE(r.exact);
      CHECK(r.u == u1);
      // Both sides divide two exact integers and double once: same bits.
      CHECK(r.p_value == expected);
      ++checked;
    }
    CHECK(checked > 0);
  }
}

TEST_CASE("mann-whitney: exact counts beyond 2^64 (8 vs 5000) stay exact") {
  // b = 0..4999; seven a values below everything and one at 4.5, above five b
  // values: U1 = 5. Orderings with U ≤ 5 are the partitions of 0..5 into at
  // most 8 parts: 1 + 1 + 2 + 3 + 5 + 7 = 19, out of C(5008, 8) =
  // 9758086444420611072759126 (> 2^64): p = 38 / C(5008, 8).
  std::vector<double> a{-7, -6, -5, -4, -3, -2, -1, 4.5};
  std::vector<double> b;
  for (int i = 0; i < 5000; ++i) b.push_back(i);
  const MannWhitneyResult r = mann_whitney_u(a, b);
  CHECK(r.exact);
  CHECK(r.u == 5.0);
  // The count converts to double with one rounding, the quotient with another.
  CHECK_REL(r.p_value, 38.0 / 9758086444420611072759126.0, 3 * kEps);
}

TEST_CASE(
    "mann-whitney: method choice — exact only when the smaller side has <= 8 values and no ties") {
  auto ramp = [](int count, double offset) {
    std::vector<double> v;
    for (int i = 0; i < count; ++i) v.push_back(offset + i);
    return v;
  };
  CHECK(mann_whitney_u(ramp(8, 0.5), ramp(100, 0.0)).exact);  // 8 vs 100, no ties
  CHECK(mann_whitney_u(ramp(100, 0.5), ramp(8, 0.0)).exact);  // either side may be the small one
  CHECK_FALSE(mann_whitney_u(ramp(9, 0.5), ramp(9, 0.0)).exact);  // both above 8
  CHECK_FALSE(mann_whitney_u(ramp(8, 0.0), ramp(8, 7.0)).exact);  // one tie (7 in both)
  std::vector<double> tie_within{1, 1, 2};  // a tie inside one sample counts too
  CHECK_FALSE(mann_whitney_u(tie_within, ramp(3, 5.0)).exact);

  // Forced methods.
  CHECK_FALSE(mann_whitney_u(ramp(3, 0.5), ramp(3, 0.0), MannWhitneyMethod::kAsymptotic).exact);
  CHECK(mann_whitney_u(ramp(20, 0.5), ramp(20, 0.0), MannWhitneyMethod::kExact).exact);
  // C(400, 200) > 2^128: too many orderings to count.
  CHECK_THROWS_AS(mann_whitney_u(ramp(200, 0.5), ramp(200, 0.0), MannWhitneyMethod::kExact),
                  std::invalid_argument);
}

TEST_CASE("mann-whitney: an empty side or NaN throws") {
  const std::vector<double> some{1.0, 2.0};
  const std::vector<double> empty;
  CHECK_THROWS_AS(mann_whitney_u(empty, some), std::invalid_argument);
  CHECK_THROWS_AS(mann_whitney_u(some, empty), std::invalid_argument);
  const std::vector<double> nan{1.0, kNan};
  CHECK_THROWS_AS(mann_whitney_u(nan, some), std::invalid_argument);
  CHECK_THROWS_AS(mann_whitney_u(some, nan), std::invalid_argument);
}
