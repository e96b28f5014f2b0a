#pragma once
// Whether a latency series changed between a baseline and a current measurement, decided over
// many series at once: each series gets a rank test and a shift with its interval, then the
// false-discovery rate is controlled across all of them, and a change must also be large
// enough to matter (a 0.3 % shift can be real and still not worth anyone's attention).

#include <span>
#include <vector>

#include "stats/hodges_lehmann.h"

namespace lowbit::stats {

// Fewer repetitions a side than this give no verdict: Mann-Whitney with 4 a side cannot reach
// p < 0.029, and one outlier decides the shift.
constexpr int kMinSamplesPerSide = 5;

struct LatencyChange {
  bool enough_samples = false;  // both sides have kMinSamplesPerSide or more
  double p_value = 1.0;         // two-sided Mann-Whitney (1 without enough samples)
  ShiftEstimate shift;          // current − baseline, in the samples' unit
  double baseline_median = 0.0;
  double relative = 0.0;        // shift / baseline median: +0.10 is 10 % slower
  double relative_lower = 0.0;  // the shift's confidence interval, relative
  double relative_upper = 0.0;
};

// One series. Throws std::invalid_argument for an empty side, NaN, or a baseline median ≤ 0
// (a latency is positive).
LatencyChange compare_latency(std::span<const double> baseline, std::span<const double> current,
                              double confidence = 0.95);

struct ChangeDecision {
  double q_value = 1.0;  // Benjamini-Hochberg over every series with enough samples
  bool changed = false;  // q ≤ alpha and |relative| ≥ min_effect
};

// All series of one comparison together, in input order. Series without enough samples take no
// part in the correction (they are not tests) and are never changed. Throws for alpha outside
// (0, 1] or a negative min_effect.
std::vector<ChangeDecision> decide_changes(std::span<const LatencyChange> changes, double alpha,
                                           double min_effect);

}  // namespace lowbit::stats
