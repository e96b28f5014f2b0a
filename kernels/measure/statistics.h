#pragma once
// Statistics of latency repetitions, and the tests that decide whether two sets
// of repetitions differ. Each function reproduces a named reference exactly
// (numpy's percentile, scipy's mannwhitneyu, Benjamini & Hochberg 1995) so that
// any number reported here can be recomputed in Python and must agree.
//
// Errors: every function throws std::invalid_argument on empty input; those
// that order their input (median, minimum, maximum, percentile, summarize,
// mann_whitney_u) also reject NaN, which has no place in an ordering.
// ±infinity is an ordinary (extreme) value.

#include <span>
#include <vector>

namespace lowbit::kernels {

double mean(std::span<const double> values);

// Middle value; for an even count the average of the two middle values (numpy.median).
double median(std::span<const double> values);

// Standard deviation with the n − 1 denominator (numpy.std(ddof=1)); 0 for one value.
double sample_stddev(std::span<const double> values);

// sample_stddev / mean; 0 when the mean is 0.
double coefficient_of_variation(std::span<const double> values);

double minimum(std::span<const double> values);
double maximum(std::span<const double> values);

// The p-th percentile, p in [0, 100], of unsorted values, as numpy.percentile
// with its default method "linear" (Hyndman & Fan type 7): h = (n − 1)·p/100,
// interpolating between the sorted values x[floor(h)] and x[floor(h) + 1].
// The interpolation is evaluated in numpy's order (from the nearer end), so
// results agree with numpy to the last bit. Throws for p outside [0, 100].
double percentile(std::span<const double> values, double p);

struct Summary {
  int count = 0;
  double mean = 0.0;
  double median = 0.0;
  double stddev = 0.0;  // sample_stddev
  double cv = 0.0;      // coefficient_of_variation
  double min = 0.0;
  double max = 0.0;
};

// All of the above from one sort of the values.
Summary summarize(std::span<const double> values);

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

// Benjamini-Hochberg step-up procedure: with the p-values sorted ascending,
// find the largest rank k with p_(k) ≤ q·k/m and reject the hypotheses of ranks
// 1..k. Returns, for each input p-value in input order, whether it is rejected;
// the expected share of false rejections among rejections is at most q.
// Throws for q outside (0, 1] or a p-value outside [0, 1].
std::vector<bool> benjamini_hochberg(std::span<const double> p_values, double q);

}  // namespace lowbit::kernels
