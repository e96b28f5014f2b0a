#include "stats/sample_size.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lowbit::stats {

double smallest_two_sided_p(int n_a, int n_b) {
  if (n_a < 1 || n_b < 1) {
    throw std::invalid_argument(fmt::format("sample sizes must be ≥ 1, not {} and {}", n_a, n_b));
  }
  // log C(n_a + n_b, n_a) by lgamma: exact enough for a floor, and no overflow at any n.
  const double log_orderings =
      std::lgamma(n_a + n_b + 1.0) - std::lgamma(n_a + 1.0) - std::lgamma(n_b + 1.0);
  return std::min(1.0, 2.0 * std::exp(-log_orderings));
}

int samples_to_flag_lone_change(int series, double alpha) {
  if (series < 1) throw std::invalid_argument(fmt::format("series must be ≥ 1, not {}", series));
  if (!(alpha > 0 && alpha <= 1)) {
    throw std::invalid_argument(fmt::format("alpha must be in (0, 1], not {}", alpha));
  }
  const double needed = alpha / series;
  int n = 1;
  while (smallest_two_sided_p(n, n) > needed) ++n;  // the floor falls ~4× per sample
  return n;
}

}  // namespace lowbit::stats
