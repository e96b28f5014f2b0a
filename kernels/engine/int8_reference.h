#pragma once
// The `int8` compute path's arithmetic, defined once, and its reference twin (plain loops). The
// oneDNN path (engine_onednn_int8.h) shares everything here except the matmul and its epilogue,
// which oneDNN computes and the tests compare against int8_layer_ref.
//
// Scheme (QuantSpec::scheme is not read: the registry refuses asymmetric weights, since a weight
// zero point adds a per-row Σ_k q_x term that no bias can absorb and oneDNN's fast int8 matmul
// takes none):
//   weights   s8 at spec.bits, symmetric (Z_w = 0), per output channel or per tensor
//             (spec.granularity; per tensor is one scale repeated over the columns);
//   src       u8 affine per tensor: codes in [0, qmax] with zero point Z_x; static (calibrated
//             once by running the fp32 model on the CalibrationSet) or dynamic (min/max of each
//             batch, each layer);
//   acc       Σ_k q_x[m][k] · q_w[n][k], exact in int32;
//   epilogue  d = (float(acc) + acc_bias[n]) · scale[n]   — oneDNN 2.x's order: bias, then scale
//             acc_bias[n] = b[n] / (S_x·S_w[n]) − Z_x·Σ_k q_w[n][k]   (bias in accumulator units
//             with the zero-point cross term folded in, as gemmlowp/TFLite do; docs/precision.md
//             "int8")
//   last layer   logits = d with scale[n] = S_x·S_w[n];
//   hidden, fused (static only): scale[n] = S_x·S_w[n]/S_y; q_y = RNE(min(clip(d, 0, qmax − Z_y)
//             + Z_y, 255)) — oneDNN's post-op clip, dst zero point, saturating round;
//   hidden, unfused: d as for the last layer, then our own loop q_y = Z_y + RNE(clip(d / S_y, 0,
//             qmax − Z_y)) — ReLU is the lower clip.
//
// Reduced range. Without VNNI, oneDNN multiplies u8·s8 with vpmaddubsw, which adds adjacent
// products into int16 with saturation: 2·255·127 = 64770 overflows it, and the accumulator is
// then silently wrong (checked here: an all-255 × all-127 row of 64 gives 32·32767, not 64·32385).
// A pair stays exact when 2·qmax·max|q_w| ≤ 32767. Weights of ≤ 7 bits (|q_w| ≤ 63) already
// satisfy it with 8-bit activations; 8-bit weights get 7-bit activations [0, 127], as PyTorch's
// reduce_range does (keeping the weights' precision, which is per channel, and giving up one bit
// of the per-tensor activations).

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/engine/engine.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

enum class Int8ActivationRange : std::uint8_t {
  kAuto,     // from oneDNN's effective ISA and the weight bits (choose_int8_activation_range)
  kFull,     // [0, 255] even where vpmaddubsw may saturate: tests use it to show that it does
  kReduced,  // [0, 127]
};

struct Int8Options {
  Int8ActivationRange range = Int8ActivationRange::kAuto;
  // Static activations only: oneDNN writes the hidden layers' u8 codes itself (clip post-op and
  // dst zero point) instead of f32 that our loop then quantizes. Dynamic activations always take
  // the unfused route: the next scale is known only after the whole f32 output is.
  bool fuse_requantize = true;
  // oneDNN path only: batches below this run on our AVX2 u8s8 GEMM (engine_int8_avx2.h) with the
  // same quantized model and epilogue. −1: kInt8SmallBatchAuto where oneDNN's ISA is AVX2 without
  // VNNI (its gemm:jit re-packs the weights on every call, which dominates small batches), else
  // never; 0: never.
  int small_batch_below = -1;
};

// The batch below which our AVX2 GEMM beats oneDNN's gemm:jit on an AVX2 CPU without VNNI.
// Measured with build/bench/bench_low_precision, 1 thread, AMD EPYC Zen 3: oneDNN alone / ours =
// 3.27, 1.15, 0.76, 0.45 at batch 1, 2, 4, 8 on 784-128-10 and —, 1.16, 0.93, 0.76 on
// 784-512-256-10, so the kernels cross between batch 2 and 4.
inline constexpr int kInt8SmallBatchAuto = 4;

struct Int8RangeChoice {
  QuantRange activations;  // [0, 127] or [0, 255]
  int activation_bits = 8;
  std::string reason;  // e.g. "act7: avx2 has no VNNI"
};
// `isa` is oneDNN's name (library_info.h onednn_effective_isa()).
Int8RangeChoice choose_int8_activation_range(std::string_view isa, int weight_bits,
                                             Int8ActivationRange requested);

struct Int8ActivationParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

struct Int8Layer {
  int inputs = 0;
  int outputs = 0;
  std::vector<std::int8_t> weights;      // outputs × inputs, in weight_range(bits, kSymmetric)
  std::vector<float> weight_scale;       // S_w[n]
  std::vector<std::int32_t> column_sum;  // Σ_k q_w[n][k]
  std::vector<float> bias;               // b[n], the model's
  Int8ActivationParams src;              // static activations: calibrated; dynamic: unused
};

struct Int8Model {
  int bits = 8;
  bool static_activations = true;
  bool fuse_requantize = true;  // resolved: false whenever activations are dynamic
  Int8RangeChoice range;
  std::vector<Int8Layer> layers;

  int inputs() const { return layers.front().inputs; }
  int outputs() const { return layers.back().outputs; }
  bool fused(std::size_t layer) const {
    return static_activations && fuse_requantize && layer + 1 < layers.size();
  }
};

// Quantizes the weights and, for static activations, calibrates every layer's src on the first
// min(count, spec.calibration_samples) calibration images (all when calibration_samples ≤ 0) run
// through the fp32 reference model. The range follows options.range, kAuto resolved with
// onednn_effective_isa(). Throws std::invalid_argument naming the problem: bits outside 2..8,
// static activations with an empty calibration set or images of the wrong width, a layer so deep
// that int32 accumulators could overflow.
Int8Model quantize_int8_model(const Mlp& model, const QuantSpec& spec,
                              const CalibrationSet& calibration, const Int8Options& options);

// The float constants of one layer's epilogue (see the top of this file), in double then rounded
// once to float, so both twins use the same floats.
struct Int8Epilogue {
  std::vector<float> acc_bias;
  std::vector<float> scale;
};
// fused_dst: the u8 output's parameters for a fused hidden layer; null for an f32 output.
void compute_int8_epilogue(const Int8Layer& layer, Int8ActivationParams src,
                           const Int8ActivationParams* fused_dst, Int8Epilogue& epilogue);

// Round to nearest, ties to even, as vcvtps2dq does under the default MXCSR, for |v| ≤ 2^22:
// adding 1.5·2^23 leaves no fraction bits, so the float addition itself rounds.
inline float round_half_even(float v) {
  constexpr float kShifter = 0x1.8p23f;
  return (v + kShifter) - kShifter;
}

// code = Z + RNE(clip(v, lo, hi)) with v = x / S; NaN gives lo. lo and hi are code offsets
// from Z (integers), so the result lies in [Z + lo, Z + hi].
inline std::uint8_t activation_code(float v, float lo, float hi, std::int32_t zero_point) {
  // min then max, in this order, is branch-free (minss, maxss) and sends NaN to lo.
  const float clipped = std::max(lo, std::min(v, hi));
  return static_cast<std::uint8_t>(static_cast<std::int32_t>(round_half_even(clipped)) +
                                   zero_point);
}

// The fused epilogue's last step, in oneDNN's order: clip post-op to [0, hi] (ReLU, and the
// reduced range's top), add the dst zero point, saturate to u8, round.
inline std::uint8_t fused_activation_code(float d, float hi, std::int32_t zero_point) {
  const float clipped = std::max(0.0f, std::min(d, hi));
  const float shifted = std::min(clipped + static_cast<float>(zero_point), 255.0f);
  return static_cast<std::uint8_t>(static_cast<std::int32_t>(round_half_even(shifted)));
}

// x / S to codes of `range`: src when !relu (clip to [qmin − Z, qmax − Z]), a hidden output
// when relu (clip to [0, qmax − Z]).
void quantize_activations(std::span<const float> src, Int8ActivationParams params, QuantRange range,
                          bool relu, std::uint8_t* dst);

// Dynamic parameters from the min and max of `values` (of max(values, 0) when relu), affine, as
// params_from_range. Throws std::invalid_argument on NaN or infinite values.
Int8ActivationParams dynamic_activation_params(std::span<const float> values, QuantRange range,
                                               bool relu);

// One layer's matmul and epilogue with plain loops: exactly one of dst_f32 / dst_u8 is set
// (dst_u8 for a fused hidden layer, with its clip top and zero point).
struct Int8LayerCall {
  std::size_t layer = 0;
  int batch = 0;
  const std::uint8_t* src = nullptr;  // batch × inputs codes
  const Int8Epilogue* epilogue = nullptr;
  float* dst_f32 = nullptr;  // batch × outputs
  std::uint8_t* dst_u8 = nullptr;
  float clip_hi = 0.0f;  // qmax − Z_y
  std::int32_t dst_zero_point = 0;
};
void int8_layer_ref(const Int8Layer& layer, const Int8LayerCall& call);

// The epilogue of one accumulator (column c, element `at` of dst), shared by every twin that
// computes the int32 accumulators itself: d = (acc + acc_bias[c])·scale[c], then the fused u8
// code or the f32 value.
inline void int8_store(const Int8LayerCall& call, std::size_t at, std::size_t c, std::int32_t acc) {
  const Int8Epilogue& e = *call.epilogue;
  const float d = (static_cast<float>(acc) + e.acc_bias[c]) * e.scale[c];
  if (call.dst_u8 != nullptr) {
    call.dst_u8[at] = fused_activation_code(d, call.clip_hi, call.dst_zero_point);
  } else {
    call.dst_f32[at] = d;
  }
}

// What the two twins share: the layer loop, the quantization of src and of unfused hidden
// outputs, dynamic parameters and epilogues. Subclasses supply the matmul + epilogue of one
// layer. After forward(), src_codes / src_params show every layer's u8 input (tests compare them
// between the twins).
class Int8Engine : public InferenceEngine {
 public:
  explicit Int8Engine(Int8Model model);

  void forward(const float* src, int batch, float* logits) final;
  int inputs() const final { return model_.inputs(); }
  int outputs() const final { return model_.outputs(); }
  std::string kernel() const final;
  std::vector<LayerKernel> layers() const final;
  std::int64_t model_bytes() const override;

  const Int8Model& model() const { return model_; }
  // Layer `layer`'s u8 input and its parameters from the last forward (batch × inputs).
  std::span<const std::uint8_t> src_codes(std::size_t layer) const;
  Int8ActivationParams src_params(std::size_t layer) const { return src_params_[layer]; }

 protected:
  virtual void run_layer(const Int8LayerCall& call) = 0;
  virtual std::string layer_kernel(std::size_t layer) const = 0;  // "ref/int8"
  virtual std::string layer_impl(std::size_t layer) const = 0;    // "loops", "gemm:jit"
  // Static activations: the constants every call of layer `layer` uses.
  const Int8Epilogue& static_epilogue(std::size_t layer) const { return epilogues_[layer]; }
  std::string describe_layer(std::size_t layer) const;  // data types, ranges, reason

 private:
  Int8Model model_;
  std::vector<Int8Epilogue> epilogues_;  // static: fixed; dynamic: the last forward's
  std::vector<Int8ActivationParams> src_params_;
  std::vector<std::vector<std::uint8_t>> codes_;  // per layer src
  std::vector<float> hidden_f32_;
  int last_batch_ = 0;
};

// The reference twin. kernel() is "ref/int8". Throws as quantize_int8_model.
std::unique_ptr<InferenceEngine> make_int8_reference_engine(const Mlp& model, const QuantSpec& spec,
                                                            const CalibrationSet& calibration,
                                                            const Int8Options& options = {});

}  // namespace lowbit::kernels
