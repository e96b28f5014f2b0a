#include "kernels/engine/engine_int4.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "kernels/engine/layer_chain.h"
#include "kernels/gemm/gemm_lowbit.h"
#include "kernels/gemm/lowbit_x8.h"
#include "kernels/gemm/q8_blocks.h"
#include "kernels/quant/block_quant.h"
#include "kernels/quant/int4_calibration.h"

namespace lowbit::kernels {

namespace {

// One layer in the layout its kernel reads: the row layout, or (a tier with run_x8) only the
// interleaved copy, so model_bytes() counts what is really kept.
struct PackedLayer {
  BlockQuantMatrix weights;  // empty codes when interleaved
  LowbitX8Weights x8;
  std::vector<float> bias;
  int outputs = 0;
  int inputs = 0;
};

class Int4Engine final : public InferenceEngine {
 public:
  Int4Engine(const Mlp& model, const BlockQuantSpec& spec, const LowbitKernel& kernel,
             const CalibrationSet* calibration)
      : spec_(spec),
        kernel_(kernel),
        calibrated_(calibration != nullptr && calibration->count > 0) {
    std::vector<LayerInputStats> stats;
    if (calibrated_) stats = layer_input_stats(model, *calibration);
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
      const DenseLayer& layer = model.layers[l];
      PackedLayer packed;
      if (calibrated_ && !stats[l].second_moment.empty()) {
        packed.weights = gptq_quantize(layer.weights, layer.outputs, layer.inputs, spec, stats[l]);
        gptq_layers_ += 1;
      } else {
        packed.weights = quantize_block_matrix(
            layer.weights, layer.outputs, layer.inputs, spec,
            calibrated_ ? std::span<const float>(stats[l].importance) : std::span<const float>());
      }
      packed.bias = calibrated_
                        ? corrected_bias(layer.weights, packed.weights, layer.bias, stats[l].mean)
                        : layer.bias;
      if (kernel_.run_x8 != nullptr) {
        packed.x8 = interleave_x8(view_of(packed.weights));
        packed.weights = BlockQuantMatrix{};
      }
      packed.outputs = layer.outputs;
      packed.inputs = layer.inputs;
      layers_.push_back(std::move(packed));
    }
  }

  void forward(const float* src, int batch, float* logits) override {
    forward_float_layers(std::span<const PackedLayer>(layers_), src, batch, logits, scratch_,
                         [&](const PackedLayer& layer, const float* in, float* out) {
                           quantize_q8_blocks(in, batch, layer.inputs, layer.inputs,
                                              spec_.group_size, activations_,
                                              kernel_.avx2_activations);
                           if (kernel_.run_x8 != nullptr) {
                             GemmLowbitX8Args args;
                             args.weights = view_of(layer.x8);
                             args.src = view_of(activations_);
                             args.src.m = batch;
                             args.dst = out;
                             args.ld_dst = layer.outputs;
                             kernel_.run_x8(args);
                           } else {
                             GemmLowbitArgs args;
                             args.weights = view_of(layer.weights);
                             args.src = view_of(activations_);
                             args.src.m = batch;
                             args.dst = out;
                             args.ld_dst = layer.outputs;
                             kernel_.run(args);
                           }
                         });
  }

  int inputs() const override { return layers_.front().inputs; }
  int outputs() const override { return layers_.back().outputs; }

  std::string kernel() const override {
    return "lowbit/q" + std::to_string(spec_.bits) + "_g" + std::to_string(spec_.group_size) + "_" +
           kernel_.path;
  }

  std::vector<LayerKernel> layers() const override {
    std::vector<LayerKernel> out;
    const char* function = kernel_.run_x8 != nullptr ? kernel_.name_x8 : kernel_.name;
    const std::string impl =
        std::string(function) + " " + to_string(spec_.scheme) + " fp16 group scales" +
        (!calibrated_ ? ""
         : gptq_layers_ == static_cast<int>(layers_.size())
             ? " (GPTQ with calibrated group search, bias correction)"
             : " (calibrated search" +
                   std::string(gptq_layers_ > 0 ? ", GPTQ where inputs ≤ 1024" : "") +
                   ", bias correction)") +
        ", int8 activation blocks, fp32 +bias";
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      out.push_back({kernel(), l + 1 == layers_.size() ? impl : impl + "+relu"});
    }
    return out;
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = 0;
    for (const PackedLayer& layer : layers_) {
      const std::int64_t weights =
          kernel_.run_x8 != nullptr ? layer.x8.bytes() : layer.weights.bytes();
      bytes += weights + static_cast<std::int64_t>(layer.bias.size() * sizeof(float));
    }
    return bytes;
  }

 private:
  BlockQuantSpec spec_;
  const LowbitKernel& kernel_;
  bool calibrated_ = false;
  int gptq_layers_ = 0;
  std::vector<PackedLayer> layers_;
  Q8Blocks activations_;
  PingPong<float> scratch_;
};

}  // namespace

std::unique_ptr<InferenceEngine> make_int4_engine(const Mlp& model, int bits, int group_size,
                                                  QuantScheme scheme, const std::string& path,
                                                  const std::string& isa_cap,
                                                  const CalibrationSet* calibration) {
  BlockQuantSpec spec;
  spec.bits = bits;
  spec.group_size = group_size;
  spec.scheme = scheme;
  spec.search = ScaleSearch::kSearch;
  return make_int4_engine(model, spec, path, isa_cap, calibration);
}

std::unique_ptr<InferenceEngine> make_int4_engine(const Mlp& model, const BlockQuantSpec& spec,
                                                  const std::string& path,
                                                  const std::string& isa_cap,
                                                  const CalibrationSet* calibration) {
  if (model.layers.empty()) throw std::invalid_argument("int4 engine: the model has no layers");
  check_block_quant_spec(spec);
  return std::make_unique<Int4Engine>(model, spec, find_lowbit_kernel(path, isa_cap), calibration);
}

}  // namespace lowbit::kernels
