#include "kernels/measure/statistics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace lowbit::kernels {

namespace {

// scipy's method='auto' uses the exact distribution when the smaller sample
// has at most this many values (scipy.stats._mannwhitneyu._mwu_choose_method).
constexpr std::size_t kMannWhitneyExactMaxSmallerSide = 8;

// The continuity correction of the normal approximation: U moves in steps of
// ½ or 1, and the approximation is taken half a step towards the mean.
constexpr double kContinuityCorrection = 0.5;

void require_nonempty(std::span<const double> values, std::string_view what) {
  if (values.empty()) throw std::invalid_argument(fmt::format("{}: empty input", what));
}

void require_orderable(std::span<const double> values, std::string_view what) {
  require_nonempty(values, what);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      throw std::invalid_argument(fmt::format("{}: value {} is NaN", what, i));
    }
  }
}

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

// --- Mann-Whitney U -------------------------------------------------------

struct Ranking {
  double rank_sum_a = 0.0;  // sum of the (average) ranks of the first sample
  double tie_term = 0.0;    // Σ (t³ − t) over groups of t equal values
  bool has_ties = false;
};

Ranking rank_first_sample(std::span<const double> a, std::span<const double> b) {
  struct Tagged {
    double value;
    bool from_a;
  };
  std::vector<Tagged> all;
  all.reserve(a.size() + b.size());
  for (double x : a) all.push_back({x, true});
  for (double x : b) all.push_back({x, false});
  std::sort(all.begin(), all.end(),
            [](const Tagged& l, const Tagged& r) { return l.value < r.value; });

  Ranking r;
  for (std::size_t start = 0; start < all.size();) {
    std::size_t end = start + 1;
    while (end < all.size() && all[end].value == all[start].value) ++end;
    // Positions start..end−1 hold ranks start+1..end; each gets their mean.
    const double average_rank = static_cast<double>(start + 1 + end) / 2.0;
    for (std::size_t k = start; k < end; ++k) {
      if (all[k].from_a) r.rank_sum_a += average_rank;
    }
    const auto t = static_cast<double>(end - start);
    if (end - start > 1) {
      r.has_ties = true;
      r.tie_term += t * t * t - t;
    }
    start = end;
  }
  return r;
}

using Count = unsigned __int128;

// C(m + n, m), or nothing if an intermediate product would pass 2^128. Each
// step c·(n + i)/i is exact: it equals C(n + i, i).
std::optional<Count> orderings(std::size_t m, std::size_t n) {
  Count c = 1;
  for (std::size_t i = 1; i <= m; ++i) {
    Count product;
    if (__builtin_mul_overflow(c, static_cast<Count>(n + i), &product)) return std::nullopt;
    c = product / i;
  }
  return c;
}

// Number of the C(m + n, m) orderings of m + n distinct values (m from one
// sample, n from the other) whose U is at most max_u. The counts of each U are
// the coefficients of the Gaussian binomial
//   [m+n choose m]_q = Π_{i=1..m} (1 − q^(n+i)) / (1 − q^i),
// built up one factor at a time, truncated after q^max_u: multiplying by
// (1 − q^k) and dividing by (1 − q^k) are each one pass of dynamic programming
// over the coefficients. Intermediate coefficients may be negative or huge, so
// the arithmetic is modulo 2^128 (unsigned wrap-around is exact ring
// arithmetic); the final counts are all below C(m + n, m) < 2^128 (checked by
// the caller), so they come out exact. Cost O(m·max_u).
Count orderings_with_u_at_most(std::size_t m, std::size_t n, std::size_t max_u) {
  std::vector<Count> coeff(max_u + 1, 0);
  coeff[0] = 1;
  for (std::size_t i = 1; i <= m; ++i) {
    const std::size_t up = n + i;  // × (1 − q^up), high degrees first
    if (up <= max_u) {
      for (std::size_t k = max_u; k >= up; --k) coeff[k] -= coeff[k - up];
    }
    for (std::size_t k = i; k <= max_u; ++k) coeff[k] += coeff[k - i];  // ÷ (1 − q^i)
  }
  Count total = 0;
  for (const Count& c : coeff) total += c;
  return total;
}

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

MannWhitneyResult mann_whitney_u(std::span<const double> a, std::span<const double> b,
                                 MannWhitneyMethod method) {
  require_orderable(a, "mann_whitney_u (first sample)");
  require_orderable(b, "mann_whitney_u (second sample)");

  const Ranking ranking = rank_first_sample(a, b);
  const auto n1 = static_cast<double>(a.size());
  const auto n2 = static_cast<double>(b.size());
  const double n = n1 + n2;

  MannWhitneyResult result;
  result.u = ranking.rank_sum_a - n1 * (n1 + 1.0) / 2.0;

  // Normal approximation (scipy _get_mwu_z). scipy standardises max(U1, U2),
  // which is U1 reflected to the upper side; we keep U1's side in the sign.
  const double mu = n1 * n2 / 2.0;
  const double variance = n1 * n2 / 12.0 * ((n + 1.0) - ranking.tie_term / (n * (n - 1.0)));
  const double sigma = std::sqrt(std::max(0.0, variance));
  const double distance = result.u - mu;
  // All values equal gives sigma = 0, but then U1 = mu and z stays 0.
  if (distance != 0.0) {
    result.z = std::copysign((std::fabs(distance) - kContinuityCorrection) / sigma, distance);
  }

  const std::size_t smaller = std::min(a.size(), b.size());
  const std::size_t larger = std::max(a.size(), b.size());
  const std::optional<Count> total = orderings(smaller, larger);
  if (method == MannWhitneyMethod::kAuto) {
    const bool exact_fits = smaller <= kMannWhitneyExactMaxSmallerSide && !ranking.has_ties;
    method = exact_fits && total ? MannWhitneyMethod::kExact : MannWhitneyMethod::kAsymptotic;
  }

  if (method == MannWhitneyMethod::kExact) {
    if (!total) {
      throw std::invalid_argument(
          fmt::format("mann_whitney_u: {} and {} values are too many for the exact distribution "
                      "(C({}, {}) ≥ 2^128); use the asymptotic method",
                      a.size(), b.size(), a.size() + b.size(), smaller));
    }
    // Two-sided p = 2·P(U ≥ max(U1, U2)) = 2·P(U ≤ n1·n2 − max(U1, U2)) by the
    // symmetry of U's null distribution; as scipy, a tied (half-integer) U is
    // truncated first.
    const std::size_t product = a.size() * b.size();
    const auto u_max = static_cast<std::size_t>(std::max(result.u, n1 * n2 - result.u));
    const Count at_most = orderings_with_u_at_most(smaller, larger, product - u_max);
    result.p_value =
        std::min(1.0, 2.0 * (static_cast<double>(at_most) / static_cast<double>(*total)));
    result.exact = true;
  } else {
    // 2·Φ(−|z|) = erfc(|z|/√2), accurate far into the tail.
    result.p_value = std::min(1.0, std::erfc(std::fabs(result.z) / std::numbers::sqrt2));
    result.exact = false;
  }
  return result;
}

std::vector<bool> benjamini_hochberg(std::span<const double> p_values, double q) {
  if (!(q > 0.0 && q <= 1.0)) {
    throw std::invalid_argument(fmt::format("benjamini_hochberg: q = {} is outside (0, 1]", q));
  }
  for (std::size_t i = 0; i < p_values.size(); ++i) {
    if (!(p_values[i] >= 0.0 && p_values[i] <= 1.0)) {
      throw std::invalid_argument(
          fmt::format("benjamini_hochberg: p-value {} = {} is outside [0, 1]", i, p_values[i]));
    }
  }
  const std::size_t m = p_values.size();
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t l, std::size_t r) { return p_values[l] < p_values[r]; });

  // Step-up: the largest rank that passes decides, even if smaller ranks fail.
  std::size_t rejected_ranks = 0;
  for (std::size_t rank = m; rank >= 1; --rank) {
    const double threshold = q * (static_cast<double>(rank) / static_cast<double>(m));
    if (p_values[order[rank - 1]] <= threshold) {
      rejected_ranks = rank;
      break;
    }
  }
  std::vector<bool> rejected(m, false);
  for (std::size_t rank = 0; rank < rejected_ranks; ++rank) rejected[order[rank]] = true;
  return rejected;
}

}  // namespace lowbit::kernels
