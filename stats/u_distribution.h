#pragma once
// The exact null distribution of the Mann-Whitney U statistic, counted: shared by the U test's
// exact p-value and the Hodges-Lehmann confidence interval, which reads its quantiles.

#include <cstddef>
#include <optional>
#include <vector>

namespace lowbit::stats {

// Counts of orderings can pass 2^64 well before a sample is large (C(40, 20) ≈ 1.4e11, but
// 8 vs 5000 is ~1e24), so they are 128-bit.
using OrderingCount = unsigned __int128;

// C(m + n, m): how many orderings of m + n distinct values there are, m from one sample and n
// from the other; nothing when that is 2^128 or more.
std::optional<OrderingCount> orderings(std::size_t m, std::size_t n);

// For u = 0..max_u, how many of those orderings have U = u (U counts the pairs in which the
// m-sample's value is the larger). Exact while C(m + n, m) < 2^128, which the caller checks.
std::vector<OrderingCount> orderings_by_u(std::size_t m, std::size_t n, std::size_t max_u);

// The standard deviation of U under the null for samples of n1 and n2 values, with the
// correction for ties: tie_term = Σ (t³ − t) over the groups of t equal values in the pooled
// data (0 without ties). 0 when every value is the same.
double u_null_sigma(double n1, double n2, double tie_term);

}  // namespace lowbit::stats
