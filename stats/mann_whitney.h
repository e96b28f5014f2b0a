#pragma once
// The Mann-Whitney U test of two samples of latency repetitions, reproducing
// scipy.stats.mannwhitneyu exactly, so that a p-value here means what it means in Python.

#include <span>

namespace lowbit::stats {

// How mann_whitney_u computes its p-value.
//  kAuto       — scipy's rule: kExact when the smaller sample has at most 8 values
//                and no value occurs twice (in either sample), else kAsymptotic.
//                (Falls back to kAsymptotic in the one case kExact cannot count:
//                C(n1 + n2, min(n1, n2)) ≥ 2^128, i.e. a side of ~10^5 values.)
//  kExact      — the exact null distribution of U, counted over all C(n1 + n2, n1)
//                orderings. Not corrected for ties: like scipy, a tied U is
//                truncated to an integer. Throws if the counts would exceed 2^128.
//  kAsymptotic — normal approximation with the tie correction to the variance and
//                a continuity correction of 0.5 (scipy method='asymptotic',
//                use_continuity=True).
enum class MannWhitneyMethod : unsigned char { kAuto, kExact, kAsymptotic };

struct MannWhitneyResult {
  double u = 0.0;        // U of the first sample: pairs (a_i, b_j) with a_i > b_j, ties ½
  double z = 0.0;        // (U − n1·n2/2 ∓ 0.5) / σ_tie-corrected, 0 at the mean; negative
                         // when a tends to be smaller. Computed for both methods; the
                         // asymptotic p-value is 2·Φ(−|z|).
  double p_value = 1.0;  // two-sided, at most 1
  bool exact = false;    // true when the exact distribution gave p_value
};

// Two-sided Mann-Whitney U test, as scipy.stats.mannwhitneyu(a, b,
// alternative='two-sided') — by default with method='auto'. Ties get average
// ranks. Throws when either side is empty or contains NaN.
MannWhitneyResult mann_whitney_u(std::span<const double> a, std::span<const double> b,
                                 MannWhitneyMethod method = MannWhitneyMethod::kAuto);

}  // namespace lowbit::stats
