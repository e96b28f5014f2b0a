#include "kernels/engine_fp32.h"

#include <fmt/format.h>

#include <algorithm>

#include "kernels/gemm.h"
#include "kernels/library_info.h"

namespace lowbit::kernels {

void add_bias_activation(float* y, int batch, int outputs, const float* bias, bool relu) {
  for (int b = 0; b < batch; ++b) {
    float* row = y + static_cast<std::size_t>(b) * static_cast<std::size_t>(outputs);
    if (relu) {
      for (int o = 0; o < outputs; ++o) row[o] = std::max(row[o] + bias[o], 0.0f);
    } else {
      for (int o = 0; o < outputs; ++o) row[o] += bias[o];
    }
  }
}

namespace {

// Both fp32 paths share the layer loop and differ only in the GEMM they call.
class Fp32Engine final : public InferenceEngine {
 public:
  Fp32Engine(const Mlp& model, GemmFn gemm, std::string kernel_name)
      : model_(model), gemm_(gemm), kernel_name_(std::move(kernel_name)) {
    for (const DenseLayer& layer : model_.layers) widest_ = std::max(widest_, layer.outputs);
  }

  void forward(const float* src, int batch, float* logits) override {
    const std::size_t need = static_cast<std::size_t>(batch) * static_cast<std::size_t>(widest_);
    if (ping_.size() < need) {
      ping_.resize(need);
      pong_.resize(need);
    }
    const float* in = src;
    const std::size_t last = model_.layers.size() - 1;
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
      const DenseLayer& layer = model_.layers[l];
      float* out = l == last ? logits : (l % 2 == 0 ? ping_.data() : pong_.data());
      GemmArgs args;
      args.shape = {batch, layer.outputs, layer.inputs};
      args.trans_b = Transpose::kYes;  // y = x · Wᵀ with W stored [out][in]
      args.a = in;
      args.lda = layer.inputs;
      args.b = layer.weights.data();
      args.ldb = layer.inputs;
      args.c = out;
      args.ldc = layer.outputs;
      gemm_(args);
      add_bias_activation(out, batch, layer.outputs, layer.bias.data(), l != last);
      in = out;
    }
  }

  int inputs() const override { return model_.inputs(); }
  int outputs() const override { return model_.outputs(); }
  std::string kernel() const override { return kernel_name_; }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
      const bool last = l + 1 == model_.layers.size();
      out.push_back({kernel_name_, last ? "sgemm+bias" : "sgemm+bias+relu"});
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = 0;
    for (const DenseLayer& layer : model_.layers) {
      bytes += static_cast<std::int64_t>((layer.weights.size() + layer.bias.size()) * sizeof(float));
    }
    return bytes;
  }

 private:
  Mlp model_;
  GemmFn gemm_;
  std::string kernel_name_;
  int widest_ = 0;
  std::vector<float> ping_;
  std::vector<float> pong_;
};

}  // namespace

std::unique_ptr<InferenceEngine> make_fp32_reference_engine(const Mlp& model) {
  return std::make_unique<Fp32Engine>(model, &sgemm_ref, "ref/sgemm");
}

std::unique_ptr<InferenceEngine> make_fp32_openblas_engine(const Mlp& model) {
  return std::make_unique<Fp32Engine>(model, &sgemm_openblas,
                                      fmt::format("openblas/{}/sgemm", openblas_core()));
}

}  // namespace lowbit::kernels
