#include "kernels/engine/engine_mixed.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "kernels/base/precision_modes.h"

namespace lowbit::kernels {

std::string to_string(const LayerPrecision& p) {
  if (p.bits == 32) return p.precision;
  return fmt::format("{}:{}", p.precision, p.bits);
}

LayerPrecision parse_layer_precision(const std::string& text, int default_bits) {
  const std::size_t colon = text.find(':');
  LayerPrecision p;
  p.precision = text.substr(0, colon);
  const bool integer = p.precision == "int8" || p.precision == "int4";
  if (!integer && !is_float_precision(p.precision)) {
    throw std::invalid_argument(fmt::format(
        "layer precision \"{}\": each layer is fp32, bf16, fp16, int8[:B] or int4[:B]", text));
  }
  if (!integer) {
    if (colon != std::string::npos) {
      throw std::invalid_argument(
          fmt::format("layer precision \"{}\": float layers take no bits", text));
    }
    return p;
  }
  p.bits = p.precision == "int8" ? 8 : default_bits;
  if (colon != std::string::npos) {
    const std::string digits = text.substr(colon + 1);
    if (digits.size() != 1 || digits[0] < '2' || digits[0] > '8') {
      throw std::invalid_argument(fmt::format("layer precision \"{}\": bits must be 2..8", text));
    }
    p.bits = digits[0] - '0';
  }
  if (std::string reason = unsupported_combination(p.precision, p.bits); !reason.empty()) {
    throw std::invalid_argument(fmt::format("layer precision \"{}\": {}", text, reason));
  }
  return p;
}

MixedLayers::MixedLayers(const Mlp& model, const EngineRequest& base,
                         const CalibrationSet* calibration)
    : model_(model), base_(base) {
  calibration_.resize(model.layers.size());
  if (calibration != nullptr && calibration->count > 0) {
    layer_inputs_ = calibration_hidden_outputs(model, calibration->images, calibration->count);
    calibration_[0] = *calibration;
    for (std::size_t l = 1; l < model.layers.size(); ++l) {
      calibration_[l] = {layer_inputs_[l - 1].data(), calibration->count, model.layers[l].inputs};
    }
  }
}

std::shared_ptr<InferenceEngine> MixedLayers::engine(int layer, const LayerPrecision& p,
                                                     std::string* reason) {
  for (const Built& b : built_) {
    if (b.layer == layer && b.precision == p) {
      if (reason != nullptr) *reason = b.reason;
      return b.engine;
    }
  }
  // The layer alone: the last layer of an Mlp has no activation, so the engine computes
  // W·x + b and the mixed engine applies the ReLU.
  Mlp one;
  one.normalization = model_.normalization;
  one.layers.push_back(model_.layers[static_cast<std::size_t>(layer)]);
  EngineRequest r = base_;
  r.precision = p.precision;
  r.bits = p.bits;
  // int8 computes with symmetric weights only; the config's scheme is for the int4 layers.
  if (p.precision == "int8") r.quant.scheme = QuantScheme::kSymmetric;
  const CalibrationSet& c = calibration_[static_cast<std::size_t>(layer)];
  r.calibration = c.count > 0 ? &c : nullptr;
  EngineChoice choice = select_engine(one, r);
  Built b{layer, p, std::shared_ptr<InferenceEngine>(std::move(choice.engine)), choice.skip_reason};
  if (b.engine == nullptr && b.reason.empty()) b.reason = "no engine";
  if (reason != nullptr) *reason = b.reason;
  built_.push_back(b);
  return b.engine;
}

namespace {

class MixedEngine final : public InferenceEngine {
 public:
  MixedEngine(std::vector<std::shared_ptr<InferenceEngine>> layers,
              std::vector<LayerPrecision> policy)
      : layers_(std::move(layers)), policy_(std::move(policy)), buffers_(layers_.size()) {}

  void forward(const float* src, int batch, float* logits) override {
    const float* in = src;
    const std::size_t last = layers_.size() - 1;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      InferenceEngine& engine = *layers_[l];
      if (l == last) {
        engine.forward(in, batch, logits);
        break;
      }
      std::vector<float>& out = buffers_[l];
      const std::size_t size =
          static_cast<std::size_t>(batch) * static_cast<std::size_t>(engine.outputs());
      if (out.size() < size) out.resize(size);
      engine.forward(in, batch, out.data());
      for (std::size_t i = 0; i < size; ++i) out[i] = std::max(out[i], 0.0f);
      in = out.data();
    }
  }

  int inputs() const override { return layers_.front()->inputs(); }
  int outputs() const override { return layers_.back()->outputs(); }

  std::string kernel() const override {
    std::vector<std::string> parts;
    for (const auto& layer : layers_) parts.push_back(layer->kernel());
    return fmt::format("mixed[{}]", fmt::join(parts, ", "));
  }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      LayerKernel k = layers_[l]->layers().front();
      k.impl =
          to_string(policy_[l]) + ": " + k.impl + (l + 1 < layers_.size() ? " +relu (fp32)" : "");
      out.push_back(std::move(k));
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = 0;
    for (const auto& layer : layers_) bytes += layer->model_bytes();
    return bytes;
  }

  std::string weights() const override {
    for (const auto& layer : layers_) {
      if (layer->weights() != "real") return layer->weights();
    }
    return "real";
  }

 private:
  std::vector<std::shared_ptr<InferenceEngine>> layers_;
  std::vector<LayerPrecision> policy_;
  std::vector<std::vector<float>> buffers_;
};

}  // namespace

std::unique_ptr<InferenceEngine> make_mixed_engine(
    std::vector<std::shared_ptr<InferenceEngine>> layers, std::vector<LayerPrecision> policy) {
  if (layers.empty() || layers.size() != policy.size()) {
    throw std::invalid_argument("mixed engine: one engine and one precision per layer");
  }
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (layers[l] == nullptr) throw std::invalid_argument("mixed engine: a layer has no engine");
    if (l > 0 && layers[l]->inputs() != layers[l - 1]->outputs()) {
      throw std::invalid_argument(
          fmt::format("mixed engine: layer {} takes {} inputs, layer {} gives {}", l,
                      layers[l]->inputs(), l - 1, layers[l - 1]->outputs()));
    }
  }
  return std::make_unique<MixedEngine>(std::move(layers), std::move(policy));
}

}  // namespace lowbit::kernels
