// The bf16 path: float ↔ bf16 rounding, the oneDNN builder's refusal below avx512_core, and —
// where the ISA allows — oneDNN bf16 against its reference twin.
//
// Tolerances, derived (u = 2^-24). A value y = Σ_k x_k·w_k + b summed in fp32 in any order lies
// within K·u·m of the exact sum, where m = Σ_k|x_k·w_k| + |b| is its magnitude; two orders differ
// by at most 2·K·u·m. Rounding to bf16 moves a value by at most half an ulp, 2^-8 relative; two
// nearby values can round one ulp apart, 2^-7. A relative discrepancy r in a layer's inputs
// becomes r·m in its outputs, so the discrepancy relative to the magnitudes grows per layer as
// r_l = (1 + e_l)·(1 + r_{l−1}) − 1, and the magnitudes come from an "absolute" forward pass
// (|x|, |W|, |b|, no ReLU, in fp32). Per layer:
//   oneDNN vs reference twin: e_l = 2^-7 (hidden bf16 rounding) + 2·K·u (sum order);
//   reference twin vs fp32:   e_l = 3·2^-8 (x or hidden, W, output roundings) + 2·K·u.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/base/bf16.h"
#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_onednn_bf16.h"
#include "kernels/engine/onednn_common.h"
#include "kernels/train/train.h"
#include "tests/kernels/engine_test_support.h"

using namespace lowbit::kernels;
using namespace lowbit::kernels::testing;

namespace {

constexpr double kUnitRoundoff = 0x1.0p-24;
constexpr double kBf16Ulp = 0x1.0p-7;      // relative, at worst (7 fraction bits)
constexpr double kBf16HalfUlp = 0x1.0p-8;  // the most a rounding to bf16 moves a value

std::vector<float> random_inputs(std::uint64_t seed, int count, int features) {
  Rng rng(seed);
  std::vector<float> x(element_count(count, features));
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

// The logits' magnitudes |W|·|x| + |b| through every layer (no ReLU), and the relative bound
// r_L for a per-layer discrepancy e_l = rounding + 2·K·u (see the top of the file).
struct Magnitudes {
  std::vector<float> logits;
  double relative = 0.0;
};

Magnitudes magnitudes(const Mlp& model, const std::vector<float>& x, int batch, double rounding) {
  Mlp abs_model = model;
  double relative = 0.0;
  for (DenseLayer& layer : abs_model.layers) {
    for (float& w : layer.weights) w = std::abs(w);
    for (float& b : layer.bias) b = std::abs(b);
    const double per_layer = rounding + 2.0 * layer.inputs * kUnitRoundoff;
    relative = (1.0 + per_layer) * (1.0 + relative) - 1.0;
  }
  std::vector<float> abs_x(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) abs_x[i] = std::abs(x[i]);
  const auto engine = make_fp32_reference_engine(abs_model);
  return {run(*engine, abs_x, batch), relative};
}

bool bf16_isa() { return onednn_isa_has_avx512_core(onednn_effective_isa()); }

// One thread while a test runs (test_onednn_int8.cpp says why).
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

TEST_CASE("bf16: float to bf16 rounds to nearest even and keeps NaN, inf and denormals") {
  CHECK(float_to_bf16(1.0f) == 0x3f80);
  CHECK(float_to_bf16(-2.0f) == 0xc000);
  // Halfway between 0x3f80 and 0x3f81: to the even one; just above halfway: up.
  CHECK(float_to_bf16(std::bit_cast<float>(0x3f808000U)) == 0x3f80);
  CHECK(float_to_bf16(std::bit_cast<float>(0x3f818000U)) == 0x3f82);
  CHECK(float_to_bf16(std::bit_cast<float>(0x3f808001U)) == 0x3f81);
  CHECK(float_to_bf16(std::bit_cast<float>(0x3f807fffU)) == 0x3f80);
  CHECK(float_to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(float_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds past the largest
  CHECK(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  // A NaN whose payload sits only in the low bits would round to inf without the NaN guard.
  CHECK(std::isnan(bf16_to_float(float_to_bf16(std::bit_cast<float>(0x7f800001U)))));
  CHECK(float_to_bf16(std::bit_cast<float>(0x00010000U)) == 0x0001);  // a denormal survives
  CHECK(round_to_bf16(3.0f) == 3.0f);
  CHECK(bf16_to_float(0x4049) == 3.140625f);
}

TEST_CASE("bf16: the oneDNN builder refuses below avx512_core, with the reason") {
  const Mlp model = random_model({37, 19, 5}, 1);
  const std::string isa = onednn_effective_isa();
  if (bf16_isa()) {
    CHECK_NOTHROW(make_onednn_bf16_engine(model));
    MESSAGE("not a refusal here: oneDNN's ISA is ", isa);
    return;
  }
  try {
    make_onednn_bf16_engine(model);
    FAIL("a bf16 engine was built on ", isa);
  } catch (const EngineUnavailable& e) {
    const std::string reason = e.what();
    MESSAGE("refused: ", reason);
    CHECK((reason.find(isa) != std::string::npos ||
           reason.find("unimplemented") != std::string::npos));
    CHECK(reason.find("avx512_core") != std::string::npos);  // what it would need
  }
}

TEST_CASE("bf16: the reference twin stays within the derived bound of fp32") {
  const std::uint64_t seed = 21;
  CAPTURE(seed);
  const Mlp model = random_model({37, 19, 5}, seed);
  const int batch = 16;
  const std::vector<float> x = random_inputs(seed + 1, batch, 37);
  const auto ref = make_bf16_reference_engine(model);
  const auto fp32 = make_fp32_reference_engine(model);
  const std::vector<float> got = run(*ref, x, batch);
  const std::vector<float> want = run(*fp32, x, batch);
  const Magnitudes mag = magnitudes(model, x, batch, 3.0 * kBf16HalfUlp);
  const double relative = mag.relative;
  double worst = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(std::abs(got[i] - want[i]) <= relative * mag.logits[i]);
    worst = std::max(worst, static_cast<double>(std::abs(got[i] - want[i]) / mag.logits[i]));
  }
  MESSAGE("bf16 reference vs fp32: worst |diff| / magnitude ", worst, ", bound ", relative);
  CHECK(ref->kernel() == "ref/bf16");
  CHECK(ref->model_bytes() == (37 * 19 + 19 * 5) * 2 + (19 + 5) * 4);
}

TEST_CASE("bf16: oneDNN matches the bf16 reference where the ISA allows bf16") {
  if (!bf16_isa()) {
    MESSAGE("skipped: oneDNN's ISA ", onednn_effective_isa(), " has no bf16 (needs avx512_core)");
    return;
  }
  const OneThread one_thread;
  for (const std::vector<int>& shape :
       {std::vector<int>{37, 19, 5}, std::vector<int>{784, 64, 10}}) {
    const std::uint64_t seed = 30 + static_cast<std::uint64_t>(shape.front());
    CAPTURE(seed);
    const Mlp model = random_model(shape, seed);
    const auto fast = make_onednn_bf16_engine(model);
    const auto ref = make_bf16_reference_engine(model);
    MESSAGE("oneDNN bf16 here: ", fast->kernel());
    CHECK(fast->kernel().ends_with("/bf16"));
    for (const int batch : {1, 3, 64}) {
      CAPTURE(batch);
      const std::vector<float> x =
          random_inputs(seed + static_cast<std::uint64_t>(batch), batch, shape.front());
      const std::vector<float> got = run(*fast, x, batch);
      const std::vector<float> want = run(*ref, x, batch);
      const Magnitudes mag = magnitudes(model, x, batch, kBf16Ulp);
      for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK(std::abs(got[i] - want[i]) <= mag.relative * mag.logits[i]);
      }
    }
  }
}
