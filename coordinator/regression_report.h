#pragma once
// Did a sweep get slower or less accurate than its baseline, series by series? A series is
// (config_hash, target id, batch, metric); this compares the two sweeps' results over every
// series either side has and gives each one verdict (docs/regressions.md):
//   regression, improvement, unchanged — a test decided it, after false-discovery-rate control
//       over every series tested in this comparison (Benjamini-Hochberg at alpha) and a minimum
//       effect (latency: relative Hodges-Lehmann shift; top-1: absolute change);
//   noisy — a side was measured on an overloaded host (CPU time per call well below real
//       time), so its latency says more about the host than the code; never a regression;
//   insufficient — too few samples (or no per-image correctness) to test at all;
//   skipped — skipped on either side, or failed on both;
//   new, gone — the series is on one side only.
// A result that passed in the baseline and failed (or is mistrusted) now is a regression of
// every series it has, without a test. Pure: the store is read by regressions.h.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/result_point.h"

namespace lowbit::coordinator {

struct RegressionOptions {
  double alpha = 0.05;       // the false-discovery rate over every series tested
  double min_effect = 0.05;  // latency: the smallest relative shift that is a change
  double min_drop = 0.002;   // top-1: the smallest absolute change that is a change
  // Below this CPU-time / real-time ratio (the median over repetitions) a side was measured
  // while something else had the cores: noisy.
  double min_cpu_ratio = 0.8;
};

// The first option outside its range, as "alpha: must be in (0, 1], not 2"; empty when all
// are good.
std::string check_options(const RegressionOptions& options);

enum class Verdict {
  kRegression,
  kImprovement,
  kUnchanged,
  kNoisy,
  kInsufficient,
  kSkipped,
  kNew,
  kGone
};
std::string to_string(Verdict verdict);
inline constexpr Verdict kAllVerdicts[] = {
    Verdict::kRegression,   Verdict::kImprovement, Verdict::kUnchanged, Verdict::kNoisy,
    Verdict::kInsufficient, Verdict::kSkipped,     Verdict::kNew,       Verdict::kGone};

enum class Metric { kLatency, kTop1 };
std::string to_string(Metric metric);  // "latency", "top1"

// One side of a comparison: a sweep and what a comparison reads of its results.
struct SweepSide {
  std::int64_t id = 0;
  std::string name;
  std::string branch;  // tags.branch; empty when untagged
  std::string commit;  // tags.commit
  std::vector<ResultPoint> results;
};

struct SeriesVerdict {
  std::string config_hash;
  std::string label;
  std::string target;  // target id
  std::string target_label;
  std::optional<int> batch;  // latency series only
  Metric metric = Metric::kLatency;
  Verdict verdict = Verdict::kUnchanged;
  std::optional<double> p;  // the test's p-value, when the series was tested
  std::optional<double> q;  // its Benjamini-Hochberg q-value over this comparison's tests
  // latency: relative shift (+0.10 is 10 % slower), with its confidence interval; top1: the
  // absolute change in top-1 (−0.01 is a point worse), with no interval.
  std::optional<double> effect;
  std::optional<std::pair<double, double>> ci;
  std::optional<double> baseline_value;  // median µs, or top-1
  std::optional<double> current_value;
  bool kernel_changed = false;  // the compute path differs: a path change, named as such
  std::string baseline_kernel;
  std::string kernel;
  bool injected = false;  // a side carries a slowdown injected for testing
  std::string reason;     // why a verdict is noisy, insufficient, skipped, or status-driven
};

// Whether the comparison could catch one regressed series alone: a rank test on n samples a
// side cannot go below 2 / C(2n, n), and Benjamini-Hochberg asks a lone change for alpha / m.
struct ComparisonPower {
  int tested = 0;              // series with a test (latency and top-1)
  int fewest_samples = 0;      // the fewest latency samples a side among tested series; 0: none
  double smallest_p = 0.0;     // the floor of p at that many samples
  double lone_change_p = 0.0;  // alpha / tested: what one change alone must reach
  bool can_flag_lone_change = true;
  int samples_needed = 0;  // the least samples a side that could (a floor, not a target)
};

struct RegressionReport {
  std::int64_t sweep = 0;
  std::optional<SweepSide> baseline_sweep;  // results not kept: only id, name, branch, commit
  std::string baseline_reason;              // how the baseline was chosen, or why there is none
  RegressionOptions options;
  std::vector<SeriesVerdict> series;
  std::map<Verdict, int> counts;  // every verdict, zeros included
  ComparisonPower power;

  bool has_regression() const;
};

// Every series of either side, in a stable order (config hash, target, metric, batch). Without a
// baseline every series is `new`. The options must pass check_options (std::invalid_argument).
RegressionReport compare_sweeps(const SweepSide& current, const SweepSide* baseline,
                                const RegressionOptions& options);

void to_json(nlohmann::json& j, const SeriesVerdict& s);
void to_json(nlohmann::json& j, const RegressionReport& r);

}  // namespace lowbit::coordinator
