#include "stats/mann_whitney.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <vector>

#include "stats/input_checks.h"
#include "stats/u_distribution.h"

namespace lowbit::stats {

namespace {

// scipy's method='auto' uses the exact distribution when the smaller sample
// has at most this many values (scipy.stats._mannwhitneyu._mwu_choose_method).
constexpr std::size_t kMannWhitneyExactMaxSmallerSide = 8;

// The continuity correction of the normal approximation: U moves in steps of
// ½ or 1, and the approximation is taken half a step towards the mean.
constexpr double kContinuityCorrection = 0.5;

struct Ranking {
  double rank_sum_a = 0.0;  // sum of the (average) ranks of the first sample
  double tie_term = 0.0;    // Σ (t³ − t) over groups of t equal values
  bool has_ties = false;
};

Ranking rank_first_sample(std::span<const double> a, std::span<const double> b) {
  struct Tagged {
    double value;
    bool from_a;
  };
  std::vector<Tagged> all;
  all.reserve(a.size() + b.size());
  for (double x : a) all.push_back({x, true});
  for (double x : b) all.push_back({x, false});
  std::sort(all.begin(), all.end(),
            [](const Tagged& l, const Tagged& r) { return l.value < r.value; });

  Ranking r;
  for (std::size_t start = 0; start < all.size();) {
    std::size_t end = start + 1;
    while (end < all.size() && all[end].value == all[start].value) ++end;
    // Positions start..end−1 hold ranks start+1..end; each gets their mean.
    const double average_rank = static_cast<double>(start + 1 + end) / 2.0;
    for (std::size_t k = start; k < end; ++k) {
      if (all[k].from_a) r.rank_sum_a += average_rank;
    }
    const auto t = static_cast<double>(end - start);
    if (end - start > 1) {
      r.has_ties = true;
      r.tie_term += t * t * t - t;
    }
    start = end;
  }
  return r;
}

}  // namespace

MannWhitneyResult mann_whitney_u(std::span<const double> a, std::span<const double> b,
                                 MannWhitneyMethod method) {
  require_orderable(a, "mann_whitney_u (first sample)");
  require_orderable(b, "mann_whitney_u (second sample)");

  const Ranking ranking = rank_first_sample(a, b);
  const auto n1 = static_cast<double>(a.size());
  const auto n2 = static_cast<double>(b.size());

  MannWhitneyResult result;
  result.u = ranking.rank_sum_a - n1 * (n1 + 1.0) / 2.0;

  // Normal approximation (scipy _get_mwu_z). scipy standardises max(U1, U2),
  // which is U1 reflected to the upper side; we keep U1's side in the sign.
  const double mu = n1 * n2 / 2.0;
  const double sigma = u_null_sigma(n1, n2, ranking.tie_term);
  const double distance = result.u - mu;
  // All values equal gives sigma = 0, but then U1 = mu and z stays 0.
  if (distance != 0.0) {
    result.z = std::copysign((std::fabs(distance) - kContinuityCorrection) / sigma, distance);
  }

  const std::size_t smaller = std::min(a.size(), b.size());
  const std::size_t larger = std::max(a.size(), b.size());
  const std::optional<OrderingCount> total = orderings(smaller, larger);
  if (method == MannWhitneyMethod::kAuto) {
    const bool exact_fits = smaller <= kMannWhitneyExactMaxSmallerSide && !ranking.has_ties;
    method = exact_fits && total ? MannWhitneyMethod::kExact : MannWhitneyMethod::kAsymptotic;
  }

  if (method == MannWhitneyMethod::kExact) {
    if (!total) {
      throw std::invalid_argument(
          fmt::format("mann_whitney_u: {} and {} values are too many for the exact distribution "
                      "(C({}, {}) ≥ 2^128); use the asymptotic method",
                      a.size(), b.size(), a.size() + b.size(), smaller));
    }
    // Two-sided p = 2·P(U ≥ max(U1, U2)) = 2·P(U ≤ n1·n2 − max(U1, U2)) by the
    // symmetry of U's null distribution; as scipy, a tied (half-integer) U is
    // truncated first.
    const std::size_t product = a.size() * b.size();
    const auto u_max = static_cast<std::size_t>(std::max(result.u, n1 * n2 - result.u));
    OrderingCount at_most = 0;
    for (const OrderingCount& c : orderings_by_u(smaller, larger, product - u_max)) at_most += c;
    result.p_value =
        std::min(1.0, 2.0 * (static_cast<double>(at_most) / static_cast<double>(*total)));
    result.exact = true;
  } else {
    // 2·Φ(−|z|) = erfc(|z|/√2), accurate far into the tail.
    result.p_value = std::min(1.0, std::erfc(std::fabs(result.z) / std::numbers::sqrt2));
    result.exact = false;
  }
  return result;
}

}  // namespace lowbit::stats
