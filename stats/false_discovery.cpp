#include "stats/false_discovery.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <stdexcept>

namespace lowbit::stats {

namespace {

void require_p_values(std::span<const double> p_values, const char* what) {
  for (std::size_t i = 0; i < p_values.size(); ++i) {
    if (!(p_values[i] >= 0.0 && p_values[i] <= 1.0)) {
      throw std::invalid_argument(
          fmt::format("{}: p-value {} = {} is outside [0, 1]", what, i, p_values[i]));
    }
  }
}

// Indices of p_values in ascending order of p; ties keep their input order.
std::vector<std::size_t> ascending_order(std::span<const double> p_values) {
  std::vector<std::size_t> order(p_values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t l, std::size_t r) { return p_values[l] < p_values[r]; });
  return order;
}

}  // namespace

std::vector<bool> benjamini_hochberg(std::span<const double> p_values, double q) {
  if (!(q > 0.0 && q <= 1.0)) {
    throw std::invalid_argument(fmt::format("benjamini_hochberg: q = {} is outside (0, 1]", q));
  }
  require_p_values(p_values, "benjamini_hochberg");
  const std::size_t m = p_values.size();
  const std::vector<std::size_t> order = ascending_order(p_values);

  // Step-up: the largest rank that passes decides, even if smaller ranks fail.
  std::size_t rejected_ranks = 0;
  for (std::size_t rank = m; rank >= 1; --rank) {
    const double threshold = q * (static_cast<double>(rank) / static_cast<double>(m));
    if (p_values[order[rank - 1]] <= threshold) {
      rejected_ranks = rank;
      break;
    }
  }
  std::vector<bool> rejected(m, false);
  for (std::size_t rank = 0; rank < rejected_ranks; ++rank) rejected[order[rank]] = true;
  return rejected;
}

std::vector<double> benjamini_hochberg_q_values(std::span<const double> p_values) {
  require_p_values(p_values, "benjamini_hochberg_q_values");
  const std::size_t m = p_values.size();
  const std::vector<std::size_t> order = ascending_order(p_values);
  std::vector<double> q(m);
  double running_min = 1.0;  // from the largest rank down: q is monotone in p
  for (std::size_t rank = m; rank >= 1; --rank) {
    const double scaled =
        p_values[order[rank - 1]] * (static_cast<double>(m) / static_cast<double>(rank));
    running_min = std::min(running_min, scaled);
    q[order[rank - 1]] = running_min;
  }
  return q;
}

}  // namespace lowbit::stats
