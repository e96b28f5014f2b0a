#include "kernels/quant/quantize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace lowbit::kernels {

namespace {

// Codes live in an int8 / uint8 container.
constexpr int kMinBits = 2;
constexpr int kMaxBits = 8;

// PyTorch's observers floor the scale at torch.finfo(torch.float32).eps.
constexpr float kMinScale = std::numeric_limits<float>::epsilon();

void require_bits(int bits, std::string_view what) {
  if (bits < kMinBits || bits > kMaxBits) {
    throw std::invalid_argument(
        fmt::format("{}: bits must be in {}..{}, got {}", what, kMinBits, kMaxBits, bits));
  }
}

void require_shape(std::size_t size, int rows, int cols, std::string_view what) {
  if (rows <= 0 || cols <= 0) {
    throw std::invalid_argument(fmt::format("{}: shape {}x{} is empty", what, rows, cols));
  }
  const std::size_t expected = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  if (size != expected) {
    throw std::invalid_argument(fmt::format("{}: {} elements for a {}x{} matrix ({} expected)",
                                            what, size, rows, cols, expected));
  }
}

// The parameters must be one per tensor or one per row, scale and zero point alike.
void require_params(const QuantParams& params, int rows, std::string_view what) {
  const std::size_t n = params.scale.size();
  if ((n != 1 && n != static_cast<std::size_t>(rows)) || params.zero_point.size() != n) {
    throw std::invalid_argument(fmt::format("{}: {} scales and {} zero points for {} rows", what, n,
                                            params.zero_point.size(), rows));
  }
}

// The symmetric zero point: 0 in a signed code; in an unsigned one the middle
// code, so that the grid is (nearly) symmetric about it — PyTorch's
// (quant_min + quant_max + 1) // 2, i.e. 128 for quint8.
std::int32_t symmetric_zero_point(QuantRange range) {
  return range.qmin < 0 ? 0 : (range.qmin + range.qmax + 1) / 2;
}

// Minimum and maximum of the values in [begin, end); throws on NaN or ±inf,
// which have no meaningful range.
void finite_min_max(const float* begin, const float* end, float& lo, float& hi,
                    std::string_view what) {
  lo = std::numeric_limits<float>::infinity();
  hi = -std::numeric_limits<float>::infinity();
  for (const float* p = begin; p != end; ++p) {
    if (!std::isfinite(*p)) {
      throw std::invalid_argument(fmt::format("{}: value {} is not finite", what, *p));
    }
    lo = std::min(lo, *p);
    hi = std::max(hi, *p);
  }
}

template <typename Names, typename Value>
Value parse_named(const std::string& text, const Names& names, std::string_view what) {
  std::string allowed;
  for (const auto& [name, value] : names) {
    if (text == name) return value;
    allowed += allowed.empty() ? "" : ", ";
    allowed += fmt::format("\"{}\"", name);
  }
  throw std::invalid_argument(fmt::format("unknown {} \"{}\"; allowed: {}", what, text, allowed));
}

struct SchemeName {
  const char* name;
  QuantScheme value;
};
constexpr SchemeName kSchemeNames[] = {{"sym", QuantScheme::kSymmetric},
                                       {"asym", QuantScheme::kAsymmetric}};

struct GranularityName {
  const char* name;
  QuantGranularity value;
};
constexpr GranularityName kGranularityNames[] = {{"tensor", QuantGranularity::kPerTensor},
                                                 {"channel", QuantGranularity::kPerChannel}};

struct CalibrationName {
  const char* name;
  Calibration value;
};
constexpr CalibrationName kCalibrationNames[] = {{"minmax", Calibration::kMinMax},
                                                 {"percentile", Calibration::kPercentile},
                                                 {"mse", Calibration::kMse}};

template <typename Names, typename Value>
std::string name_of(const Names& names, Value value) {
  for (const auto& entry : names) {
    if (entry.value == value) return entry.name;
  }
  throw std::invalid_argument("to_string: value out of range");
}

}  // namespace

std::string to_string(QuantScheme s) { return name_of(kSchemeNames, s); }
std::string to_string(QuantGranularity g) { return name_of(kGranularityNames, g); }
std::string to_string(Calibration c) { return name_of(kCalibrationNames, c); }

QuantScheme parse_quant_scheme(const std::string& text) {
  return parse_named<decltype(kSchemeNames), QuantScheme>(text, kSchemeNames,
                                                          "quantization scheme");
}

QuantGranularity parse_quant_granularity(const std::string& text) {
  return parse_named<decltype(kGranularityNames), QuantGranularity>(text, kGranularityNames,
                                                                    "quantization granularity");
}

Calibration parse_calibration(const std::string& text) {
  return parse_named<decltype(kCalibrationNames), Calibration>(text, kCalibrationNames,
                                                               "calibration method");
}

QuantRange weight_range(int bits, QuantScheme scheme) {
  require_bits(bits, "weight_range");
  const std::int32_t half = std::int32_t{1} << (bits - 1);
  if (scheme == QuantScheme::kSymmetric) return {-(half - 1), half - 1};
  return {-half, half - 1};
}

QuantRange activation_range(int bits, bool is_unsigned) {
  require_bits(bits, "activation_range");
  if (is_unsigned) return {0, (std::int32_t{1} << bits) - 1};
  const std::int32_t half = std::int32_t{1} << (bits - 1);
  return {-half, half - 1};
}

void params_from_range(float lo, float hi, QuantScheme scheme, QuantRange range, float& scale,
                       std::int32_t& zero_point) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    throw std::invalid_argument(fmt::format("params_from_range: [{}, {}] is not finite", lo, hi));
  }
  if (lo > hi) {
    throw std::invalid_argument(fmt::format("params_from_range: lo {} > hi {}", lo, hi));
  }
  if (range.qmax <= range.qmin) {
    throw std::invalid_argument(
        fmt::format("params_from_range: empty code range [{}, {}]", range.qmin, range.qmax));
  }
  const float lo0 = std::min(lo, 0.0f);
  const float hi0 = std::max(hi, 0.0f);
  const auto levels = static_cast<float>(range.qmax - range.qmin);
  if (lo0 == 0.0f && hi0 == 0.0f) {
    scale = 1.0f;
    zero_point = scheme == QuantScheme::kSymmetric ? symmetric_zero_point(range) : 0;
    return;
  }
  if (scheme == QuantScheme::kSymmetric) {
    scale = std::max(std::max(-lo0, hi0) / (levels / 2.0f), kMinScale);
    zero_point = symmetric_zero_point(range);
    return;
  }
  scale = std::max((hi0 - lo0) / levels, kMinScale);
  // lo0 / scale is in [−levels, 0] (up to rounding), so the cast cannot overflow.
  const auto shift = static_cast<std::int32_t>(std::nearbyint(lo0 / scale));
  zero_point = std::clamp(range.qmin - shift, range.qmin, range.qmax);
}

QuantParams choose_weight_params(std::span<const float> weights, int rows, int cols, int bits,
                                 QuantScheme scheme, QuantGranularity granularity) {
  require_shape(weights.size(), rows, cols, "choose_weight_params");
  QuantParams params;
  params.range = weight_range(bits, scheme);
  const int channels = granularity == QuantGranularity::kPerChannel ? rows : 1;
  const std::size_t per_channel = weights.size() / static_cast<std::size_t>(channels);
  params.scale.resize(static_cast<std::size_t>(channels));
  params.zero_point.resize(static_cast<std::size_t>(channels));
  for (std::size_t c = 0; c < params.scale.size(); ++c) {
    const float* begin = weights.data() + c * per_channel;
    float lo = 0.0f;
    float hi = 0.0f;
    finite_min_max(begin, begin + per_channel, lo, hi, "choose_weight_params");
    params_from_range(lo, hi, scheme, params.range, params.scale[c], params.zero_point[c]);
  }
  return params;
}

void quantize_weights(std::span<const float> weights, int rows, int cols, const QuantParams& params,
                      std::span<std::int8_t> dst) {
  require_shape(weights.size(), rows, cols, "quantize_weights");
  require_shape(dst.size(), rows, cols, "quantize_weights (dst)");
  require_params(params, rows, "quantize_weights");
  const bool per_row = params.scale.size() > 1;
  for (int r = 0; r < rows; ++r) {
    const std::size_t c = per_row ? static_cast<std::size_t>(r) : 0;
    const float scale = params.scale[c];
    const std::int32_t zero_point = params.zero_point[c];
    const std::size_t row = static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    for (std::size_t j = row; j < row + static_cast<std::size_t>(cols); ++j) {
      dst[j] =
          static_cast<std::int8_t>(quantize_value(weights[j], scale, zero_point, params.range));
    }
  }
}

void dequantize_weights(std::span<const std::int8_t> q, int rows, int cols,
                        const QuantParams& params, std::span<float> dst) {
  require_shape(q.size(), rows, cols, "dequantize_weights");
  require_shape(dst.size(), rows, cols, "dequantize_weights (dst)");
  require_params(params, rows, "dequantize_weights");
  const bool per_row = params.scale.size() > 1;
  for (int r = 0; r < rows; ++r) {
    const std::size_t c = per_row ? static_cast<std::size_t>(r) : 0;
    const float scale = params.scale[c];
    const std::int32_t zero_point = params.zero_point[c];
    const std::size_t row = static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    for (std::size_t j = row; j < row + static_cast<std::size_t>(cols); ++j) {
      dst[j] = scale * static_cast<float>(q[j] - zero_point);
    }
  }
}

std::vector<float> fake_quantize_weights(std::span<const float> weights, int rows, int cols,
                                         int bits, QuantScheme scheme,
                                         QuantGranularity granularity) {
  const QuantParams params = choose_weight_params(weights, rows, cols, bits, scheme, granularity);
  std::vector<std::int8_t> q(weights.size());
  quantize_weights(weights, rows, cols, params, q);
  std::vector<float> result(weights.size());
  dequantize_weights(q, rows, cols, params, result);
  return result;
}

}  // namespace lowbit::kernels
