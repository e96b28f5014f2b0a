#include "kernels/engine/engine_onednn_bf16.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/base/bf16.h"
#include "kernels/base/library_info.h"
#include "kernels/base/sizes.h"
#include "kernels/engine/layer_chain.h"
#include "kernels/engine/onednn_common.h"

namespace lowbit::kernels {

namespace {

using dt = dnnl::memory::data_type;
using dim = dnnl::memory::dim;

std::int64_t bias_bytes(const Mlp& model) {
  std::int64_t bytes = 0;
  for (const DenseLayer& layer : model.layers) {
    bytes += static_cast<std::int64_t>(layer.bias.size() * sizeof(float));
  }
  return bytes;
}

struct Bf16Layer {
  dnnl::matmul primitive;
  dnnl::memory weights;  // bf16, in the layout the primitive chose
  dnnl::memory bias;     // f32
  std::string impl;
  std::int64_t weight_bytes = 0;
  dt dst_type = dt::f32;
  int batch = -1;
  dnnl::memory src;
  dnnl::memory dst;
  std::unordered_map<int, dnnl::memory> args;
};

class OnednnBf16Engine final : public InferenceEngine {
 public:
  OnednnBf16Engine(const Mlp& model, std::vector<Bf16Layer> layers)
      : inputs_(model.inputs()),
        outputs_(model.outputs()),
        sizes_(model.layer_sizes()),
        bias_bytes_(bias_bytes(model)),
        layers_(std::move(layers)) {}

  void forward(const float* src, int batch, float* logits) override {
    if (batch <= 0) return;
    std::size_t widest = 0;
    for (std::size_t l = 0; l + 1 < layers_.size(); ++l) {
      widest = std::max(widest, element_count(batch, sizes_[l + 1]));
    }
    const std::size_t images = element_count(batch, inputs_);
    if (input_.size() < images) input_.resize(images);
    scratch_.reserve(widest);
    for (std::size_t i = 0; i < images; ++i) input_[i] = float_to_bf16(src[i]);

    const std::uint16_t* in = input_.data();
    dnnl::stream& stream = onednn_thread_stream();
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      Bf16Layer& layer = layers_[l];
      if (layer.batch != batch) bind_batch(l, batch);
      const bool last = l + 1 == layers_.size();
      std::uint16_t* hidden = scratch_.hidden(l);
      layer.src.set_data_handle(const_cast<std::uint16_t*>(in));
      layer.dst.set_data_handle(last ? static_cast<void*>(logits) : static_cast<void*>(hidden));
      layer.primitive.execute(stream, layer.args);
      stream.wait();
      in = hidden;
    }
  }

  int inputs() const override { return inputs_; }
  int outputs() const override { return outputs_; }
  std::string kernel() const override { return layer_kernel(0); }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const bool last = l + 1 == layers_.size();
      out.push_back({layer_kernel(l), layers_[l].impl + (last ? " bf16*bf16->f32+bias"
                                                              : " bf16*bf16->bf16+bias+relu")});
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = bias_bytes_;
    for (const Bf16Layer& layer : layers_) bytes += layer.weight_bytes;
    return bytes;
  }

 private:
  std::string layer_kernel(std::size_t l) const { return "onednn/" + layers_[l].impl + "/bf16"; }

  void bind_batch(std::size_t l, int batch) {
    const dnnl::engine& engine = onednn_cpu_engine();
    Bf16Layer& layer = layers_[l];
    layer.batch = batch;
    layer.src = dnnl::memory(plain_matrix(batch, sizes_[l], dt::bf16), engine, DNNL_MEMORY_NONE);
    layer.dst =
        dnnl::memory(plain_matrix(batch, sizes_[l + 1], layer.dst_type), engine, DNNL_MEMORY_NONE);
    layer.args = {{DNNL_ARG_SRC, layer.src},
                  {DNNL_ARG_WEIGHTS, layer.weights},
                  {DNNL_ARG_BIAS, layer.bias},
                  {DNNL_ARG_DST, layer.dst}};
  }

  int inputs_;
  int outputs_;
  std::vector<int> sizes_;
  std::int64_t bias_bytes_;
  std::vector<Bf16Layer> layers_;
  std::vector<std::uint16_t> input_;
  PingPong<std::uint16_t> scratch_;
};

// The primitive descriptor of one layer, or EngineUnavailable with oneDNN's status.
dnnl::matmul::primitive_desc layer_descriptor(const DenseLayer& layer, bool last,
                                              const std::string& isa) {
  const dim k = layer.inputs;
  const dim n = layer.outputs;
  dnnl::primitive_attr attr;
  if (!last) {
    dnnl::post_ops post;
    post.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(post);
  }
  const dnnl::memory::desc src_md = plain_matrix(DNNL_RUNTIME_DIM_VAL, k, dt::bf16);
  const dnnl::memory::desc weights_md({k, n}, dt::bf16, dnnl::memory::format_tag::any);
  const dnnl::memory::desc bias_md = plain_matrix(1, n, dt::f32);
  const dnnl::memory::desc dst_md =
      plain_matrix(DNNL_RUNTIME_DIM_VAL, n, last ? dt::f32 : dt::bf16);
  try {
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md),
                                        attr, onednn_cpu_engine());
  } catch (const dnnl::error& e) {
    throw EngineUnavailable(fmt::format(
        "bf16: oneDNN {} reports the bf16 matmul {} on effective ISA {} (bf16 needs avx512_core "
        "or above)",
        onednn_version(), onednn_status_name(e.status), isa));
  }
}

class Bf16ReferenceEngine final : public InferenceEngine {
 public:
  explicit Bf16ReferenceEngine(const Mlp& model) : model_(model) {
    for (DenseLayer& layer : model_.layers) {
      for (float& w : layer.weights) w = round_to_bf16(w);
      widest_ = std::max(widest_, layer.outputs);
    }
  }

  void forward(const float* src, int batch, float* logits) override {
    if (batch <= 0) return;
    const std::size_t images = element_count(batch, model_.inputs());
    const std::size_t widest = element_count(batch, widest_);
    if (input_.size() < images) input_.resize(images);
    scratch_.reserve(widest);
    for (std::size_t i = 0; i < images; ++i) input_[i] = round_to_bf16(src[i]);
    const float* in = input_.data();
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
      const DenseLayer& layer = model_.layers[l];
      const bool last = l + 1 == model_.layers.size();
      float* out = last ? logits : scratch_.hidden(l);
      for (int m = 0; m < batch; ++m) {
        const float* x = in + element_count(m, layer.inputs);
        for (int n = 0; n < layer.outputs; ++n) {
          const float* w = layer.weights.data() + element_count(n, layer.inputs);
          float acc = 0.0f;
          for (int k = 0; k < layer.inputs; ++k) acc += x[k] * w[k];
          const float y = acc + layer.bias[static_cast<std::size_t>(n)];
          out[element_count(m, layer.outputs) + static_cast<std::size_t>(n)] =
              last ? y : round_to_bf16(std::max(y, 0.0f));
        }
      }
      in = out;
    }
  }

  int inputs() const override { return model_.inputs(); }
  int outputs() const override { return model_.outputs(); }
  std::string kernel() const override { return "ref/bf16"; }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
      const bool last = l + 1 == model_.layers.size();
      out.push_back(
          {"ref/bf16", last ? "loops bf16*bf16->f32+bias" : "loops bf16*bf16->bf16+bias+relu"});
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = bias_bytes(model_);
    for (const DenseLayer& layer : model_.layers) {
      bytes += static_cast<std::int64_t>(layer.weights.size() * sizeof(std::uint16_t));
    }
    return bytes;
  }

 private:
  Mlp model_;  // weights rounded to bf16 values, kept as float
  int widest_ = 0;
  std::vector<float> input_;
  PingPong<float> scratch_;
};

}  // namespace

std::unique_ptr<InferenceEngine> make_onednn_bf16_engine(const Mlp& model) {
  const std::string isa = onednn_effective_isa();
  std::vector<dnnl::matmul::primitive_desc> descriptors;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    descriptors.push_back(layer_descriptor(model.layers[l], l + 1 == model.layers.size(), isa));
  }
  if (!onednn_isa_has_avx512_core(isa)) {
    // oneDNN found some implementation (a reference one, at best): not a bf16 kernel worth a
    // result, and not what the label would claim.
    throw EngineUnavailable(fmt::format(
        "bf16: effective ISA {} is below avx512_core, which bf16 needs; oneDNN offered \"{}\"", isa,
        onednn_impl_name(descriptors.front())));
  }

  const dnnl::engine& engine = onednn_cpu_engine();
  std::vector<Bf16Layer> layers;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& dense = model.layers[l];
    const dnnl::matmul::primitive_desc& pd = descriptors[l];
    Bf16Layer layer;
    layer.primitive = dnnl::matmul(pd);
    layer.impl = onednn_impl_name(pd);
    layer.dst_type = l + 1 == model.layers.size() ? dt::f32 : dt::bf16;
    // The reorder converts f32 → bf16 with round to nearest even, as float_to_bf16.
    const dnnl::memory user_weights(weights_out_in(dense.inputs, dense.outputs, dt::f32), engine,
                                    const_cast<float*>(dense.weights.data()));
    layer.weights = reorder_to(user_weights, pd.weights_desc());
    layer.weight_bytes = static_cast<std::int64_t>(pd.weights_desc().get_size());
    layer.bias = dnnl::memory(plain_matrix(1, dense.outputs, dt::f32), engine);
    std::copy(dense.bias.begin(), dense.bias.end(),
              static_cast<float*>(layer.bias.get_data_handle()));
    layers.push_back(std::move(layer));
  }
  return std::make_unique<OnednnBf16Engine>(model, std::move(layers));
}

std::unique_ptr<InferenceEngine> make_bf16_reference_engine(const Mlp& model) {
  return std::make_unique<Bf16ReferenceEngine>(model);
}

}  // namespace lowbit::kernels
