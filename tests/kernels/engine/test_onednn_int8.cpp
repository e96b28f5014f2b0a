// The int8 path on oneDNN against its reference twin (kernels/engine/int8_reference.h).
//
// Tolerances, derived (u = 2^-24, the float unit roundoff):
// - Layer 0's codes come from our own quantization loop, shared by both twins: identical.
// - The int32 accumulators are exact in both (the range choice keeps vpmaddubsw pairs in int16,
//   the depth check keeps sums in int32), so the twins differ only in how the epilogue's float
//   ops d = (float(acc) + acc_bias[n])·scale[n] are evaluated (order, FMA): at most two or three
//   roundings, |Δd| ≤ 4u·(|acc| + |acc_bias[n]|)·scale[n] with |acc| ≤ qmax·Σ_k|q_w[n][k]|.
// - Logits (the last layer, f32 out) from identical codes: within that |Δd| bound.
// - Hidden codes from identical codes: a d that moved by |Δd| ≪ 1 LSB crosses at most one
//   rounding boundary, so codes differ by ≤ 1; and only where d lies within |Δd| of a .5, which
//   is rare (the fraction is checked to stay under 1%).
// - Whole model, static activations: a hidden code off by δ_l moves the next accumulator by at
//   most δ_l·Σ_k|q_w[n][k]|, i.e. δ_l·Σ|q_w|·S_x·S_w[n]/S_y codes, plus 1 for its own rounding:
//   δ_{l+1} = ⌈δ_l·max_n Σ|q_w[n]|·M[n]⌉ + 1, δ_1 = 1. The logits then differ by at most
//   Σ_k |Δq_x[k]|·|q_w[n][k]|·S_x·S_w[n] (the measured code differences) plus the |Δd| bound.
//   Dynamic activations are compared layer by layer only: there each batch's scales follow the
//   f32 maxima, so an end-to-end bound would be loose enough to pass almost anything.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_onednn_int8.h"
#include "kernels/engine/int8_reference.h"
#include "kernels/engine/onednn_common.h"
#include "kernels/train/train.h"
#include "tests/kernels/engine_test_support.h"

using namespace lowbit::kernels;
using namespace lowbit::kernels::testing;

namespace {

constexpr double kUnitRoundoff = 0x1.0p-24;
struct Twins {
  std::unique_ptr<InferenceEngine> fast;
  std::unique_ptr<InferenceEngine> ref;
  Int8Engine& fast_int8() const { return dynamic_cast<Int8Engine&>(*fast); }
  Int8Engine& ref_int8() const { return dynamic_cast<Int8Engine&>(*ref); }
};

// oneDNN for every batch: small batches would otherwise run our AVX2 GEMM (tested below).
Twins make_twins(const Mlp& model, const QuantSpec& spec, const CalibrationSet& calibration,
                 const Int8Options& options = {}) {
  Int8Options onednn_only = options;
  onednn_only.small_batch_below = 0;
  return {make_onednn_int8_engine(model, spec, calibration, onednn_only),
          make_int8_reference_engine(model, spec, calibration, options)};
}

std::vector<double> abs_row_sums(const Int8Layer& layer) {
  std::vector<double> sums(static_cast<std::size_t>(layer.outputs), 0.0);
  for (int n = 0; n < layer.outputs; ++n) {
    for (int k = 0; k < layer.inputs; ++k) {
      sums[static_cast<std::size_t>(n)] +=
          std::abs(layer.weights[element_count(n, layer.inputs) + k]);
    }
  }
  return sums;
}

// The |Δd| bound of one output channel (see the top of the file).
double epilogue_bound(const Int8Model& q, const Int8Epilogue& e, double abs_row_sum,
                      std::size_t c) {
  const double acc = q.range.activations.qmax * abs_row_sum;
  return 4.0 * kUnitRoundoff * (acc + std::abs(e.acc_bias[c])) * std::abs(e.scale[c]);
}

// The largest differences seen, reported by the grid test (they may well be 0: the bounds are
// what oneDNN is allowed, not what it does here).
struct Observed {
  int code = 0;
  double logit_over_bound = 0.0;
};
Observed observed;

struct CodeDiff {
  int max = 0;
  std::size_t count = 0;
};

CodeDiff diff_codes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  CodeDiff d;
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const int delta = std::abs(static_cast<int>(a[i]) - static_cast<int>(b[i]));
    d.max = std::max(d.max, delta);
    d.count += delta != 0 ? 1 : 0;
  }
  return d;
}

void check_hidden_codes(std::span<const std::uint8_t> got, std::span<const std::uint8_t> want) {
  const CodeDiff d = diff_codes(got, want);
  observed.code = std::max(observed.code, d.max);
  CHECK(d.max <= 1);
  CHECK(static_cast<double>(d.count) <= 0.01 * static_cast<double>(want.size()) + 1.0);
}

// Every layer of `fast`, fed the codes it really saw, against int8_layer_ref on the same codes.
void check_each_layer(const Int8Engine& fast, int batch, const std::vector<float>& logits) {
  const Int8Model& q = fast.model();
  const QuantRange range = q.range.activations;
  for (std::size_t l = 0; l < q.layers.size(); ++l) {
    CAPTURE(l);
    const Int8Layer& layer = q.layers[l];
    const bool last = l + 1 == q.layers.size();
    const std::vector<double> row_sums = abs_row_sums(layer);
    Int8Epilogue e;
    compute_int8_epilogue(layer, fast.src_params(l), q.fused(l) ? &q.layers[l + 1].src : nullptr,
                          e);
    Int8LayerCall call;
    call.layer = l;
    call.batch = batch;
    call.src = fast.src_codes(l).data();
    call.epilogue = &e;
    const std::size_t count = element_count(batch, layer.outputs);
    if (q.fused(l)) {
      const Int8ActivationParams next = q.layers[l + 1].src;
      std::vector<std::uint8_t> want(count);
      call.dst_u8 = want.data();
      call.clip_hi = static_cast<float>(range.qmax - next.zero_point);
      call.dst_zero_point = next.zero_point;
      int8_layer_ref(layer, call);
      check_hidden_codes(fast.src_codes(l + 1), want);
      continue;
    }
    std::vector<float> d(count);
    call.dst_f32 = d.data();
    int8_layer_ref(layer, call);
    if (last) {
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t c = i % static_cast<std::size_t>(layer.outputs);
        const double bound = epilogue_bound(q, e, row_sums[c], c);
        observed.logit_over_bound =
            std::max(observed.logit_over_bound, std::abs(logits[i] - d[i]) / bound);
        CHECK(std::abs(logits[i] - d[i]) <= bound);
      }
      continue;
    }
    const Int8ActivationParams next = fast.src_params(l + 1);
    if (!q.static_activations) {
      // The scale follows max(d): it moves by at most the largest |Δd| over qmax (plus the
      // rounding of the division); the zero point of a ReLU output is 0 either way.
      const Int8ActivationParams want = dynamic_activation_params(d, range, /*relu=*/true);
      double widest = 0.0;
      for (std::size_t c = 0; c < row_sums.size(); ++c) {
        widest = std::max(widest, epilogue_bound(q, e, row_sums[c], c));
      }
      CHECK(next.zero_point == want.zero_point);
      CHECK(std::abs(next.scale - want.scale) <=
            widest / range.qmax + 2.0 * kUnitRoundoff * want.scale);
    }
    std::vector<std::uint8_t> want(count);
    quantize_activations(d, next, range, /*relu=*/true, want.data());
    check_hidden_codes(fast.src_codes(l + 1), want);
  }
}

// Static activations: the whole model against the whole reference (see the top of the file).
void check_end_to_end(const Twins& twins, int batch, const std::vector<float>& fast_logits,
                      const std::vector<float>& ref_logits) {
  const Int8Engine& fast = twins.fast_int8();
  const Int8Engine& ref = twins.ref_int8();
  const Int8Model& q = fast.model();
  CHECK(diff_codes(fast.src_codes(0), ref.src_codes(0)).max == 0);
  int delta = 0;  // the bound on layer l's code differences
  for (std::size_t l = 0; l + 1 < q.layers.size(); ++l) {
    const Int8Layer& layer = q.layers[l];
    const std::vector<double> row_sums = abs_row_sums(layer);
    double spread = 0.0;
    for (std::size_t c = 0; c < row_sums.size(); ++c) {
      spread = std::max(spread, row_sums[c] * layer.src.scale * layer.weight_scale[c] /
                                    q.layers[l + 1].src.scale);
    }
    delta = std::min(static_cast<int>(std::ceil(delta * spread)) + 1, q.range.activations.qmax);
    CAPTURE(l);
    CHECK(diff_codes(fast.src_codes(l + 1), ref.src_codes(l + 1)).max <= delta);
  }
  const Int8Layer& last = q.layers.back();
  const std::vector<double> row_sums = abs_row_sums(last);
  const std::span<const std::uint8_t> fast_src = fast.src_codes(q.layers.size() - 1);
  const std::span<const std::uint8_t> ref_src = ref.src_codes(q.layers.size() - 1);
  Int8Epilogue e;
  compute_int8_epilogue(last, last.src, nullptr, e);
  for (int m = 0; m < batch; ++m) {
    for (int n = 0; n < last.outputs; ++n) {
      double moved = 0.0;  // Σ_k |Δq_x[k]|·|q_w[n][k]|, from the measured code differences
      for (int k = 0; k < last.inputs; ++k) {
        const std::size_t at = element_count(m, last.inputs) + static_cast<std::size_t>(k);
        moved += std::abs(static_cast<int>(fast_src[at]) - static_cast<int>(ref_src[at])) *
                 std::abs(last.weights[element_count(n, last.inputs) + k]);
      }
      const auto c = static_cast<std::size_t>(n);
      const double bound =
          moved * last.src.scale * last.weight_scale[c] + epilogue_bound(q, e, row_sums[c], c);
      const std::size_t i = element_count(m, last.outputs) + c;
      CHECK(std::abs(fast_logits[i] - ref_logits[i]) <= bound);
    }
  }
}

int argmax(const float* row, int n) {
  return static_cast<int>(std::max_element(row, row + n) - row);
}

bool isa_has_vnni() { return onednn_isa_has_vnni(onednn_effective_isa()); }

// One thread for OpenBLAS and oneDNN while a test runs: deterministic, and two OpenMP threads on
// a busy 2-core machine spin each other to ~100 ms per call (docs/architecture.md "Threads").
class OneThread {
 public:
  OneThread() : saved_(openblas_threads()) { set_threads(1); }
  ~OneThread() { set_threads(saved_); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int saved_;
};

}  // namespace

TEST_CASE("int8: activation codes round half to even, clip, and map NaN to the bottom") {
  CHECK(round_half_even(0.5f) == 0.0f);
  CHECK(round_half_even(1.5f) == 2.0f);
  CHECK(round_half_even(2.5f) == 2.0f);
  CHECK(round_half_even(-0.5f) == 0.0f);
  CHECK(round_half_even(126.49f) == 126.0f);
  CHECK(activation_code(3.5f, -10.0f, 117.0f, 10) == 14);
  CHECK(activation_code(1e30f, -10.0f, 117.0f, 10) == 127);
  CHECK(activation_code(-1e30f, -10.0f, 117.0f, 10) == 0);
  CHECK(activation_code(std::nanf(""), -10.0f, 117.0f, 10) == 0);
  // The fused epilogue: clip at [0, hi] first (ReLU), add Z, saturate at 255, round.
  CHECK(fused_activation_code(-5.0f, 127.0f, 0) == 0);
  CHECK(fused_activation_code(1e9f, 127.0f, 0) == 127);
  CHECK(fused_activation_code(1e9f, 250.0f, 10) == 255);
  CHECK(fused_activation_code(2.5f, 127.0f, 0) == 2);
}

TEST_CASE("int8: the reduced-range choice follows oneDNN's ISA") {
  // Without VNNI only 8-bit weights need 7-bit activations; ≤ 7-bit weights keep vpmaddubsw's
  // pairs exact (2·255·63 ≤ 32767) with the full range.
  CHECK(choose_int8_activation_range("avx2", 8, Int8ActivationRange::kAuto).activations.qmax ==
        127);
  CHECK(choose_int8_activation_range("avx2", 7, Int8ActivationRange::kAuto).activations.qmax ==
        255);
  CHECK(choose_int8_activation_range("avx2", 4, Int8ActivationRange::kAuto).activations.qmax ==
        255);
  CHECK(
      choose_int8_activation_range("avx512_core", 8, Int8ActivationRange::kAuto).activations.qmax ==
      127);
  CHECK(choose_int8_activation_range("avx512_core_vnni", 8, Int8ActivationRange::kAuto)
            .activations.qmax == 255);
  CHECK(choose_int8_activation_range("avx512_core_bf16", 8, Int8ActivationRange::kAuto)
            .activations.qmax == 255);
  CHECK(choose_int8_activation_range("avx2_vnni", 8, Int8ActivationRange::kAuto).activations.qmax ==
        255);
  CHECK(choose_int8_activation_range("avx512_core_amx", 8, Int8ActivationRange::kAuto)
            .activations.qmax == 255);
  CHECK(choose_int8_activation_range("avx512_core_vnni", 8, Int8ActivationRange::kReduced)
            .activations.qmax == 127);
  CHECK(choose_int8_activation_range("avx2", 8, Int8ActivationRange::kFull).activations.qmax ==
        255);

  // This machine's engines record the choice in every layer's impl string.
  const std::string isa = onednn_effective_isa();
  const Mlp model = random_model({37, 19, 5}, 1);
  const std::vector<float> images = random_images(2, 32, 37);
  const CalibrationSet calibration{images.data(), 32, 37};
  for (const int bits : {8, 4}) {
    CAPTURE(bits);
    QuantSpec spec;
    spec.bits = bits;
    const auto engine = make_onednn_int8_engine(model, spec, calibration);
    const bool reduced = !onednn_isa_has_vnni(isa) && bits == 8;
    for (const LayerKernel& layer : engine->layers()) {
      CAPTURE(layer.impl);
      CHECK(layer.impl.find(reduced ? "act7" : "act8") != std::string::npos);
      CHECK(layer.impl.find(isa) != std::string::npos);
    }
    CHECK(dynamic_cast<Int8Engine&>(*engine).model().range.activations.qmax ==
          (reduced ? 127 : 255));
  }
}

TEST_CASE("int8: oneDNN matches the int8 reference, layer by layer and end to end") {
  const OneThread one_thread;
  observed = {};
  struct Mode {
    const char* name;
    bool static_activations;
    bool fuse;
  };
  const Mode modes[] = {
      {"static fused", true, true}, {"static unfused", true, false}, {"dynamic", false, false}};
  const std::vector<std::vector<int>> shapes = {{37, 19, 5}, {784, 64, 10}};
  std::uint64_t seed = 100;
  for (const std::vector<int>& shape : shapes) {
    for (const int bits : {8, 6, 4}) {
      for (const Mode& mode : modes) {
        ++seed;
        CAPTURE(seed);
        CAPTURE(shape.front());
        CAPTURE(bits);
        CAPTURE(mode.name);
        const Mlp model = random_model(shape, seed);
        const int calibration_count = 64;
        const std::vector<float> calibration_images =
            random_images(seed + 1, calibration_count, shape.front());
        const CalibrationSet calibration{calibration_images.data(), calibration_count,
                                         shape.front()};
        QuantSpec spec;
        spec.bits = bits;
        spec.static_activations = mode.static_activations;
        Int8Options options;
        options.fuse_requantize = mode.fuse;
        const Twins twins = make_twins(model, spec, calibration, options);
        for (const int batch : {1, 3, 64}) {
          CAPTURE(batch);
          const std::vector<float> images = random_images(seed + 2 + batch, batch, shape.front());
          const std::vector<float> fast = run(*twins.fast, images, batch);
          const std::vector<float> ref = run(*twins.ref, images, batch);
          check_each_layer(twins.fast_int8(), batch, fast);
          if (mode.static_activations) check_end_to_end(twins, batch, fast, ref);
        }
      }
    }
  }
  MESSAGE("oneDNN vs reference on identical codes: largest hidden code difference ", observed.code,
          ", largest logit difference / its bound ", observed.logit_over_bound);
}

TEST_CASE("int8: argmax agrees with fp32 on at least 95% of random inputs at 8 bits") {
  const OneThread one_thread;
  const std::uint64_t seed = 7;
  CAPTURE(seed);
  const Mlp model = random_model({784, 64, 10}, seed);
  const int count = 512;
  const std::vector<float> calibration_images = random_images(seed + 1, 256, 784);
  const CalibrationSet calibration{calibration_images.data(), 256, 784};
  const std::vector<float> images = random_images(seed + 2, count, 784);
  const auto fp32 = make_fp32_reference_engine(model);
  const std::vector<float> want = run(*fp32, images, count);
  for (const bool static_activations : {true, false}) {
    CAPTURE(static_activations);
    QuantSpec spec;
    spec.static_activations = static_activations;
    spec.calibration = Calibration::kMinMax;
    const auto engine = make_onednn_int8_engine(model, spec, calibration);
    const std::vector<float> got = run(*engine, images, count);
    int agree = 0;
    for (int m = 0; m < count; ++m) {
      agree +=
          argmax(&got[element_count(m, 10)], 10) == argmax(&want[element_count(m, 10)], 10) ? 1 : 0;
    }
    const std::string mode = static_activations ? "static" : "dynamic";
    MESSAGE(mode, " activations: argmax agrees with fp32 on ", agree, " of ", count);
    CHECK(agree >= 0.95 * count);
  }
}

TEST_CASE("int8: inputs far outside the calibrated range saturate, never wrap") {
  const OneThread one_thread;
  const std::uint64_t seed = 11;
  CAPTURE(seed);
  const Mlp model = random_model({37, 19, 5}, seed);
  const std::vector<float> calibration_images = random_images(seed + 1, 64, 37);
  const CalibrationSet calibration{calibration_images.data(), 64, 37};
  for (const int bits : {8, 4}) {
    CAPTURE(bits);
    QuantSpec spec;
    spec.bits = bits;
    const Twins twins = make_twins(model, spec, calibration);
    const Int8Model& q = twins.fast_int8().model();
    const Int8ActivationParams src = q.layers[0].src;
    const int qmax = q.range.activations.qmax;
    // Far outside, and exactly at the ends of the representable range: the same codes.
    const int batch = 4;
    std::vector<float> far(element_count(batch, 37));
    std::vector<float> edge(far.size());
    Rng rng(seed + 2);
    for (std::size_t i = 0; i < far.size(); ++i) {
      const bool high = rng.below(2) == 1;
      far[i] = high ? 1e6f : -1e6f;
      edge[i] = high ? src.scale * static_cast<float>(qmax - src.zero_point)
                     : src.scale * static_cast<float>(-src.zero_point);
    }
    for (InferenceEngine* engine : {twins.fast.get(), twins.ref.get()}) {
      CAPTURE(engine->kernel());
      const std::vector<float> far_logits = run(*engine, far, batch);
      const auto& int8 = dynamic_cast<const Int8Engine&>(*engine);
      for (const std::uint8_t code : int8.src_codes(0)) CHECK((code == 0 || code == qmax));
      // Hidden values far past the calibrated range: clipped at qmax, not wrapped past it.
      for (const std::uint8_t code : int8.src_codes(1)) CHECK(code <= qmax);
      for (const float v : far_logits) CHECK(std::isfinite(v));
      const std::vector<float> edge_logits = run(*engine, edge, batch);
      CHECK(far_logits == edge_logits);
    }
    const std::vector<float> fast = run(*twins.fast, far, batch);
    check_each_layer(twins.fast_int8(), batch, fast);
  }
}

TEST_CASE("int8: without VNNI the full range saturates vpmaddubsw, the chosen range does not") {
  const OneThread one_thread;
  // One layer, every weight 1 (q_w = 127 at 8 bits), every input at the top of the range: each
  // vpmaddubsw pair is 2·qmax·127, which overflows int16 at qmax = 255 (64770 > 32767).
  Mlp model;
  model.layers.push_back({64, 4, AlignedVector<float>(64 * 4, 1.0f), std::vector<float>(4, 0.0f)});
  const std::vector<float> calibration_images(64 * 8, 1.0f);
  const CalibrationSet calibration{calibration_images.data(), 8, 64};
  const std::vector<float> images(64 * 2, 1.0f);
  QuantSpec spec;
  spec.bits = 8;
  spec.calibration = Calibration::kMinMax;
  for (const Int8ActivationRange range : {Int8ActivationRange::kAuto, Int8ActivationRange::kFull}) {
    const bool full = range == Int8ActivationRange::kFull;
    CAPTURE(full);
    Int8Options options;
    options.range = range;
    const Twins twins = make_twins(model, spec, calibration, options);
    const std::vector<float> fast = run(*twins.fast, images, 2);
    const std::vector<float> ref = run(*twins.ref, images, 2);
    for (std::size_t i = 0; i < ref.size(); ++i) {
      CAPTURE(i);
      CHECK(ref[i] == doctest::Approx(64.0).epsilon(0.01));  // the fp32 answer
      if (full && !isa_has_vnni()) {
        // 32 saturated pairs give 32·32767 instead of 64·32385: about half.
        CHECK(fast[i] < 0.6f * ref[i]);
      } else {
        CHECK(fast[i] == doctest::Approx(ref[i]).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("int8: bad requests are refused with invalid_argument") {
  const Mlp model = random_model({37, 19, 5}, 3);
  const std::vector<float> images = random_images(4, 8, 37);
  const CalibrationSet calibration{images.data(), 8, 37};
  for (const int bits : {1, 9, 32}) {
    CAPTURE(bits);
    QuantSpec spec;
    spec.bits = bits;
    CHECK_THROWS_AS(make_onednn_int8_engine(model, spec, calibration), std::invalid_argument);
    CHECK_THROWS_AS(make_int8_reference_engine(model, spec, calibration), std::invalid_argument);
  }
  QuantSpec spec;
  const CalibrationSet empty{};
  CHECK_THROWS_AS(make_onednn_int8_engine(model, spec, empty), std::invalid_argument);
  CHECK_THROWS_AS(make_int8_reference_engine(model, spec, empty), std::invalid_argument);
  const CalibrationSet wrong_width{images.data(), 8, 36};
  CHECK_THROWS_AS(make_onednn_int8_engine(model, spec, wrong_width), std::invalid_argument);
  // Dynamic activations need no calibration at all.
  spec.static_activations = false;
  CHECK_NOTHROW(make_onednn_int8_engine(model, spec, empty));
  CHECK_NOTHROW(make_int8_reference_engine(model, spec, empty));
}

TEST_CASE("int8: kernel names and model bytes say what runs and what is stored") {
  const Mlp model = random_model({784, 64, 10}, 5);
  const std::vector<float> images = random_images(6, 16, 784);
  const CalibrationSet calibration{images.data(), 16, 784};
  QuantSpec spec;
  Int8Options onednn_only;
  onednn_only.small_batch_below = 0;
  const auto fast = make_onednn_int8_engine(model, spec, calibration, onednn_only);
  const auto ref = make_int8_reference_engine(model, spec, calibration);
  MESSAGE("oneDNN int8 here: ", fast->kernel(), " | ", fast->layers().front().impl, " | ",
          fast->layers().back().impl);
  CHECK(fast->kernel().starts_with("onednn/"));
  CHECK(fast->kernel().ends_with("/int8"));
  CHECK(ref->kernel() == "ref/int8");
  CHECK(fast->layers().size() == 2);
  CHECK(fast->weights() == "real");
  // s8 weights, then per channel the f32 acc_bias and scale of the static epilogue.
  const std::int64_t stored = (784 * 64 + 64 * 10) + (64 + 10) * 2 * 4;
  CHECK(ref->model_bytes() == stored);
  CHECK(fast->model_bytes() >= stored);  // oneDNN's layout may pad
  CHECK(fast->model_bytes() < stored + 4096);
}
