#include "kernels/train/backprop.h"

#include <algorithm>
#include <cstring>

#include "kernels/base/epilogue.h"
#include "kernels/base/sizes.h"

namespace lowbit::kernels {

Gradients Gradients::zeros_like(const Mlp& model) {
  Gradients g;
  for (const DenseLayer& layer : model.layers) {
    g.weights.emplace_back(layer.weights.size(), 0.0f);
    g.bias.emplace_back(layer.bias.size(), 0.0f);
  }
  return g;
}

const float* TrainingWorkspace::forward(const Mlp& model, const float* src, int batch,
                                        GemmFn gemm) {
  src_ = src;
  batch_ = batch;
  activations_.resize(model.layers.size());
  const float* in = src;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& layer = model.layers[l];
    std::vector<float>& out = activations_[l];
    if (out.size() < element_count(batch, layer.outputs))
      out.resize(element_count(batch, layer.outputs));
    GemmArgs args;
    args.shape = {batch, layer.outputs, layer.inputs};
    args.trans_b = Transpose::kYes;
    args.a = in;
    args.lda = layer.inputs;
    args.b = layer.weights.data();
    args.ldb = layer.inputs;
    args.c = out.data();
    args.ldc = layer.outputs;
    gemm(args);
    add_bias_activation(out.data(), batch, layer.outputs, layer.bias.data(),
                        l + 1 != model.layers.size());
    in = out.data();
  }
  return activations_.back().data();
}

void TrainingWorkspace::backward(const Mlp& model, const float* dlogits, Gradients& grads,
                                 GemmFn gemm) {
  const int batch = batch_;
  const DenseLayer& last = model.layers.back();
  delta_.assign(dlogits, dlogits + element_count(batch, last.outputs));
  for (std::size_t l = model.layers.size(); l-- > 0;) {
    const DenseLayer& layer = model.layers[l];
    const float* layer_in = l == 0 ? src_ : activations_[l - 1].data();

    // dW[out][in] = Σ_b delta[b][out] · x[b][in]  (deltaᵀ · x)
    GemmArgs dw;
    dw.shape = {layer.outputs, layer.inputs, batch};
    dw.trans_a = Transpose::kYes;
    dw.a = delta_.data();
    dw.lda = layer.outputs;
    dw.b = layer_in;
    dw.ldb = layer.inputs;
    dw.c = grads.weights[l].data();
    dw.ldc = layer.inputs;
    gemm(dw);

    std::vector<float>& db = grads.bias[l];
    std::fill(db.begin(), db.end(), 0.0f);
    for (int b = 0; b < batch; ++b) {
      const float* row = delta_.data() + element_count(b, layer.outputs);
      for (int o = 0; o < layer.outputs; ++o) db[static_cast<std::size_t>(o)] += row[o];
    }

    if (l == 0) break;  // no gradient needed for the input images
    // dx[b][in] = Σ_out delta[b][out] · W[out][in]  (delta · W), then through ReLU.
    delta_prev_.resize(element_count(batch, layer.inputs));
    GemmArgs dx;
    dx.shape = {batch, layer.inputs, layer.outputs};
    dx.a = delta_.data();
    dx.lda = layer.outputs;
    dx.b = layer.weights.data();
    dx.ldb = layer.inputs;
    dx.c = delta_prev_.data();
    dx.ldc = layer.inputs;
    gemm(dx);
    const float* activation = activations_[l - 1].data();
    const std::size_t n = element_count(batch, layer.inputs);
    for (std::size_t i = 0; i < n; ++i) {
      if (activation[i] <= 0.0f) delta_prev_[i] = 0.0f;
    }
    std::swap(delta_, delta_prev_);
  }
}

}  // namespace lowbit::kernels
