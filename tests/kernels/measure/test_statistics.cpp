// Statistics checked against values worked out by hand (in the comments) and
// against values that scipy documents or checks against R in its own test
// suite (tests/test_mannwhitneyu.py), so that a p-value here means what it
// means in Python.
//
// Tolerances: kEps is one rounding of a double. Where a result comes from a
// handful of roundings the tolerance counts them; values quoted from scipy/R
// with 13 significant digits are checked to 1e-12 relative (the quoting, not
// our arithmetic, is the limit).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/measure/statistics.h"

using namespace lowbit::kernels;

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Relative tolerance for a value quoted to 13 significant digits.
constexpr double kQuoted13Digits = 1e-12;

#define CHECK_NEAR(actual, expected, tolerance)        \
  CHECK_MESSAGE(                                       \
      std::fabs((actual) - (expected)) <= (tolerance), \
      fmt::format("{} = {}, expected {} ± {}", #actual, (actual), (expected), (tolerance)))

#define CHECK_REL(actual, expected, rel_tolerance) \
  CHECK_NEAR(actual, expected, (rel_tolerance)*std::fabs(expected))

}  // namespace

// ---------------------------------------------------------------------------
// Descriptive statistics

TEST_CASE("statistics: mean and median of odd and even counts, unsorted input") {
  const std::vector<double> odd{5.0, 1.0, 4.0, 2.0, 3.0};  // sorted 1 2 3 4 5
  CHECK(mean(odd) == 3.0);                                 // 15 / 5, exact
  CHECK(median(odd) == 3.0);

  const std::vector<double> even{8.0, 1.0, 6.0, 3.0};  // sorted 1 3 6 8
  CHECK(mean(even) == 4.5);                            // 18 / 4
  CHECK(median(even) == 4.5);                          // (3 + 6) / 2

  // The median ignores how far out the extremes are; the mean does not.
  const std::vector<double> outlier{1.0, 2.0, 996.0};
  CHECK(median(outlier) == 2.0);
  CHECK(mean(outlier) == 333.0);

  CHECK(minimum(even) == 1.0);
  CHECK(maximum(even) == 8.0);
  const std::vector<double> with_inf{3.0, -kInf, 2.0};  // infinities are ordinary values
  CHECK(minimum(with_inf) == -kInf);
  CHECK(median(with_inf) == 2.0);
}

TEST_CASE(
    "statistics: sample stddev of {2,4,4,4,5,5,7,9} is sqrt(32/7); cv divides it by the mean") {
  // mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32; n − 1 = 7. All
  // intermediate values are small integers (exact), so only 32/7 and the
  // square root round.
  const std::vector<double> x{2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0};
  const double expected = std::sqrt(32.0 / 7.0);  // 2.138089935299395
  CHECK_REL(sample_stddev(x), expected, 2 * kEps);
  CHECK_REL(coefficient_of_variation(x), expected / 5.0, 3 * kEps);

  // The n − 1 denominator: {1, 3} has mean 2 and deviations ±1, so s = sqrt(2 / 1).
  const std::vector<double> two{1.0, 3.0};
  CHECK_REL(sample_stddev(two), std::sqrt(2.0), kEps);

  // Constant input: no spread; a zero mean makes cv 0 rather than 0/0.
  const std::vector<double> constant{7.0, 7.0, 7.0};
  CHECK(sample_stddev(constant) == 0.0);
  CHECK(coefficient_of_variation(constant) == 0.0);
  const std::vector<double> zero_mean{-1.0, 1.0};
  CHECK(coefficient_of_variation(zero_mean) == 0.0);
}

TEST_CASE("statistics: a single value is its own mean, median, min, max and every percentile") {
  const std::vector<double> one{42.5};
  CHECK(mean(one) == 42.5);
  CHECK(median(one) == 42.5);
  CHECK(minimum(one) == 42.5);
  CHECK(maximum(one) == 42.5);
  CHECK(sample_stddev(one) == 0.0);  // n − 1 = 0: defined as no spread
  CHECK(coefficient_of_variation(one) == 0.0);
  for (double p : {0.0, 25.0, 50.0, 99.0, 100.0}) {
    CAPTURE(p);
    CHECK(percentile(one, p) == 42.5);
  }
  const Summary s = summarize(one);
  CHECK(s.count == 1);
  CHECK(s.mean == 42.5);
  CHECK(s.stddev == 0.0);
}

TEST_CASE("statistics: summarize agrees with the single functions") {
  const std::vector<double> x{12.0, 10.5, 11.0, 30.0, 10.0, 11.5};  // sorted 10 10.5 11 11.5 12 30
  const Summary s = summarize(x);
  CHECK(s.count == 6);
  CHECK(s.mean == mean(x));
  CHECK(s.median == 11.25);  // (11 + 11.5) / 2
  CHECK(s.median == median(x));
  CHECK(s.stddev == sample_stddev(x));
  CHECK(s.cv == coefficient_of_variation(x));
  CHECK(s.min == 10.0);
  CHECK(s.max == 30.0);
}

TEST_CASE("statistics: empty input and NaN are rejected") {
  const std::vector<double> empty;
  CHECK_THROWS_AS(mean(empty), std::invalid_argument);
  CHECK_THROWS_AS(median(empty), std::invalid_argument);
  CHECK_THROWS_AS(sample_stddev(empty), std::invalid_argument);
  CHECK_THROWS_AS(coefficient_of_variation(empty), std::invalid_argument);
  CHECK_THROWS_AS(minimum(empty), std::invalid_argument);
  CHECK_THROWS_AS(maximum(empty), std::invalid_argument);
  CHECK_THROWS_AS(percentile(empty, 50.0), std::invalid_argument);
  CHECK_THROWS_AS(summarize(empty), std::invalid_argument);

  // NaN has no place in an ordering (and would make std::sort undefined).
  const std::vector<double> nan{1.0, kNan, 3.0};
  CHECK_THROWS_AS(median(nan), std::invalid_argument);
  CHECK_THROWS_AS(minimum(nan), std::invalid_argument);
  CHECK_THROWS_AS(percentile(nan, 50.0), std::invalid_argument);
  CHECK_THROWS_AS(summarize(nan), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Percentiles (numpy "linear": h = (n − 1)·p/100, x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]))

// Error bound for one interpolated percentile: p/100 and h = (n − 1)·(p/100)
// each round once (relative kEps on h), which moves the result by at most
// kEps·h·gap each; the lerp's difference, product and sum round once each, at
// most kEps·max|x| apiece.
namespace {
double percentile_tolerance(std::size_t n, double max_gap, double max_abs) {
  return kEps * (2.0 * static_cast<double>(n - 1) * max_gap + 3.0 * max_abs);
}
}  // namespace

TEST_CASE("percentile: {1,2,3,4} at 0, 25, 50, 90, 99, 100 interpolates between closest ranks") {
  const std::vector<double> x{3.0, 1.0, 4.0, 2.0};  // unsorted on purpose
  const double tol = percentile_tolerance(x.size(), 1.0, 4.0);
  struct Case {
    double p;
    double expected;
  };
  const Case cases[] = {
      {0.0, 1.0},    // h = 0          → x[0]
      {25.0, 1.75},  // h = 3·0.25 = 0.75 → 1 + 0.75·(2 − 1)
      {50.0, 2.5},   // h = 1.5        → 2 + 0.5·(3 − 2)
      {90.0, 3.7},   // h = 2.7        → 3 + 0.7·(4 − 3)
      {99.0, 3.97},  // h = 2.97       → 3 + 0.97·(4 − 3)
      {100.0, 4.0},  // h = 3          → x[3], no neighbour needed
  };
  for (const Case& c : cases) {
    CAPTURE(c.p);
    CHECK_NEAR(percentile(x, c.p), c.expected, tol);
  }
  CHECK(percentile(x, 0.0) == 1.0);  // the ends are exact
  CHECK(percentile(x, 100.0) == 4.0);
  CHECK(percentile(x, 50.0) == median(x));
}

TEST_CASE("percentile: {15,20,35,40,50} at 0, 25, 50, 90, 99, 100 with uneven gaps") {
  const std::vector<double> x{40.0, 15.0, 50.0, 35.0, 20.0};  // sorted 15 20 35 40 50
  const double tol = percentile_tolerance(x.size(), 15.0, 50.0);
  struct Case {
    double p;
    double expected;
  };
  const Case cases[] = {
      {0.0, 15.0},    // h = 0
      {25.0, 20.0},   // h = 4·0.25 = 1 → exactly x[1]
      {30.0, 23.0},   // h = 1.2  → 20 + 0.2·(35 − 20)
      {50.0, 35.0},   // h = 2
      {90.0, 46.0},   // h = 3.6  → 40 + 0.6·(50 − 40)
      {99.0, 49.6},   // h = 3.96 → 40 + 0.96·(50 − 40)
      {100.0, 50.0},  // h = 4
  };
  for (const Case& c : cases) {
    CAPTURE(c.p);
    CHECK_NEAR(percentile(x, c.p), c.expected, tol);
  }
}

TEST_CASE("percentile: p outside [0, 100] or NaN throws") {
  const std::vector<double> x{1.0, 2.0};
  CHECK_THROWS_AS(percentile(x, -0.001), std::invalid_argument);
  CHECK_THROWS_AS(percentile(x, 100.001), std::invalid_argument);
  CHECK_THROWS_AS(percentile(x, kNan), std::invalid_argument);
}

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
