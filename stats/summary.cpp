#include "stats/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "stats/input_checks.h"

namespace lowbit::stats {

namespace {

std::vector<double> sorted_copy(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

double median_of_sorted(const std::vector<double>& sorted) {
  const std::size_t n = sorted.size();
  if (n % 2 == 1) return sorted[n / 2];
  return (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
}

// numpy's _lerp: a + (b − a)·t, but b − (b − a)·(1 − t) for t ≥ ½, which keeps
// the result exact at t = 1 and monotone in t.
double lerp_like_numpy(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

double percentile_of_sorted(const std::vector<double>& sorted, double p) {
  const std::size_t last = sorted.size() - 1;
  const double h = static_cast<double>(last) * (p / 100.0);
  const double lower = std::floor(h);
  const auto i = static_cast<std::size_t>(lower);
  if (i >= last) return sorted[last];
  return lerp_like_numpy(sorted[i], sorted[i + 1], h - lower);
}

double mean_unchecked(std::span<const double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

// Two passes: the sum of squared deviations from the mean, not the
// cancellation-prone Σx² − n·mean².
double sample_stddev_unchecked(std::span<const double> values, double mean) {
  if (values.size() < 2) return 0.0;
  double sum_sq = 0.0;
  for (double x : values) sum_sq += (x - mean) * (x - mean);
  return std::sqrt(sum_sq / static_cast<double>(values.size() - 1));
}

double cv_of(double stddev, double mean) { return mean == 0.0 ? 0.0 : stddev / mean; }

}  // namespace

double mean(std::span<const double> values) {
  require_nonempty(values, "mean");
  return mean_unchecked(values);
}

double median(std::span<const double> values) {
  require_orderable(values, "median");
  return median_of_sorted(sorted_copy(values));
}

double sample_stddev(std::span<const double> values) {
  require_nonempty(values, "sample_stddev");
  return sample_stddev_unchecked(values, mean_unchecked(values));
}

double coefficient_of_variation(std::span<const double> values) {
  require_nonempty(values, "coefficient_of_variation");
  const double m = mean_unchecked(values);
  return cv_of(sample_stddev_unchecked(values, m), m);
}

double minimum(std::span<const double> values) {
  require_orderable(values, "minimum");
  return *std::min_element(values.begin(), values.end());
}

double maximum(std::span<const double> values) {
  require_orderable(values, "maximum");
  return *std::max_element(values.begin(), values.end());
}

double percentile(std::span<const double> values, double p) {
  require_orderable(values, "percentile");
  if (!(p >= 0.0 && p <= 100.0)) {
    throw std::invalid_argument(fmt::format("percentile: p = {} is outside [0, 100]", p));
  }
  return percentile_of_sorted(sorted_copy(values), p);
}

Summary summarize(std::span<const double> values) {
  require_orderable(values, "summarize");
  const std::vector<double> sorted = sorted_copy(values);
  Summary s;
  s.count = static_cast<int>(values.size());
  s.mean = mean_unchecked(values);
  s.median = median_of_sorted(sorted);
  s.stddev = sample_stddev_unchecked(values, s.mean);
  s.cv = cv_of(s.stddev, s.mean);
  s.min = sorted.front();
  s.max = sorted.back();
  return s;
}

}  // namespace lowbit::stats
