#include "kernels/engine/simulated_weights.h"

#include <utility>

namespace lowbit::kernels {

namespace {

class SimulatedWeightsEngine final : public InferenceEngine {
 public:
  explicit SimulatedWeightsEngine(std::unique_ptr<InferenceEngine> inner)
      : inner_(std::move(inner)) {}

  void forward(const float* src, int batch, float* logits) override {
    inner_->forward(src, batch, logits);
  }
  int inputs() const override { return inner_->inputs(); }
  int outputs() const override { return inner_->outputs(); }
  std::string kernel() const override { return inner_->kernel(); }
  std::vector<LayerKernel> layers() const override { return inner_->layers(); }
  std::int64_t model_bytes() const override { return inner_->model_bytes(); }
  std::string weights() const override { return "simulated"; }

 private:
  std::unique_ptr<InferenceEngine> inner_;
};

}  // namespace

Mlp fake_quantize_model(const Mlp& model, const QuantSpec& spec) {
  Mlp out = model;
  for (DenseLayer& layer : out.layers) {
    const std::vector<float> quantized = fake_quantize_weights(
        layer.weights, layer.outputs, layer.inputs, spec.bits, spec.scheme, spec.granularity);
    layer.weights.assign(quantized.begin(), quantized.end());
  }
  return out;
}

std::unique_ptr<InferenceEngine> mark_simulated(std::unique_ptr<InferenceEngine> engine) {
  return std::make_unique<SimulatedWeightsEngine>(std::move(engine));
}

}  // namespace lowbit::kernels
