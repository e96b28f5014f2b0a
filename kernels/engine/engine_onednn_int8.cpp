#include "kernels/engine/engine_onednn_int8.h"

#include <fmt/format.h>

#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/base/library_info.h"
#include "kernels/engine/engine_int8_avx2.h"
#include "kernels/engine/onednn_common.h"
#include "kernels/gemm/gemm_u8s8.h"

namespace lowbit::kernels {

namespace {

using dt = dnnl::memory::data_type;
using dim = dnnl::memory::dim;

// oneDNN 2.x set_output_scales: mask 0 is one scale, mask 1 << 1 one output scale per column N of
// the K × N weights, i.e. per output channel.
constexpr int kPerColumn = 1 << 1;

struct OnednnLayer {
  dnnl::matmul primitive;
  dnnl::memory weights;  // s8, in the layout the primitive chose, filled once
  dnnl::memory bias;     // static: the epilogue's acc_bias; dynamic: rebound to each batch's
  dnnl::memory scales;   // dynamic only: each batch's output scales
  std::string impl;
  std::int64_t weight_bytes = 0;
  dt dst_type = dt::f32;
  // Bound to one batch size: memory objects whose data handles each call re-points.
  int batch = -1;
  dnnl::memory src;
  dnnl::memory dst;
  std::unordered_map<int, dnnl::memory> args;
};

class OnednnInt8Engine final : public Int8Engine {
 public:
  OnednnInt8Engine(Int8Model quantized, const U8S8Path* small_path, int small_batch_below)
      : Int8Engine(std::move(quantized)),
        small_path_(small_path),
        small_batch_below_(small_batch_below) {
    for (std::size_t l = 0; l < model().layers.size(); ++l) layers_.push_back(build_layer(l));
  }

  std::int64_t model_bytes() const override {
    std::int64_t bytes = Int8Engine::model_bytes();
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      // What oneDNN really keeps: its reordered (maybe padded) weights, not our [out][in] copy.
      bytes +=
          layers_[l].weight_bytes - static_cast<std::int64_t>(model().layers[l].weights.size());
    }
    return bytes;
  }

 protected:
  void run_layer(const Int8LayerCall& call) override {
    if (small_path_ != nullptr && call.batch < small_batch_below_) {
      run_small_batch(call);
      return;
    }
    OnednnLayer& layer = layers_[call.layer];
    if (layer.batch != call.batch) bind_batch(call.layer, call.batch);
    layer.src.set_data_handle(const_cast<std::uint8_t*>(call.src));
    layer.dst.set_data_handle(call.dst_u8 != nullptr ? static_cast<void*>(call.dst_u8)
                                                     : static_cast<void*>(call.dst_f32));
    if (!model().static_activations) {
      layer.bias.set_data_handle(const_cast<float*>(call.epilogue->acc_bias.data()));
      layer.scales.set_data_handle(const_cast<float*>(call.epilogue->scale.data()));
    }
    dnnl::stream& stream = onednn_thread_stream();
    layer.primitive.execute(stream, layer.args);
    stream.wait();
  }

  std::string layer_kernel(std::size_t l) const override {
    std::string name = "onednn/" + layers_[l].impl + "/int8";
    if (small_path_ != nullptr)
      name += fmt::format("+lowbit/u8s8_{}(batch<{})", small_path_->name, small_batch_below_);
    return name;
  }
  std::string layer_impl(std::size_t l) const override {
    if (small_path_ == nullptr) return layers_[l].impl;
    return fmt::format("{}; batch < {}: gemm_u8s8_s32_{}", layers_[l].impl, small_batch_below_,
                       small_path_->name);
  }

 private:
  OnednnLayer build_layer(std::size_t l) const {
    const dnnl::engine& engine = onednn_cpu_engine();
    const Int8Layer& layer = model().layers[l];
    const dim k = layer.inputs;
    const dim n = layer.outputs;
    OnednnLayer built;
    built.dst_type = model().fused(l) ? dt::u8 : dt::f32;

    dnnl::primitive_attr attr;
    if (model().static_activations) {
      attr.set_output_scales(kPerColumn, static_epilogue(l).scale);
    } else {
      attr.set_output_scales(kPerColumn, {DNNL_RUNTIME_F32_VAL});
    }
    if (model().fused(l)) {
      // d = (acc + bias)·S_x·S_w[n]/S_y; clip to [0, qmax − Z_y] (ReLU, and the reduced range's
      // top, which u8 saturation alone would not give); + Z_y; saturate and round to u8.
      const Int8ActivationParams next = model().layers[l + 1].src;
      dnnl::post_ops post;
      post.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, 0.0f,
                          static_cast<float>(model().range.activations.qmax - next.zero_point));
      attr.set_post_ops(post);
      if (next.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {next.zero_point});
    }

    const dnnl::memory::desc src_md = plain_matrix(DNNL_RUNTIME_DIM_VAL, k, dt::u8);
    const dnnl::memory::desc weights_md({k, n}, dt::s8, dnnl::memory::format_tag::any);
    const dnnl::memory::desc bias_md = plain_matrix(1, n, dt::f32);
    const dnnl::memory::desc dst_md = plain_matrix(DNNL_RUNTIME_DIM_VAL, n, built.dst_type);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md),
                                          attr, engine);
    built.primitive = dnnl::matmul(pd);
    built.impl = onednn_impl_name(pd);

    const dnnl::memory user_weights(weights_out_in(k, n, dt::s8), engine,
                                    const_cast<std::int8_t*>(layer.weights.data()));
    built.weights = reorder_to(user_weights, pd.weights_desc());
    built.weight_bytes = static_cast<std::int64_t>(pd.weights_desc().get_size());

    if (model().static_activations) {
      built.bias = dnnl::memory(bias_md, engine);
      const std::vector<float>& acc_bias = static_epilogue(l).acc_bias;
      std::memcpy(built.bias.get_data_handle(), acc_bias.data(), acc_bias.size() * sizeof(float));
    } else {
      built.bias = dnnl::memory(bias_md, engine, DNNL_MEMORY_NONE);
      built.scales = dnnl::memory(dnnl::memory::desc({n}, dt::f32, dnnl::memory::format_tag::a),
                                  engine, DNNL_MEMORY_NONE);
    }
    return built;
  }

  // Small batches: the same int32 accumulators (exact either way) from our GEMM, then the same
  // epilogue as the reference twin.
  void run_small_batch(const Int8LayerCall& call) {
    run_int8_layer_u8s8(*small_path_, model().layers[call.layer], call, small_acc_);
  }

  void bind_batch(std::size_t l, int batch) {
    const dnnl::engine& engine = onednn_cpu_engine();
    OnednnLayer& layer = layers_[l];
    const Int8Layer& shape = model().layers[l];
    layer.batch = batch;
    layer.src = dnnl::memory(plain_matrix(batch, shape.inputs, dt::u8), engine, DNNL_MEMORY_NONE);
    layer.dst =
        dnnl::memory(plain_matrix(batch, shape.outputs, layer.dst_type), engine, DNNL_MEMORY_NONE);
    layer.args = {{DNNL_ARG_SRC, layer.src},
                  {DNNL_ARG_WEIGHTS, layer.weights},
                  {DNNL_ARG_BIAS, layer.bias},
                  {DNNL_ARG_DST, layer.dst}};
    if (!model().static_activations) layer.args[DNNL_ARG_ATTR_OUTPUT_SCALES] = layer.scales;
  }

  std::vector<OnednnLayer> layers_;
  const U8S8Path* small_path_ = nullptr;  // null: oneDNN runs every batch
  int small_batch_below_ = 0;
  std::vector<std::int32_t> small_acc_;
};

// The AVX2 tier of gemm_u8s8.h when options ask for small-batch dispatch and the CPU has it.
const U8S8Path* small_batch_path(const Int8Options& options, int& below) {
  below = options.small_batch_below;
  if (below < 0) {
    const std::string isa = onednn_effective_isa();
    const bool avx2_without_vnni = isa.starts_with("avx2") && !onednn_isa_has_vnni(isa);
    below = avx2_without_vnni ? kInt8SmallBatchAuto : 0;
  }
  if (below == 0) return nullptr;
  for (const U8S8Path& p : u8s8_paths()) {
    if (std::string_view(p.name) == "avx2" && p.cpu_supports()) return &p;
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<InferenceEngine> make_onednn_int8_engine(const Mlp& model, const QuantSpec& spec,
                                                         const CalibrationSet& calibration,
                                                         const Int8Options& options) {
  Int8Model quantized = quantize_int8_model(model, spec, calibration, options);
  int below = 0;
  const U8S8Path* small_path = small_batch_path(options, below);
  try {
    return std::make_unique<OnednnInt8Engine>(std::move(quantized), small_path, below);
  } catch (const dnnl::error& e) {
    throw EngineUnavailable(fmt::format("oneDNN {} cannot build an int8 matmul here: {} ({})",
                                        onednn_version(), e.what(), onednn_status_name(e.status)));
  }
}

}  // namespace lowbit::kernels
