// Activation calibration: the per-tensor range of a layer's input from the
// values it takes on calibration images (calibrate_activation in quantize.h).
//
// kMse searches clipping ranges for the one with the least squared
// quantize-dequantize error over the samples, the idea of PyTorch's
// HistogramObserver. Instead of a histogram we sort the samples once and keep
// prefix sums of x and x²: the samples that round to one code form a
// contiguous run of the sorted array, so a candidate's error
//   Σ_code Σ_run (x − g)² = Σx² − 2g·Σx + n·g²
// costs one lookup per occupied code (≤ 2^bits), and is exact rather than a
// per-bin estimate (a histogram bin holding the background value of every
// image, or half the samples at 0 after a ReLU, would make a per-bin estimate
// wrong exactly where it matters).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/base/epilogue.h"
#include "kernels/gemm/gemm.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

namespace {

// The search grid: kMseGridSteps thresholds shrinking geometrically from the
// full range down to 2^−kMseGridSpanLog2 (1/65536) of it. Geometric, not linear, because a
// heavy outlier puts the best threshold near the bulk of the data, a tiny
// fraction of the full range, where a linear grid has no points. Consecutive
// thresholds differ by 2^(−16/199) ≈ 5.4 %; kMseRefineSteps linear steps
// between the best point's neighbours bring that to about 0.3 %.
constexpr int kMseGridSteps = 200;
constexpr double kMseGridSpanLog2 = 16.0;
constexpr int kMseRefineSteps = 32;
// Affine ranges have two ends, i.e. a scale and a zero point. A coarse 2-D
// grid over the ends (kMseCoarseSteps each, same span) picks a starting Z;
// then, for Z and its neighbours, the 1-D search finds the best S with Z
// fixed, walking Z towards lower error until it rises. Searching the two
// ends alternately instead stalls at low bit widths: moving one end moves Z
// by a whole code, so the best (lo, hi) can be unreachable one end at a time.
constexpr int kMseCoarseSteps = 32;
// Buckets of the value → sorted-position lookup.
constexpr std::size_t kLookupBuckets = 4096;

// numpy's percentile default: p in [0, 100], h = (n − 1)·p/100, interpolating
// between the order statistics floor(h) and floor(h) + 1 (from the nearer
// end, as numpy's _lerp). Reorders `values`.
double percentile_linear(std::vector<float>& values, double p) {
  const std::size_t n = values.size();
  const double h = static_cast<double>(n - 1) * (p / 100.0);
  const double lower = std::floor(h);
  const auto i = static_cast<std::size_t>(lower);
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(i);
  std::nth_element(values.begin(), nth, values.end());
  const double a = *nth;
  if (i + 1 >= n) return a;
  const double b = *std::min_element(nth + 1, values.end());
  const double t = h - lower;
  return t >= 0.5 ? b - (b - a) * (1.0 - t) : a + (b - a) * t;
}

// Σ (x − dequantize(quantize(x)))² over the samples, exactly as a quantized
// engine would compute the codes.
double exact_squared_error(std::span<const float> samples, float scale, std::int32_t zero_point,
                           QuantRange range) {
  double total = 0.0;
  for (const float x : samples) {
    const std::int32_t q = quantize_value(x, scale, zero_point, range);
    const double err = static_cast<double>(x) - scale * static_cast<float>(q - zero_point);
    total += err * err;
  }
  return total;
}

// The nonzero samples, sorted, with prefix sums; zeros are dropped because
// every candidate represents 0 exactly (the ranges include it), so they add
// nothing to any candidate's error.
class SortedSamples {
 public:
  explicit SortedSamples(std::span<const float> samples) {
    values_.reserve(samples.size());
    for (const float x : samples) {
      if (x != 0.0f) values_.push_back(x);
    }
    std::sort(values_.begin(), values_.end());
    sum_.assign(values_.size() + 1, 0.0);
    sum_sq_.assign(values_.size() + 1, 0.0);
    for (std::size_t i = 0; i < values_.size(); ++i) {
      const double x = values_[i];
      sum_[i + 1] = sum_[i] + x;
      sum_sq_[i + 1] = sum_sq_[i] + x * x;
    }
    if (values_.empty()) return;
    origin_ = values_.front();
    width_ = (static_cast<double>(values_.back()) - origin_) / static_cast<double>(kLookupBuckets);
    bucket_start_.resize(kLookupBuckets + 1);
    for (std::size_t b = 0; b < kLookupBuckets; ++b) {
      bucket_start_[b] =
          lower_bound_in(0, values_.size(), origin_ + static_cast<double>(b) * width_);
    }
    bucket_start_[kLookupBuckets] = values_.size();
  }

  // Σ (x − g(x))² with g(x) the nearest code's value, for scale S and zero
  // point Z. Codes are visited in order; those of one code form the run of
  // samples below its upper rounding boundary S·(k − Z + ½). A sample within
  // float rounding of a boundary may land in the other code than
  // quantize_value puts it in; both codes are then (almost) equally near, so
  // the error is the same to first order.
  double squared_error(float scale, std::int32_t zero_point, QuantRange range) const {
    const std::size_t n = values_.size();
    if (n == 0) return 0.0;
    const std::int32_t first = quantize_value(values_.front(), scale, zero_point, range);
    const std::int32_t last = quantize_value(values_.back(), scale, zero_point, range);
    double total = 0.0;
    std::size_t begin = 0;
    for (std::int32_t k = first; k <= last && begin < n; ++k) {
      const double boundary = static_cast<double>(scale) * (k - zero_point + 0.5);
      const std::size_t end = k == last ? n : std::max(begin, count_below(boundary));
      if (end == begin) continue;
      const double g = scale * static_cast<float>(k - zero_point);
      const double count = static_cast<double>(end - begin);
      const double s1 = sum_[end] - sum_[begin];
      const double s2 = sum_sq_[end] - sum_sq_[begin];
      // Σ(x − g)² ≥ 0; the expanded form can dip below by rounding.
      total += std::max(0.0, s2 - 2.0 * g * s1 + g * g * count);
      begin = end;
    }
    return total;
  }

 private:
  std::size_t lower_bound_in(std::size_t lo, std::size_t hi, double p) const {
    const auto it = std::lower_bound(values_.begin() + static_cast<std::ptrdiff_t>(lo),
                                     values_.begin() + static_cast<std::ptrdiff_t>(hi), p,
                                     [](float x, double v) { return static_cast<double>(x) < v; });
    return static_cast<std::size_t>(it - values_.begin());
  }

  // Number of samples < p. The bucket of p is computed in floating point and
  // may be off by one; searching one bucket either side makes that harmless.
  std::size_t count_below(double p) const {
    if (p <= values_.front()) return 0;
    if (p > values_.back()) return values_.size();
    const double position = (p - origin_) / width_;
    const std::size_t b = std::min(static_cast<std::size_t>(position), kLookupBuckets - 1);
    const std::size_t lo = bucket_start_[b > 0 ? b - 1 : 0];
    const std::size_t hi = bucket_start_[std::min(b + 2, kLookupBuckets)];
    return lower_bound_in(lo, hi, p);
  }

  std::vector<float> values_;
  std::vector<double> sum_;     // sum_[i] = Σ values_[0..i)
  std::vector<double> sum_sq_;  // sum_sq_[i] = Σ values_[0..i)²
  std::vector<std::size_t> bucket_start_;
  double origin_ = 0.0;
  double width_ = 0.0;
};

// steps thresholds from full down to full·2^−kMseGridSpanLog2, geometrically.
std::vector<float> geometric_grid(float full, int steps) {
  std::vector<float> grid(static_cast<std::size_t>(steps));
  for (int i = 0; i < steps; ++i) {
    const double shrink = std::exp2(-kMseGridSpanLog2 * i / (steps - 1));
    grid[static_cast<std::size_t>(i)] = i == 0 ? full : static_cast<float>(full * shrink);
  }
  return grid;
}

// The threshold t in (0, full] with the least error(t): the geometric grid,
// then a linear refinement between the best point's neighbours. Ties keep the
// larger threshold (less clipping).
template <typename ErrorOf>
float search_threshold(float full, const ErrorOf& error) {
  const std::vector<float> grid = geometric_grid(full, kMseGridSteps);
  std::size_t best_i = 0;
  float best = full;
  double best_error = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const double e = error(grid[i]);
    if (e < best_error) {
      best_error = e;
      best = grid[i];
      best_i = i;
    }
  }
  const double upper = grid[best_i > 0 ? best_i - 1 : 0];
  const double lower = grid[std::min(best_i + 1, grid.size() - 1)];
  for (int j = 1; j < kMseRefineSteps; ++j) {
    const auto t = static_cast<float>(upper - (upper - lower) * j / kMseRefineSteps);
    const double e = error(t);
    if (e < best_error) {
      best_error = e;
      best = t;
    }
  }
  return best;
}

struct AffineCandidate {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  double error = std::numeric_limits<double>::infinity();
};

// The best scale with the zero point held at z. The largest useful scale is
// the one whose grid just covers [lo, hi] with that z; the search shrinks
// from there.
AffineCandidate best_scale_for(const SortedSamples& sorted, float lo, float hi, std::int32_t z,
                               QuantRange range) {
  double full = 0.0;
  if (lo < 0.0f && z > range.qmin)
    full = std::max(full, -static_cast<double>(lo) / (z - range.qmin));
  if (hi > 0.0f && z < range.qmax)
    full = std::max(full, static_cast<double>(hi) / (range.qmax - z));
  AffineCandidate best;
  best.zero_point = z;
  if (full == 0.0) return best;  // every sample on a side z leaves no code for
  auto error_of = [&](float scale) { return sorted.squared_error(scale, z, range); };
  best.scale = search_threshold(static_cast<float>(full), error_of);
  best.error = error_of(best.scale);
  return best;
}

// The clipping range [lo_c, hi_c] (lo_c ≤ 0 ≤ hi_c) with the least error
// found for the samples, whose range is [lo, hi] (lo ≤ 0 ≤ hi).
void search_mse_range(const SortedSamples& sorted, float lo, float hi, QuantScheme scheme,
                      QuantRange range, float& lo_c, float& hi_c) {
  auto error_of = [&](float a, float b) {
    float scale = 0.0f;
    std::int32_t zero_point = 0;
    params_from_range(a, b, scheme, range, scale, zero_point);
    return sorted.squared_error(scale, zero_point, range);
  };
  if (scheme == QuantScheme::kSymmetric) {
    // Z is fixed; the threshold t = max(−lo_c, hi_c) is the only freedom.
    const float amax = std::max(-lo, hi);
    const float t = search_threshold(amax, [&](float c) { return error_of(-c, c); });
    lo_c = -t;
    hi_c = t;
    return;
  }
  // The starting zero point: min-max's, or the best of the coarse grid.
  float start_lo = lo;
  float start_hi = hi;
  if (lo < 0.0f && hi > 0.0f) {
    double best_error = std::numeric_limits<double>::infinity();
    for (const float a : geometric_grid(-lo, kMseCoarseSteps)) {
      for (const float b : geometric_grid(hi, kMseCoarseSteps)) {
        const double e = error_of(-a, b);
        if (e < best_error) {
          best_error = e;
          start_lo = -a;
          start_hi = b;
        }
      }
    }
  }
  float start_scale = 0.0f;
  std::int32_t start_zero_point = 0;
  params_from_range(start_lo, start_hi, scheme, range, start_scale, start_zero_point);
  AffineCandidate best = best_scale_for(sorted, lo, hi, start_zero_point, range);
  // Walk Z down while that helps; if it never did, walk up.
  for (const int step : {-1, +1}) {
    const std::int32_t before = best.zero_point;
    for (std::int32_t z = best.zero_point + step; z >= range.qmin && z <= range.qmax; z += step) {
      const AffineCandidate c = best_scale_for(sorted, lo, hi, z, range);
      if (!(c.error < best.error)) break;
      best = c;
    }
    if (best.zero_point != before) break;
  }
  lo_c = best.scale * static_cast<float>(range.qmin - best.zero_point);
  hi_c = best.scale * static_cast<float>(range.qmax - best.zero_point);
}

}  // namespace

QuantParams calibrate_activation(std::span<const float> samples, int bits, bool is_unsigned,
                                 QuantScheme scheme, Calibration method, double percentile) {
  QuantParams params;
  params.range = activation_range(bits, is_unsigned);
  params.scale.assign(1, 1.0f);
  params.zero_point.assign(1, 0);
  if (samples.empty()) throw std::invalid_argument("calibrate_activation: no samples");
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  for (const float x : samples) {
    if (!std::isfinite(x)) {
      throw std::invalid_argument(fmt::format("calibrate_activation: sample {} is not finite", x));
    }
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);

  switch (method) {
    case Calibration::kMinMax:
      break;
    case Calibration::kPercentile: {
      if (!(percentile >= 50.0 && percentile <= 100.0)) {
        throw std::invalid_argument(fmt::format(
            "calibrate_activation: percentile must be in [50, 100], got {}", percentile));
      }
      std::vector<float> values(samples.begin(), samples.end());
      if (scheme == QuantScheme::kSymmetric) {
        for (float& x : values) x = std::fabs(x);
        const auto t = static_cast<float>(percentile_linear(values, percentile));
        lo = -t;
        hi = t;
      } else {
        lo = static_cast<float>(percentile_linear(values, 100.0 - percentile));
        hi = static_cast<float>(percentile_linear(values, percentile));
      }
      break;
    }
    case Calibration::kMse: {
      if (lo == 0.0f && hi == 0.0f) break;
      const SortedSamples sorted(samples);
      float lo_c = lo;
      float hi_c = hi;
      search_mse_range(sorted, lo, hi, scheme, params.range, lo_c, hi_c);
      // The search's error is exact up to boundary rounding; checking the
      // winner against min-max with the real quantizer makes "never worse
      // than kMinMax" hold exactly.
      float scale = 0.0f;
      std::int32_t zero_point = 0;
      params_from_range(lo_c, hi_c, scheme, params.range, scale, zero_point);
      float full_scale = 0.0f;
      std::int32_t full_zero_point = 0;
      params_from_range(lo, hi, scheme, params.range, full_scale, full_zero_point);
      if (exact_squared_error(samples, scale, zero_point, params.range) <
          exact_squared_error(samples, full_scale, full_zero_point, params.range)) {
        lo = lo_c;
        hi = hi_c;
      }
      break;
    }
    default:
      throw std::invalid_argument("calibrate_activation: unknown calibration method");
  }
  params_from_range(lo, hi, scheme, params.range, params.scale[0], params.zero_point[0]);
  return params;
}

std::vector<std::vector<float>> calibration_hidden_outputs(const Mlp& model, const float* images,
                                                           int count) {
  std::vector<std::vector<float>> outputs(model.layers.size() - 1);
  const float* src = images;
  for (std::size_t l = 0; l < outputs.size(); ++l) {
    const DenseLayer& layer = model.layers[l];
    std::vector<float>& dst = outputs[l];
    dst.resize(static_cast<std::size_t>(count) * static_cast<std::size_t>(layer.outputs));
    GemmArgs args;
    args.shape = {count, layer.outputs, layer.inputs};
    args.trans_b = Transpose::kYes;  // y = x · Wᵀ, W stored [out][in]
    args.a = src;
    args.lda = layer.inputs;
    args.b = layer.weights.data();
    args.ldb = layer.inputs;
    args.c = dst.data();
    args.ldc = layer.outputs;
    sgemm_ref(args);
    add_bias_activation(dst.data(), count, layer.outputs, layer.bias.data(), true);
    src = dst.data();
  }
  return outputs;
}

}  // namespace lowbit::kernels
