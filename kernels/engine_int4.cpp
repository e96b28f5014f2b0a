#include "kernels/engine_int4.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "kernels/block_quant.h"
#include "kernels/gemm_lowbit.h"
#include "kernels/q8_blocks.h"

namespace lowbit::kernels {

namespace {

struct PackedLayer {
  BlockQuantMatrix weights;
  std::vector<float> bias;
};

class Int4Engine final : public InferenceEngine {
 public:
  Int4Engine(const Mlp& model, const BlockQuantSpec& spec, const LowbitKernel& kernel)
      : spec_(spec), kernel_(kernel) {
    for (const DenseLayer& layer : model.layers) {
      layers_.push_back({quantize_block_matrix(layer.weights, layer.outputs, layer.inputs, spec),
                         layer.bias});
      widest_ = std::max(widest_, layer.outputs);
    }
  }

  void forward(const float* src, int batch, float* logits) override {
    const std::size_t need = static_cast<std::size_t>(batch) * static_cast<std::size_t>(widest_);
    if (ping_.size() < need) {
      ping_.resize(need);
      pong_.resize(need);
    }
    const float* in = src;
    const std::size_t last = layers_.size() - 1;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const PackedLayer& layer = layers_[l];
      float* out = l == last ? logits : (l % 2 == 0 ? ping_.data() : pong_.data());
      quantize_q8_blocks(in, batch, layer.weights.cols, layer.weights.cols, spec_.group_size,
                         activations_);
      GemmLowbitArgs args;
      args.weights = view_of(layer.weights);
      args.src = view_of(activations_);
      args.src.m = batch;
      args.dst = out;
      args.ld_dst = layer.weights.rows;
      kernel_.run(args);
      add_bias_activation(out, batch, layer.weights.rows, layer.bias.data(), l != last);
      in = out;
    }
  }

  int inputs() const override { return layers_.front().weights.cols; }
  int outputs() const override { return layers_.back().weights.rows; }

  std::string kernel() const override {
    return "lowbit/q" + std::to_string(spec_.bits) + "_g" + std::to_string(spec_.group_size) +
           "_" + kernel_.path;
  }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    const std::string impl = std::string(kernel_.name) + " " + to_string(spec_.scheme) +
                             " fp16 group scales, int8 activation blocks, fp32 +bias";
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      out.push_back({kernel(), l + 1 == layers_.size() ? impl : impl + "+relu"});
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = 0;
    for (const PackedLayer& layer : layers_) {
      bytes += layer.weights.bytes() + static_cast<std::int64_t>(layer.bias.size() * sizeof(float));
    }
    return bytes;
  }

 private:
  BlockQuantSpec spec_;
  const LowbitKernel& kernel_;
  std::vector<PackedLayer> layers_;
  int widest_ = 0;
  Q8Blocks activations_;
  std::vector<float> ping_;
  std::vector<float> pong_;
};

}  // namespace

std::unique_ptr<InferenceEngine> make_int4_engine(const Mlp& model, int bits, int group_size,
                                                  QuantScheme scheme, const std::string& path,
                                                  const std::string& isa_cap) {
  BlockQuantSpec spec;
  spec.bits = bits;
  spec.group_size = group_size;
  spec.scheme = scheme;
  spec.search = ScaleSearch::kSearch;
  return make_int4_engine(model, spec, path, isa_cap);
}

std::unique_ptr<InferenceEngine> make_int4_engine(const Mlp& model, const BlockQuantSpec& spec,
                                                  const std::string& path,
                                                  const std::string& isa_cap) {
  if (model.layers.empty()) throw std::invalid_argument("int4 engine: the model has no layers");
  check_block_quant_spec(spec);
  return std::make_unique<Int4Engine>(model, spec, find_lowbit_kernel(path, isa_cap));
}

}  // namespace lowbit::kernels
