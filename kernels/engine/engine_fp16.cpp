#include "kernels/engine/engine_fp16.h"

#include <algorithm>
#include <stdexcept>

#include "kernels/base/half.h"
#include "kernels/engine/layer_chain.h"
#include "kernels/gemm/gemm_f32f16.h"

namespace lowbit::kernels {

namespace {

struct HalfLayer {
  int inputs = 0;
  int outputs = 0;
  std::vector<std::uint16_t> weights;  // outputs × inputs, IEEE half
  std::vector<float> bias;
};

class Fp16Engine final : public InferenceEngine {
 public:
  Fp16Engine(const Mlp& model, const F32F16Kernel& kernel) : kernel_(kernel) {
    for (const DenseLayer& layer : model.layers) {
      layers_.push_back({layer.inputs, layer.outputs, floats_to_halves(layer.weights), layer.bias});
    }
  }

  void forward(const float* src, int batch, float* logits) override {
    forward_float_layers(std::span<const HalfLayer>(layers_), src, batch, logits, scratch_,
                         [&](const HalfLayer& layer, const float* in, float* out) {
                           GemmF32F16Args args;
                           args.batch = batch;
                           args.n = layer.outputs;
                           args.k = layer.inputs;
                           args.src = in;
                           args.ld_src = layer.inputs;
                           args.weights = layer.weights.data();
                           args.ld_weights = layer.inputs;
                           args.dst = out;
                           args.ld_dst = layer.outputs;
                           kernel_.run(args);
                         });
  }

  int inputs() const override { return layers_.front().inputs; }
  int outputs() const override { return layers_.back().outputs; }
  std::string kernel() const override { return std::string("lowbit/") + kernel_.name; }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const bool last = l + 1 == layers_.size();
      out.push_back(
          {kernel(), last ? "f16 weights, f32 fma +bias" : "f16 weights, f32 fma +bias+relu"});
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = 0;
    for (const HalfLayer& layer : layers_) {
      bytes += static_cast<std::int64_t>(layer.weights.size() * sizeof(std::uint16_t) +
                                         layer.bias.size() * sizeof(float));
    }
    return bytes;
  }

 private:
  const F32F16Kernel& kernel_;
  std::vector<HalfLayer> layers_;
  PingPong<float> scratch_;
};

}  // namespace

std::unique_ptr<InferenceEngine> make_fp16_engine(const Mlp& model, const std::string& path,
                                                  const std::string& isa_cap) {
  if (model.layers.empty()) throw std::invalid_argument("fp16 engine: the model has no layers");
  return std::make_unique<Fp16Engine>(model, find_f32f16_kernel(path, isa_cap));
}

Mlp round_weights_to_half(const Mlp& model) {
  Mlp rounded = model;
  for (DenseLayer& layer : rounded.layers) {
    for (float& w : layer.weights) w = half_to_float(float_to_half(w));
  }
  return rounded;
}

}  // namespace lowbit::kernels
