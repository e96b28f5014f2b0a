#include "kernels/engine/engine_fixed.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "kernels/base/sizes.h"
#include "kernels/engine/layer_chain.h"
#include "kernels/gemm/gemm_u8s8.h"
#include "kernels/quant/fixed_model.h"

namespace lowbit::kernels {

namespace {

const U8S8Path& choose_path(const std::string& name) {
  std::vector<std::string> known{"auto"};
  for (const U8S8Path& p : u8s8_paths()) {
    known.emplace_back(p.name);
    if (name == "auto" ? p.cpu_supports() : name == p.name) {
      if (!p.cpu_supports()) {
        throw std::invalid_argument(
            fmt::format("fixed path {} cannot run on this CPU (it needs {})", p.name, p.name));
      }
      return p;
    }
  }
  throw std::invalid_argument(
      fmt::format("no fixed path named \"{}\" (known: {})", name, fmt::join(known, ", ")));
}

class FixedEngine final : public InferenceEngine {
 public:
  FixedEngine(FixedModel model, const U8S8Path& path)
      : model_(std::move(model)),
        path_(path),
        kernel_name_(fmt::format("lowbit/fixed_u8s8_{}", path.name)) {
    for (const FixedLayer& layer : model_.layers) widest_ = std::max(widest_, layer.outputs);
  }

  void forward(const float* src, int batch, float* logits) override {
    const std::size_t need = element_count(batch, widest_);
    if (acc_.size() < need) acc_.resize(need);
    scratch_.reserve(need);
    const std::size_t src_need = element_count(batch, inputs());
    if (src_q_.size() < src_need) src_q_.resize(src_need);

    const FixedLayer& first = model_.layers.front();
    path_.quantize_src({std::span<const float>(src, src_need), first.src_scale,
                        first.src_zero_point, src_q_.data()});
    const std::uint8_t* in = src_q_.data();
    const std::size_t last = model_.layers.size() - 1;
    for (std::size_t l = 0; l < model_.layers.size(); ++l) {
      const FixedLayer& layer = model_.layers[l];
      GemmU8S8Args gemm;
      gemm.shape = {batch, layer.outputs, layer.inputs};
      gemm.src = in;
      gemm.ld_src = layer.inputs;
      gemm.weights = layer.weights.data();
      gemm.ld_weights = layer.inputs;
      gemm.dst = acc_.data();
      gemm.ld_dst = layer.outputs;
      path_.gemm(gemm);
      if (l == last) {
        write_logits(layer, batch, logits);
        break;
      }
      std::uint8_t* out = scratch_.hidden(l);
      RequantizeU8Args rq;
      rq.rows = batch;
      rq.channels = layer.outputs;
      rq.acc = acc_.data();
      rq.ld_acc = layer.outputs;
      rq.bias = layer.bias.data();
      rq.multiplier = layer.multiplier.data();
      rq.exponent = layer.exponent.data();
      rq.zero_point = layer.dst_zero_point;
      rq.act_min = layer.act_min;
      rq.act_max = layer.act_max;
      rq.dst = out;
      rq.ld_dst = layer.outputs;
      path_.requantize(rq);
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
      out.push_back({kernel_name_, fmt::format("u8·s8→s32 (w{}), {}", model_.bits,
                                               last ? "+bias, ·S_x·S_w → f32 logits"
                                                    : "Q31 requant, relu clamp → u8")});
    }
    return out;
  }

  std::int64_t model_bytes() const override { return model_.bytes(); }

 private:
  // The only float arithmetic after the input quantization; shared by every tier (a handful of
  // outputs per image), so the tiers' logits agree bit for bit.
  void write_logits(const FixedLayer& layer, int batch, float* logits) const {
    for (int b = 0; b < batch; ++b) {
      for (int c = 0; c < layer.outputs; ++c) {
        const std::size_t i = element_count(b, layer.outputs) + static_cast<std::size_t>(c);
        const auto ci = static_cast<std::size_t>(c);
        // acc + bias stays inside int32 by construction of the folded bias (fixed_model.h).
        const std::int32_t total = acc_[i] + layer.bias[ci];
        logits[i] = static_cast<float>(static_cast<double>(total) * layer.logit_scale[ci]);
      }
    }
  }

  FixedModel model_;
  const U8S8Path& path_;
  std::string kernel_name_;
  int widest_ = 0;
  std::vector<std::uint8_t> src_q_;
  std::vector<std::int32_t> acc_;
  PingPong<std::uint8_t> scratch_;
};

}  // namespace

std::unique_ptr<InferenceEngine> make_fixed_engine(const Mlp& model, const QuantSpec& spec,
                                                   const CalibrationSet& calibration,
                                                   const std::string& path) {
  const U8S8Path& chosen = choose_path(path);  // before the calibration, which takes a while
  return std::make_unique<FixedEngine>(quantize_fixed_model(model, spec, calibration), chosen);
}

}  // namespace lowbit::kernels
