#pragma once
// How much one sample of latency repetitions is shifted against another, with a confidence
// interval: the estimate that goes with the Mann-Whitney test (it is the shift at which the test
// is least able to tell the samples apart), robust to the outliers timing always has.

#include <span>

namespace lowbit::stats {

struct ShiftEstimate {
  double shift = 0.0;  // median of the n1·n2 differences b_j − a_i
  double lower = 0.0;  // confidence interval [lower, upper] for the shift of b against a
  double upper = 0.0;
  double confidence = 0.0;  // what the interval achieves (U is discrete: at least the asked)
  bool exact = false;       // the interval's ranks come from the exact distribution of U
};

// The Hodges-Lehmann shift of b against a (positive: b tends to be larger) and its
// distribution-free confidence interval, as R's wilcox.test(b, a, conf.int = TRUE,
// conf.level = confidence) computes them. With the differences sorted, d_(1) ≤ … ≤ d_(N),
// N = n1·n2, the interval is [d_(k), d_(N+1−k)] for the smallest k ≥ 1 with
// P(U ≤ k) ≥ (1 − confidence)/2 under the null:
//  - exact (R's rule: both samples under 50 values and no value occurring twice in the pooled
//    data) from the counted distribution of U;
//  - otherwise from its normal approximation with the tie correction and a continuity
//    correction of ½: k = ⌈N/2 − ½ − z·σ⌉, z = Φ⁻¹(1 − (1 − confidence)/2). (R solves the same
//    approximation numerically; the two can differ by one rank.)
// Throws std::invalid_argument for an empty side, NaN, or confidence outside (0, 1).
ShiftEstimate hodges_lehmann(std::span<const double> a, std::span<const double> b,
                             double confidence = 0.95);

}  // namespace lowbit::stats
