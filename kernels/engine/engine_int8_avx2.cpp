#include "kernels/engine/engine_int8_avx2.h"

#include <string>
#include <vector>

#include "kernels/gemm/gemm_u8s8.h"

namespace lowbit::kernels {

namespace {

const U8S8Path* avx2_path() {
  for (const U8S8Path& p : u8s8_paths()) {
    if (std::string(p.name) == "avx2") return &p;
  }
  return nullptr;
}

class Int8Avx2Engine final : public Int8Engine {
 public:
  Int8Avx2Engine(Int8Model model, const U8S8Path& path)
      : Int8Engine(std::move(model)), path_(path) {}

 protected:
  void run_layer(const Int8LayerCall& call) override {
    run_int8_layer_u8s8(path_, model().layers[call.layer], call, acc_);
  }
  std::string layer_kernel(std::size_t) const override { return "lowbit/u8s8_avx2/int8"; }
  std::string layer_impl(std::size_t) const override { return "gemm_u8s8_s32_avx2"; }

 private:
  const U8S8Path& path_;
  std::vector<std::int32_t> acc_;
};

}  // namespace

void run_int8_layer_u8s8(const U8S8Path& path, const Int8Layer& layer, const Int8LayerCall& call,
                         std::vector<std::int32_t>& acc) {
  const auto channels = static_cast<std::size_t>(layer.outputs);
  const std::size_t count = static_cast<std::size_t>(call.batch) * channels;
  if (acc.size() < count) acc.resize(count);
  GemmU8S8Args args;
  args.shape = {call.batch, layer.outputs, layer.inputs};
  args.src = call.src;
  args.ld_src = layer.inputs;
  args.weights = layer.weights.data();
  args.ld_weights = layer.inputs;
  args.dst = acc.data();
  args.ld_dst = layer.outputs;
  path.gemm(args);
  for (std::size_t row = 0, at = 0; row < static_cast<std::size_t>(call.batch); ++row) {
    for (std::size_t c = 0; c < channels; ++c, ++at) int8_store(call, at, c, acc[at]);
  }
}

bool int8_avx2_supported() {
  const U8S8Path* p = avx2_path();
  return p != nullptr && p->cpu_supports();
}

std::unique_ptr<InferenceEngine> make_int8_avx2_engine(const Mlp& model, const QuantSpec& spec,
                                                       const CalibrationSet& calibration,
                                                       const Int8Options& options) {
  const U8S8Path* path = avx2_path();
  if (path == nullptr || !path->cpu_supports()) {
    throw EngineUnavailable("int8 path avx2 needs avx2, which this CPU lacks");
  }
  Int8Options exact = options;
  const bool automatic = exact.range == Int8ActivationRange::kAuto;
  if (automatic) exact.range = Int8ActivationRange::kFull;
  Int8Model quantized = quantize_int8_model(model, spec, calibration, exact);
  if (automatic) quantized.range.reason = "act8: int16 products (vpmaddwd) never saturate";
  return std::make_unique<Int8Avx2Engine>(std::move(quantized), *path);
}

}  // namespace lowbit::kernels
