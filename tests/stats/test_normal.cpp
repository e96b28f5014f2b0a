// The normal quantile against Python's statistics.NormalDist().inv_cdf (Wichura's AS 241,
// accurate to about 1e-16), quoted with 17 significant digits.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "stats/normal.h"
#include "tests/stats/tolerances.h"

using namespace lowbit::stats;
using namespace lowbit::testing;

TEST_CASE("normal: quantiles in the centre and both tails agree with AS 241") {
  CHECK(normal_quantile(0.5) == 0.0);
  CHECK_REL(normal_quantile(0.975), 1.9599639845400536, 8 * kEps);
  CHECK_REL(normal_quantile(0.95), 1.6448536269514715, 8 * kEps);
  CHECK_REL(normal_quantile(0.8), 0.8416212335729144, 8 * kEps);
  CHECK_REL(normal_quantile(0.001), -3.090232306167813, 8 * kEps);
  CHECK_REL(normal_quantile(1e-10), -6.361340902404056, 8 * kEps);
  CHECK_REL(normal_quantile(0.999999), 4.753424308817089, 1e-14);
  CHECK_REL(normal_quantile(0.3), -normal_quantile(0.7), 1e-14);  // 1 − 0.7 is not exactly 0.3
}

TEST_CASE("normal: the quantile inverts the cdf") {
  for (const double p : {1e-200, 1e-8, 0.01, 0.2, 0.5, 0.6, 0.99}) {
    CAPTURE(p);
    CHECK_REL(normal_cdf(normal_quantile(p)), p, 1e-13);
  }
}

TEST_CASE("normal: a subnormal p still gives a finite quantile") {
  const double x = normal_quantile(1e-310);
  CHECK(std::isfinite(x));
  CHECK(x < -37.0);
}

TEST_CASE("normal: p outside (0, 1) throws") {
  CHECK_THROWS_AS(normal_quantile(0.0), std::invalid_argument);
  CHECK_THROWS_AS(normal_quantile(1.0), std::invalid_argument);
  CHECK_THROWS_AS(normal_quantile(kNan), std::invalid_argument);
}
