#include "stats/hodges_lehmann.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <vector>

#include "stats/input_checks.h"
#include "stats/normal.h"
#include "stats/summary.h"
#include "stats/u_distribution.h"

namespace lowbit::stats {

namespace {

// R's wilcox.test uses the exact distribution only below this many values a side.
constexpr std::size_t kExactBelow = 50;

struct PooledTies {
  double tie_term = 0.0;  // Σ (t³ − t) over groups of t equal values
  bool any = false;
};

PooledTies pooled_ties(std::span<const double> a, std::span<const double> b) {
  std::vector<double> all(a.begin(), a.end());
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  PooledTies ties;
  for (std::size_t start = 0; start < all.size();) {
    std::size_t end = start + 1;
    while (end < all.size() && all[end] == all[start]) ++end;
    if (end - start > 1) {
      const auto t = static_cast<double>(end - start);
      ties.tie_term += t * t * t - t;
      ties.any = true;
    }
    start = end;
  }
  return ties;
}

// The sorted differences b_j − a_i.
std::vector<double> sorted_differences(std::span<const double> a, std::span<const double> b) {
  std::vector<double> d;
  d.reserve(a.size() * b.size());
  for (double y : b) {
    for (double x : a) d.push_back(y - x);
  }
  std::sort(d.begin(), d.end());
  return d;
}

struct IntervalRank {
  std::size_t k = 1;  // the interval is [d_(k), d_(N+1−k)], 1-based
  double confidence = 0.0;
};

// Smallest k ≥ 1 with P(U ≤ k) ≥ tail, from the counted distribution (R's qwilcox).
IntervalRank exact_rank(std::size_t n1, std::size_t n2, OrderingCount total, double tail) {
  const std::size_t smaller = std::min(n1, n2);
  const std::size_t larger = std::max(n1, n2);
  const std::size_t half = n1 * n2 / 2;  // U is symmetric about N/2, so k never passes it
  const std::vector<OrderingCount> counts = orderings_by_u(smaller, larger, half);
  const auto share = [&](OrderingCount c) {
    return static_cast<double>(c) / static_cast<double>(total);
  };
  OrderingCount cumulative = 0;
  std::size_t quantile = half;
  for (std::size_t u = 0; u <= half; ++u) {
    cumulative += counts[u];
    if (share(cumulative) >= tail) {
      quantile = u;
      break;
    }
  }
  IntervalRank r;
  r.k = std::max<std::size_t>(1, quantile);
  OrderingCount below = 0;  // P(U ≤ k − 1): each tail outside the interval
  for (std::size_t u = 0; u < r.k; ++u) below += counts[u];
  r.confidence = 1.0 - 2.0 * share(below);
  return r;
}

IntervalRank normal_rank(std::size_t n1, std::size_t n2, double tie_term, double tail) {
  const double n = static_cast<double>(n1) * static_cast<double>(n2);
  const double sigma = u_null_sigma(static_cast<double>(n1), static_cast<double>(n2), tie_term);
  const double z = -normal_quantile(tail);  // 1 − tail would round to 1 near confidence 1
  IntervalRank r;
  r.k = static_cast<std::size_t>(std::max(1.0, std::ceil(n / 2.0 - 0.5 - z * sigma)));
  r.confidence = sigma > 0.0
                     ? 1.0 - 2.0 * normal_cdf((static_cast<double>(r.k) - 0.5 - n / 2.0) / sigma)
                     : 0.0;
  return r;
}

}  // namespace

ShiftEstimate hodges_lehmann(std::span<const double> a, std::span<const double> b,
                             double confidence) {
  require_orderable(a, "hodges_lehmann (first sample)");
  require_orderable(b, "hodges_lehmann (second sample)");
  if (!(confidence > 0.0 && confidence < 1.0)) {
    throw std::invalid_argument(
        fmt::format("hodges_lehmann: confidence = {} is outside (0, 1)", confidence));
  }
  const std::vector<double> d = sorted_differences(a, b);
  const double tail = (1.0 - confidence) / 2.0;
  const PooledTies ties = pooled_ties(a, b);
  const std::optional<OrderingCount> total =
      orderings(std::min(a.size(), b.size()), std::max(a.size(), b.size()));
  const bool exact = a.size() < kExactBelow && b.size() < kExactBelow && !ties.any && total;
  const IntervalRank rank = exact ? exact_rank(a.size(), b.size(), *total, tail)
                                  : normal_rank(a.size(), b.size(), ties.tie_term, tail);
  const std::size_t k = std::min(rank.k, d.size());
  ShiftEstimate e;
  e.shift = median(d);
  e.lower = d[k - 1];
  e.upper = d[d.size() - k];
  e.confidence = rank.confidence;
  e.exact = exact;
  return e;
}

}  // namespace lowbit::stats
