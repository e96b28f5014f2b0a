// Descriptive statistics checked against values worked out by hand (in the comments) and
// against numpy's definitions.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "stats/summary.h"
#include "tests/stats/tolerances.h"

using namespace lowbit::stats;
using namespace lowbit::testing;

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
