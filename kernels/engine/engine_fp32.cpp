#include "kernels/engine/engine_fp32.h"

#include <fmt/format.h>

#include <algorithm>

#include "kernels/base/library_info.h"
#include "kernels/engine/layer_chain.h"
#include "kernels/gemm/gemm.h"

namespace lowbit::kernels {

namespace {

// Both fp32 paths share the layer loop and differ only in the GEMM they call.
class Fp32Engine final : public InferenceEngine {
 public:
  Fp32Engine(const Mlp& model, GemmFn gemm, std::string kernel_name)
      : model_(model), gemm_(gemm), kernel_name_(std::move(kernel_name)) {}

  void forward(const float* src, int batch, float* logits) override {
    forward_float_layers(std::span<const DenseLayer>(model_.layers), src, batch, logits, scratch_,
                         [&](const DenseLayer& layer, const float* in, float* out) {
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
                         });
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
      bytes +=
          static_cast<std::int64_t>((layer.weights.size() + layer.bias.size()) * sizeof(float));
    }
    return bytes;
  }

 private:
  Mlp model_;
  GemmFn gemm_;
  std::string kernel_name_;
  PingPong<float> scratch_;
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
