// The Hodges-Lehmann shift and its interval. Reference values: R's wilcox.test(conf.int = TRUE)
// algorithm evaluated with exact fractions over all orderings (qwilcox by enumeration), on the
// permeability data of Hollander & Wolfe that R's own wilcox.test example uses; R reports the
// same "difference in location" 0.305.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "stats/hodges_lehmann.h"
#include "tests/stats/tolerances.h"

using namespace lowbit::stats;
using namespace lowbit::testing;

namespace {

const std::vector<double> kX{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
const std::vector<double> kY{1.15, 0.88, 0.90, 0.74, 1.21};

}  // namespace

TEST_CASE("hodges-lehmann: R's permeability example, exact: shift 0.305, 95 % CI [-0.15, 0.76]") {
  // Shift of x against y: the median of the 50 differences x_j − y_i. qwilcox(0.025, 5, 10) = 9,
  // so the interval is [d_(9), d_(42)]; it covers 1 − 2·P(U ≤ 8) = 961/1001.
  const ShiftEstimate e = hodges_lehmann(kY, kX);
  CHECK(e.exact);
  CHECK_NEAR(e.shift, 0.305, 4 * kEps);
  CHECK_NEAR(e.lower, -0.15, 4 * kEps);
  CHECK_NEAR(e.upper, 0.76, 4 * kEps);
  CHECK_REL(e.confidence, 961.0 / 1001.0, 4 * kEps);

  // The other way round: the same interval, mirrored.
  const ShiftEstimate back = hodges_lehmann(kX, kY);
  CHECK(back.shift == -e.shift);
  CHECK(back.lower == -e.upper);
  CHECK(back.upper == -e.lower);
  CHECK(back.confidence == e.confidence);
}

TEST_CASE("hodges-lehmann: a second hand-checked case, 5 vs 6: shift 2.2, CI [0.2, 4.4], 32/33") {
  const std::vector<double> a{1.1, 2.3, 0.7, 4.2, 3.3};
  const std::vector<double> b{2.9, 5.1, 3.8, 6.0, 4.4, 5.5};
  const ShiftEstimate e = hodges_lehmann(a, b);
  CHECK(e.exact);
  CHECK_NEAR(e.shift, 2.2, 8 * kEps);
  CHECK_NEAR(e.lower, 0.2, 8 * kEps);  // qwilcox(0.025, 5, 6) = 4: [d_(4), d_(27)]
  CHECK_NEAR(e.upper, 4.4, 8 * kEps);
  CHECK_REL(e.confidence, 32.0 / 33.0, 4 * kEps);
}

TEST_CASE("hodges-lehmann: samples too small for 95 % give the widest interval and say so") {
  // 3 vs 3: P(U = 0) = 1/20 > 0.025, so k = 1 and the interval [min d, max d] covers only 0.9.
  const ShiftEstimate e =
      hodges_lehmann(std::vector<double>{1, 2, 3}, std::vector<double>{4, 5, 6});
  CHECK(e.shift == 3.0);
  CHECK(e.lower == 1.0);
  CHECK(e.upper == 5.0);
  CHECK_REL(e.confidence, 0.9, 4 * kEps);

  // One value a side: the one difference is the estimate and the whole interval.
  const ShiftEstimate one = hodges_lehmann(std::vector<double>{2.0}, std::vector<double>{5.0});
  CHECK(one.shift == 3.0);
  CHECK(one.lower == 3.0);
  CHECK(one.upper == 3.0);
}

TEST_CASE("hodges-lehmann: identical samples tie everywhere: shift 0 and a zero-width interval") {
  const std::vector<double> same(12, 7.5);
  const ShiftEstimate e = hodges_lehmann(same, same);
  CHECK_FALSE(e.exact);  // ties: the normal approximation
  CHECK(e.shift == 0.0);
  CHECK(e.lower == 0.0);
  CHECK(e.upper == 0.0);
}

TEST_CASE("hodges-lehmann: adding c to the second sample moves shift and interval by c") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(100.0, 5.0);
  std::vector<double> a(30);
  std::vector<double> b(25);
  for (double& v : a) v = noise(rng);
  for (double& v : b) v = noise(rng);
  const ShiftEstimate before = hodges_lehmann(a, b);
  for (double& v : b) v += 12.0;
  const ShiftEstimate after = hodges_lehmann(a, b);
  CHECK(before.exact);
  CHECK_NEAR(after.shift, before.shift + 12.0, 1e-12);
  CHECK_NEAR(after.lower, before.lower + 12.0, 1e-12);
  CHECK_NEAR(after.upper, before.upper + 12.0, 1e-12);
}

TEST_CASE("hodges-lehmann: the 95 % interval covers the true shift about 95 % of the time") {
  // 1,000 seeded draws each of the exact (12 vs 12) and the normal (60 vs 60) interval. The
  // count of covering intervals is binomial: with coverage ≥ 0.95 (the exact interval's is
  // above it by construction), fewer than 930 of 1,000 has probability < 1e-3.
  std::mt19937_64 rng(2026);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (const int n : {12, 60}) {
    CAPTURE(n);
    int covered = 0;
    for (int draw = 0; draw < 1000; ++draw) {
      std::vector<double> a(n);
      std::vector<double> b(n);
      for (double& v : a) v = noise(rng);
      for (double& v : b) v = noise(rng) + 0.5;
      const ShiftEstimate e = hodges_lehmann(a, b);
      CHECK(e.exact == (n < 50));
      CHECK(e.confidence >= 0.95 - 1e-3);
      covered += (e.lower <= 0.5 && 0.5 <= e.upper) ? 1 : 0;
    }
    MESSAGE("n = " << n << ": " << covered << " of 1000 intervals cover the true shift");
    CHECK(covered >= 930);
    CHECK(covered <= 990);  // and the interval is not uselessly wide
  }
}

TEST_CASE("hodges-lehmann: a confidence one ulp below 1 is an interval, not an error") {
  // The tail is 5.6e-17 there: 1 − tail rounds to 1, so the quantile must come from the tail.
  const std::vector<double> a(60, 1.0);
  std::vector<double> b(60);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>(i);
  const ShiftEstimate usual = hodges_lehmann(a, b);
  const ShiftEstimate e = hodges_lehmann(a, b, std::nextafter(1.0, 0.0));
  CHECK(e.confidence > 0.999999);
  CHECK(e.lower < usual.lower);  // wider than the 95 % interval on both sides
  CHECK(e.upper > usual.upper);
  CHECK(e.lower <= e.shift);
  CHECK(e.shift <= e.upper);
}

TEST_CASE("hodges-lehmann: an empty side, NaN or a confidence outside (0, 1) throws") {
  const std::vector<double> some{1.0, 2.0};
  const std::vector<double> none;
  const std::vector<double> nan{1.0, kNan};
  CHECK_THROWS_AS(hodges_lehmann(none, some), std::invalid_argument);
  CHECK_THROWS_AS(hodges_lehmann(some, none), std::invalid_argument);
  CHECK_THROWS_AS(hodges_lehmann(nan, some), std::invalid_argument);
  CHECK_THROWS_AS(hodges_lehmann(some, some, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(hodges_lehmann(some, some, 1.0), std::invalid_argument);
}
