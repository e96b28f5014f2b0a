#pragma once
// Tolerances of the statistics tests. kEps is one rounding of a double; where a result comes from
// a handful of roundings the tolerance counts them. Values quoted from scipy or R with 13
// significant digits are checked to 1e-12 relative: the quoting, not our arithmetic, is the limit.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace lowbit::testing {

constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kQuoted13Digits = 1e-12;

}  // namespace lowbit::testing

#define CHECK_NEAR(actual, expected, tolerance)        \
  CHECK_MESSAGE(                                       \
      std::fabs((actual) - (expected)) <= (tolerance), \
      fmt::format("{} = {}, expected {} ± {}", #actual, (actual), (expected), (tolerance)))

#define CHECK_REL(actual, expected, rel_tolerance) \
  CHECK_NEAR(actual, expected, (rel_tolerance)*std::fabs(expected))
