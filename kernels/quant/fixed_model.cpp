#include "kernels/quant/fixed_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>

#include "kernels/base/sizes.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_u8s8.h"
#include "kernels/gemm/requantize.h"

namespace lowbit::kernels {

namespace {

constexpr int kActivationBits = 8;
constexpr std::int64_t kActivationMax = 255;
// With M ≥ 2^8 every nonzero accumulator already saturates a uint8 output (|x·M| ≥ 256), so
// capping M there changes no result and keeps the left shift of requantization ≤ 9.
constexpr double kMaxMultiplier = 256.0;
// |q_b| beyond this is meaningless (the clamp below is far tighter) but keeps llround defined.
constexpr double kMaxBias = 0x1.0p40;

void check_request(const Mlp& model, const QuantSpec& spec, const CalibrationSet& calibration) {
  if (spec.bits < 2 || spec.bits > 8) {
    throw std::invalid_argument(
        fmt::format("fixed needs weight bits in 2..8 (int8 container), got {}", spec.bits));
  }
  if (model.layers.empty()) throw std::invalid_argument("fixed: the model has no layers");
  if (calibration.images == nullptr || calibration.count <= 0) {
    throw std::invalid_argument(
        "fixed needs static activation ranges, but the calibration set is empty");
  }
  if (calibration.features != model.inputs()) {
    throw std::invalid_argument(
        fmt::format("fixed: calibration images have {} features, the model takes {}",
                    calibration.features, model.inputs()));
  }
  for (const DenseLayer& layer : model.layers) {
    if (layer.inputs > kMaxU8S8Depth) {
      throw std::invalid_argument(fmt::format(
          "fixed: a layer with {} inputs could overflow int32 accumulators (at most {})",
          layer.inputs, kMaxU8S8Depth));
    }
  }
}

struct ActivationParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

ActivationParams calibrate(std::span<const float> samples, const QuantSpec& spec) {
  const QuantParams p =
      calibrate_activation(samples, kActivationBits, /*is_unsigned=*/true, QuantScheme::kAsymmetric,
                           spec.calibration, spec.percentile);
  return {p.scale.front(), p.zero_point.front()};
}

FixedLayer quantize_layer(const DenseLayer& layer, int bits, QuantGranularity granularity,
                          ActivationParams src) {
  FixedLayer q;
  q.inputs = layer.inputs;
  q.outputs = layer.outputs;
  q.src_scale = src.scale;
  q.src_zero_point = src.zero_point;
  const QuantParams wp = choose_weight_params(layer.weights, layer.outputs, layer.inputs, bits,
                                              QuantScheme::kSymmetric, granularity);
  q.weights.resize(layer.weights.size());
  quantize_weights(layer.weights, layer.outputs, layer.inputs, wp, q.weights);
  q.weight_scale.resize(static_cast<std::size_t>(layer.outputs));
  q.bias.resize(static_cast<std::size_t>(layer.outputs));
  for (int c = 0; c < layer.outputs; ++c) {
    const auto ci = static_cast<std::size_t>(c);
    q.weight_scale[ci] = wp.per_channel() ? wp.scale[ci] : wp.scale.front();
    std::int64_t column_sum = 0;
    std::int64_t magnitude = 0;
    for (int k = 0; k < layer.inputs; ++k) {
      const std::int8_t w = q.weights[element_count(c, layer.inputs) + static_cast<std::size_t>(k)];
      column_sum += w;
      magnitude += std::abs(w);
    }
    const double bias_scale = static_cast<double>(q.src_scale) * q.weight_scale[ci];
    const double q_b = std::clamp(std::round(layer.bias[ci] / bias_scale), -kMaxBias, kMaxBias);
    const std::int64_t folded = static_cast<std::int64_t>(q_b) - src.zero_point * column_sum;
    // Every accumulator lies in ±255·Σ|q_w|: keep acc + bias inside int32 for all of them.
    const std::int64_t headroom = kActivationMax * magnitude;
    q.bias[ci] = static_cast<std::int32_t>(
        std::clamp(folded, std::int64_t{std::numeric_limits<std::int32_t>::min()} + headroom,
                   std::int64_t{std::numeric_limits<std::int32_t>::max()} - headroom));
  }
  return q;
}

void set_output(FixedLayer& q, ActivationParams dst) {
  q.dst_scale = dst.scale;
  q.dst_zero_point = dst.zero_point;
  q.act_min = std::max<std::int32_t>(0, dst.zero_point);
  q.act_max = static_cast<std::int32_t>(kActivationMax);
  q.multiplier.resize(static_cast<std::size_t>(q.outputs));
  q.exponent.resize(static_cast<std::size_t>(q.outputs));
  for (std::size_t c = 0; c < q.multiplier.size(); ++c) {
    const double m = static_cast<double>(q.src_scale) * q.weight_scale[c] / dst.scale;
    const QuantizedMultiplier qm = quantize_multiplier(std::min(m, kMaxMultiplier));
    q.multiplier[c] = qm.multiplier;
    q.exponent[c] = qm.exponent;
  }
}

}  // namespace

std::int64_t FixedModel::bytes() const {
  std::int64_t total = 0;
  for (const FixedLayer& l : layers) {
    total += static_cast<std::int64_t>(
        l.weights.size() * sizeof(std::int8_t) + l.bias.size() * sizeof(std::int32_t) +
        l.multiplier.size() * sizeof(std::int32_t) + l.exponent.size() * sizeof(std::int32_t) +
        l.logit_scale.size() * sizeof(double));
  }
  return total;
}

FixedModel quantize_fixed_model(const Mlp& model, const QuantSpec& spec,
                                const CalibrationSet& calibration) {
  check_request(model, spec, calibration);
  const int count = spec.calibration_samples > 0
                        ? std::min(calibration.count, spec.calibration_samples)
                        : calibration.count;
  const std::vector<std::vector<float>> hidden =
      calibration_hidden_outputs(model, calibration.images, count);

  FixedModel fixed;
  fixed.bits = spec.bits;
  // The input's parameters come from the normalized images themselves.
  ActivationParams src = calibrate(
      std::span<const float>(calibration.images, element_count(count, model.inputs())), spec);
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    FixedLayer q = quantize_layer(model.layers[l], spec.bits, spec.granularity, src);
    if (l + 1 < model.layers.size()) {
      src = calibrate(hidden[l], spec);
      set_output(q, src);
    } else {
      q.logit_scale.resize(static_cast<std::size_t>(q.outputs));
      for (std::size_t c = 0; c < q.logit_scale.size(); ++c) {
        q.logit_scale[c] = static_cast<double>(q.src_scale) * q.weight_scale[c];
      }
    }
    fixed.layers.push_back(std::move(q));
  }
  return fixed;
}

}  // namespace lowbit::kernels
