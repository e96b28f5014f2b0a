#pragma once
// False-discovery-rate control over many comparisons (Benjamini & Hochberg 1995): a sweep
// compares hundreds of series, and a per-series test at 0.05 would flag several of them on
// noise alone in every run.

#include <span>
#include <vector>

namespace lowbit::stats {

// Benjamini-Hochberg step-up procedure: with the p-values sorted ascending,
// find the largest rank k with p_(k) ≤ q·k/m and reject the hypotheses of ranks
// 1..k. Returns, for each input p-value in input order, whether it is rejected;
// the expected share of false rejections among rejections is at most q.
// Throws for q outside (0, 1] or a p-value outside [0, 1].
std::vector<bool> benjamini_hochberg(std::span<const double> p_values, double q);

// The Benjamini-Hochberg adjusted p-values (q-values), in input order, as R's
// p.adjust(p, method = "BH"): with p sorted ascending, q_(i) = min over j ≥ i of m·p_(j)/j,
// capped at 1. A hypothesis is rejected at level q by benjamini_hochberg exactly when its
// q-value is ≤ q. Empty input gives an empty result. Throws for a p-value outside [0, 1].
std::vector<double> benjamini_hochberg_q_values(std::span<const double> p_values);

}  // namespace lowbit::stats
