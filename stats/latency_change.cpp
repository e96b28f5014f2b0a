#include "stats/latency_change.h"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "stats/false_discovery.h"
#include "stats/mann_whitney.h"
#include "stats/summary.h"

namespace lowbit::stats {

LatencyChange compare_latency(std::span<const double> baseline, std::span<const double> current,
                              double confidence) {
  LatencyChange c;
  c.baseline_median = median(baseline);
  if (!(c.baseline_median > 0.0)) {
    throw std::invalid_argument(fmt::format(
        "compare_latency: baseline median {} is not a positive latency", c.baseline_median));
  }
  c.shift = hodges_lehmann(baseline, current, confidence);
  c.relative = c.shift.shift / c.baseline_median;
  c.relative_lower = c.shift.lower / c.baseline_median;
  c.relative_upper = c.shift.upper / c.baseline_median;
  c.enough_samples = baseline.size() >= static_cast<std::size_t>(kMinSamplesPerSide) &&
                     current.size() >= static_cast<std::size_t>(kMinSamplesPerSide);
  if (c.enough_samples) c.p_value = mann_whitney_u(baseline, current).p_value;
  return c;
}

std::vector<ChangeDecision> decide_changes(std::span<const LatencyChange> changes, double alpha,
                                           double min_effect) {
  if (!(alpha > 0.0 && alpha <= 1.0)) {
    throw std::invalid_argument(fmt::format("decide_changes: alpha = {} is outside (0, 1]", alpha));
  }
  if (!(min_effect >= 0.0)) {
    throw std::invalid_argument(
        fmt::format("decide_changes: min_effect = {} must be ≥ 0", min_effect));
  }
  std::vector<double> tested_p;
  std::vector<std::size_t> tested;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (!changes[i].enough_samples) continue;
    tested_p.push_back(changes[i].p_value);
    tested.push_back(i);
  }
  const std::vector<double> q = benjamini_hochberg_q_values(tested_p);
  std::vector<ChangeDecision> decisions(changes.size());
  for (std::size_t t = 0; t < tested.size(); ++t) {
    ChangeDecision& d = decisions[tested[t]];
    d.q_value = q[t];
    d.changed = q[t] <= alpha && std::fabs(changes[tested[t]].relative) >= min_effect;
  }
  return decisions;
}

}  // namespace lowbit::stats
