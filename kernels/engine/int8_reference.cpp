#include "kernels/engine/int8_reference.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>

#include "kernels/base/library_info.h"
#include "kernels/base/sizes.h"
#include "kernels/engine/onednn_common.h"
#include "kernels/gemm/gemm.h"

namespace lowbit::kernels {

namespace {

constexpr int kMinBits = 2;
constexpr int kMaxBits = 8;
constexpr int kReducedActivationBits = 7;
constexpr int kFullActivationBits = 8;
// The widest weights that keep a vpmaddubsw pair exact with 8-bit activations:
// 2·255·63 = 32130 ≤ 32767 (INT16_MAX).
constexpr int kMaxBitsForFullActivations = 7;

void check_request(const Mlp& model, const QuantSpec& spec, const CalibrationSet& calibration) {
  if (spec.bits < kMinBits || spec.bits > kMaxBits) {
    throw std::invalid_argument(
        fmt::format("int8 needs weight bits in {}..{} (an s8 container), got {}", kMinBits,
                    kMaxBits, spec.bits));
  }
  if (model.layers.empty()) throw std::invalid_argument("int8: the model has no layers");
  if (!spec.static_activations) return;
  if (calibration.images == nullptr || calibration.count <= 0) {
    throw std::invalid_argument(
        "int8 with static activations needs a calibration set, and it is empty");
  }
  if (calibration.features != model.inputs()) {
    throw std::invalid_argument(
        fmt::format("int8: calibration images have {} features, the model takes {}",
                    calibration.features, model.inputs()));
  }
}

Int8Layer quantize_layer(const DenseLayer& dense, int bits, QuantGranularity granularity,
                         const Int8RangeChoice& range) {
  Int8Layer layer;
  layer.inputs = dense.inputs;
  layer.outputs = dense.outputs;
  const QuantParams wp = choose_weight_params(dense.weights, dense.outputs, dense.inputs, bits,
                                              QuantScheme::kSymmetric, granularity);
  layer.weights.resize(dense.weights.size());
  quantize_weights(dense.weights, dense.outputs, dense.inputs, wp, layer.weights);
  // Per tensor is per channel with one scale repeated: the epilogue stays per column.
  layer.weight_scale =
      wp.per_channel()
          ? wp.scale
          : std::vector<float>(static_cast<std::size_t>(dense.outputs), wp.scale.front());
  layer.column_sum.assign(static_cast<std::size_t>(dense.outputs), 0);
  for (int n = 0; n < dense.outputs; ++n) {
    std::int32_t sum = 0;
    for (int k = 0; k < dense.inputs; ++k) sum += layer.weights[element_count(n, dense.inputs) + k];
    layer.column_sum[static_cast<std::size_t>(n)] = sum;
  }
  layer.bias = dense.bias;

  // Every product is at most qmax·max|q_w|: keep K of them inside int32.
  const std::int64_t largest_product = static_cast<std::int64_t>(range.activations.qmax) *
                                       weight_range(bits, QuantScheme::kSymmetric).qmax;
  if (largest_product * dense.inputs > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument(fmt::format(
        "int8: a layer with {} inputs could overflow int32 accumulators", dense.inputs));
  }
  return layer;
}

Int8ActivationParams calibrate(std::span<const float> samples, const QuantSpec& spec,
                               const Int8RangeChoice& range) {
  const QuantParams p =
      calibrate_activation(samples, range.activation_bits, /*is_unsigned=*/true,
                           QuantScheme::kAsymmetric, spec.calibration, spec.percentile);
  return {p.scale.front(), p.zero_point.front()};
}

}  // namespace

Int8RangeChoice choose_int8_activation_range(std::string_view isa, int weight_bits,
                                             Int8ActivationRange requested) {
  const QuantRange full = activation_range(kFullActivationBits, /*is_unsigned=*/true);
  const QuantRange reduced = activation_range(kReducedActivationBits, /*is_unsigned=*/true);
  switch (requested) {
    case Int8ActivationRange::kFull:
      return {full, kFullActivationBits, fmt::format("act8: forced on {}", isa)};
    case Int8ActivationRange::kReduced:
      return {reduced, kReducedActivationBits, fmt::format("act7: forced on {}", isa)};
    case Int8ActivationRange::kAuto:
      break;
  }
  if (onednn_isa_has_vnni(isa)) {
    return {full, kFullActivationBits, fmt::format("act8: {} has VNNI", isa)};
  }
  if (weight_bits <= kMaxBitsForFullActivations) {
    return {full, kFullActivationBits,
            fmt::format("act8: {} has no VNNI, |w|<=63 keeps vpmaddubsw exact", isa)};
  }
  return {reduced, kReducedActivationBits,
          fmt::format("act7: {} has no VNNI (reduced range)", isa)};
}

Int8Model quantize_int8_model(const Mlp& model, const QuantSpec& spec,
                              const CalibrationSet& calibration, const Int8Options& options) {
  check_request(model, spec, calibration);
  Int8Model q;
  q.bits = spec.bits;
  q.static_activations = spec.static_activations;
  q.fuse_requantize = spec.static_activations && options.fuse_requantize;
  q.range = choose_int8_activation_range(onednn_effective_isa(), spec.bits, options.range);
  for (const DenseLayer& dense : model.layers)
    q.layers.push_back(quantize_layer(dense, spec.bits, spec.granularity, q.range));
  if (!spec.static_activations) return q;

  const int count = spec.calibration_samples > 0
                        ? std::min(calibration.count, spec.calibration_samples)
                        : calibration.count;
  const std::vector<std::vector<float>> hidden =
      calibration_hidden_outputs(model, calibration.images, count);
  q.layers[0].src =
      calibrate(std::span<const float>(calibration.images, element_count(count, model.inputs())),
                spec, q.range);
  for (std::size_t l = 1; l < q.layers.size(); ++l) {
    q.layers[l].src = calibrate(hidden[l - 1], spec, q.range);
  }
  return q;
}

void compute_int8_epilogue(const Int8Layer& layer, Int8ActivationParams src,
                           const Int8ActivationParams* fused_dst, Int8Epilogue& epilogue) {
  const auto n = static_cast<std::size_t>(layer.outputs);
  epilogue.acc_bias.resize(n);
  epilogue.scale.resize(n);
  for (std::size_t c = 0; c < n; ++c) {
    const double dequant = static_cast<double>(src.scale) * layer.weight_scale[c];  // S_x·S_w[c]
    epilogue.acc_bias[c] =
        static_cast<float>(static_cast<double>(layer.bias[c]) / dequant -
                           static_cast<double>(src.zero_point) * layer.column_sum[c]);
    epilogue.scale[c] = static_cast<float>(
        fused_dst == nullptr ? dequant : dequant / static_cast<double>(fused_dst->scale));
  }
}

namespace {

// restrict: a uint8_t store may alias anything, and without the promise GCC versions the loop.
// noinline: inlined into a caller with lo = 0 (ReLU), GCC 12 turns the clip into a branch and
// keeps only a scalar loop, which measured 5 ns per value instead of well under 1.
[[gnu::noinline]] void quantize_loop(const float* __restrict src, std::size_t count, float scale,
                                     float lo, float hi, std::int32_t zero_point,
                                     std::uint8_t* __restrict dst) {
  for (std::size_t i = 0; i < count; ++i) {
    dst[i] = activation_code(src[i] / scale, lo, hi, zero_point);
  }
}

}  // namespace

void quantize_activations(std::span<const float> src, Int8ActivationParams params, QuantRange range,
                          bool relu, std::uint8_t* dst) {
  const auto lo = static_cast<float>(relu ? 0 : range.qmin - params.zero_point);
  const auto hi = static_cast<float>(range.qmax - params.zero_point);
  quantize_loop(src.data(), src.size(), params.scale, lo, hi, params.zero_point, dst);
}

Int8ActivationParams dynamic_activation_params(std::span<const float> values, QuantRange range,
                                               bool relu) {
  // Min and max in independent lanes: GCC does not vectorize a float min/max reduction on its
  // own (it may not reorder them without -ffast-math), but it does vectorize these lanes. The
  // result is the same in any order. min and max skip NaN, so NaN is tracked apart; ±inf shows
  // in lo or hi. The range always includes 0.
  constexpr std::size_t kLanes = 8;
  std::array<float, kLanes> lo{};
  std::array<float, kLanes> hi{};
  std::array<int, kLanes> nan{};
  const std::size_t count = values.size();
  const float* v = values.data();
  std::size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      nan[j] |= v[i + j] != v[i + j] ? 1 : 0;
      lo[j] = std::min(lo[j], v[i + j]);
      hi[j] = std::max(hi[j], v[i + j]);
    }
  }
  for (; i < count; ++i) {
    nan[0] |= v[i] != v[i] ? 1 : 0;
    lo[0] = std::min(lo[0], v[i]);
    hi[0] = std::max(hi[0], v[i]);
  }
  float low = 0.0f;
  float high = 0.0f;
  bool any_nan = false;
  for (std::size_t j = 0; j < kLanes; ++j) {
    low = std::min(low, lo[j]);
    high = std::max(high, hi[j]);
    any_nan = any_nan || nan[j] != 0;
  }
  if (any_nan || !std::isfinite(low) || !std::isfinite(high)) {
    throw std::invalid_argument("int8: dynamic activation range of non-finite values");
  }
  if (relu) low = 0.0f;
  Int8ActivationParams params;
  params_from_range(low, high, QuantScheme::kAsymmetric, range, params.scale, params.zero_point);
  return params;
}

void int8_layer_ref(const Int8Layer& layer, const Int8LayerCall& call) {
  const int k_dim = layer.inputs;
  const int n_dim = layer.outputs;
  for (int m = 0; m < call.batch; ++m) {
    const std::uint8_t* x = call.src + element_count(m, k_dim);
    for (int n = 0; n < n_dim; ++n) {
      const std::int8_t* w = layer.weights.data() + element_count(n, k_dim);
      std::int32_t acc = 0;
      for (int k = 0; k < k_dim; ++k) {
        acc += static_cast<std::int32_t>(x[k]) * static_cast<std::int32_t>(w[k]);
      }
      int8_store(call, element_count(m, n_dim) + static_cast<std::size_t>(n),
                 static_cast<std::size_t>(n), acc);
    }
  }
}

Int8Engine::Int8Engine(Int8Model model)
    : model_(std::move(model)),
      epilogues_(model_.layers.size()),
      src_params_(model_.layers.size()),
      codes_(model_.layers.size()) {
  if (!model_.static_activations) return;
  for (std::size_t l = 0; l < model_.layers.size(); ++l) {
    const Int8ActivationParams* dst = model_.fused(l) ? &model_.layers[l + 1].src : nullptr;
    compute_int8_epilogue(model_.layers[l], model_.layers[l].src, dst, epilogues_[l]);
    src_params_[l] = model_.layers[l].src;
  }
}

void Int8Engine::forward(const float* src, int batch, float* logits) {
  if (batch < 0) throw std::invalid_argument(fmt::format("int8: batch {} < 0", batch));
  last_batch_ = batch;
  if (batch == 0) return;
  const std::size_t layer_count = model_.layers.size();
  std::size_t widest_unfused = 0;
  for (std::size_t l = 0; l < layer_count; ++l) {
    const Int8Layer& layer = model_.layers[l];
    const std::size_t need = element_count(batch, layer.inputs);
    if (codes_[l].size() < need) codes_[l].resize(need);
    if (l + 1 < layer_count && !model_.fused(l)) {
      widest_unfused = std::max(widest_unfused, element_count(batch, layer.outputs));
    }
  }
  if (hidden_f32_.size() < widest_unfused) hidden_f32_.resize(widest_unfused);

  const QuantRange range = model_.range.activations;
  const std::span<const float> images(src, element_count(batch, model_.inputs()));
  Int8ActivationParams params = model_.static_activations
                                    ? model_.layers[0].src
                                    : dynamic_activation_params(images, range, /*relu=*/false);
  quantize_activations(images, params, range, /*relu=*/false, codes_[0].data());

  for (std::size_t l = 0; l < layer_count; ++l) {
    const Int8Layer& layer = model_.layers[l];
    src_params_[l] = params;
    if (!model_.static_activations) compute_int8_epilogue(layer, params, nullptr, epilogues_[l]);
    Int8LayerCall call;
    call.layer = l;
    call.batch = batch;
    call.src = codes_[l].data();
    call.epilogue = &epilogues_[l];
    if (l + 1 == layer_count) {
      call.dst_f32 = logits;
      run_layer(call);
      break;
    }
    if (model_.fused(l)) {
      params = model_.layers[l + 1].src;
      call.dst_u8 = codes_[l + 1].data();
      call.clip_hi = static_cast<float>(range.qmax - params.zero_point);
      call.dst_zero_point = params.zero_point;
      run_layer(call);
      continue;
    }
    call.dst_f32 = hidden_f32_.data();
    run_layer(call);
    const std::span<const float> hidden(hidden_f32_.data(), element_count(batch, layer.outputs));
    params = model_.static_activations ? model_.layers[l + 1].src
                                       : dynamic_activation_params(hidden, range, /*relu=*/true);
    quantize_activations(hidden, params, range, /*relu=*/true, codes_[l + 1].data());
  }
}

std::span<const std::uint8_t> Int8Engine::src_codes(std::size_t layer) const {
  return {codes_[layer].data(), element_count(last_batch_, model_.layers[layer].inputs)};
}

std::string Int8Engine::kernel() const {
  // One name when every layer runs the same kernel (the usual case), else each distinct one.
  std::vector<std::string> names;
  for (std::size_t l = 0; l < model_.layers.size(); ++l) {
    const std::string name = layer_kernel(l);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::string summary = names.front();
  for (std::size_t i = 1; i < names.size(); ++i) summary += "+" + names[i];
  return summary;
}

std::vector<LayerKernel> Int8Engine::layers() const {
  std::vector<LayerKernel> out;
  for (std::size_t l = 0; l < model_.layers.size(); ++l) {
    out.push_back({layer_kernel(l), layer_impl(l) + " " + describe_layer(l)});
  }
  return out;
}

std::int64_t Int8Engine::model_bytes() const {
  std::int64_t bytes = 0;
  for (const Int8Layer& layer : model_.layers) {
    const auto n = static_cast<std::int64_t>(layer.outputs);
    bytes += static_cast<std::int64_t>(layer.weights.size());
    // Static: the epilogue's acc_bias and scale. Dynamic: what each batch's epilogue is
    // computed from: the bias, S_w and Σ q_w.
    bytes += model_.static_activations
                 ? n * static_cast<std::int64_t>(2 * sizeof(float))
                 : n * static_cast<std::int64_t>(2 * sizeof(float) + sizeof(std::int32_t));
  }
  return bytes;
}

std::string Int8Engine::describe_layer(std::size_t l) const {
  const QuantRange w = weight_range(model_.bits, QuantScheme::kSymmetric);
  const bool last = l + 1 == model_.layers.size();
  const char* dst = last ? "f32" : (model_.fused(l) ? "u8+clip(fused)" : "f32+relu+requant");
  return fmt::format("u8[0,{}]*s8[{},{}]->{} {}; {}", model_.range.activations.qmax, w.qmin, w.qmax,
                     dst, model_.static_activations ? "static" : "dynamic", model_.range.reason);
}

namespace {

class Int8ReferenceEngine final : public Int8Engine {
 public:
  using Int8Engine::Int8Engine;

 protected:
  void run_layer(const Int8LayerCall& call) override {
    int8_layer_ref(model().layers[call.layer], call);
  }
  std::string layer_kernel(std::size_t) const override { return "ref/int8"; }
  std::string layer_impl(std::size_t) const override { return "loops"; }
};

}  // namespace

std::unique_ptr<InferenceEngine> make_int8_reference_engine(const Mlp& model, const QuantSpec& spec,
                                                            const CalibrationSet& calibration,
                                                            const Int8Options& options) {
  return std::make_unique<Int8ReferenceEngine>(
      quantize_int8_model(model, spec, calibration, options));
}

}  // namespace lowbit::kernels
