// The fixed (integer-only) path: its three kernels in the avx2 tier against the ref tier, bit for
// bit (integer arithmetic: no tolerance), over edge-case grids and saturation; the whole engine
// avx2 against ref on logits; agreement with fp32 on a trained model; errors; and a test that fails
// when an AVX2 CPU did not get the AVX2 path.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fixed.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/gemm/gemm_u8s8.h"
#include "kernels/gemm/requantize.h"
#include "kernels/model/dataset.h"
#include "kernels/quant/fixed_model.h"
#include "kernels/train/evaluate.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

constexpr InputNormalization kFashionNormalization{0.2860f, 0.3530f};

bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// The avx2 comparisons cannot run on a CPU without AVX2; the test "fixed: an AVX2 CPU runs the
// AVX2 path" is the one that fails if such a skip happens where it should not.
bool skip_without_avx2() {
  if (cpu_has_avx2()) return false;
  MESSAGE("skipped: this CPU has no AVX2");
  return true;
}

template <typename T>
std::vector<T> random_ints(Rng& rng, std::size_t count, std::int64_t lo, std::int64_t hi) {
  std::vector<T> v(count);
  const auto span = static_cast<std::uint64_t>(hi - lo + 1);
  for (T& x : v) x = static_cast<T>(lo + static_cast<std::int64_t>(rng.below(span)));
  return v;
}

// Index of the first element where a and b differ, or -1.
template <typename T>
long first_mismatch(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return static_cast<long>(i);
  }
  return -1;
}

// `count` random images, normalized as the trained models expect.
std::vector<float> random_images(std::uint64_t seed, int count, int features) {
  Rng rng(seed);
  const std::vector<std::uint8_t> pixels =
      random_ints<std::uint8_t>(rng, static_cast<std::size_t>(count * features), 0, 255);
  std::vector<float> images(pixels.size());
  normalize_images(kFashionNormalization, pixels.data(), count, features, images.data());
  return images;
}

std::vector<std::int32_t> run_gemm(GemmU8S8Args args, void (*gemm)(const GemmU8S8Args&)) {
  std::vector<std::int32_t> dst(static_cast<std::size_t>(args.shape.m * args.ld_dst), -7);
  args.dst = dst.data();
  gemm(args);
  return dst;
}

std::vector<std::uint8_t> run_requantize(RequantizeU8Args args,
                                         void (*requantize)(const RequantizeU8Args&)) {
  std::vector<std::uint8_t> dst(static_cast<std::size_t>(args.rows * args.ld_dst), 0xA5);
  args.dst = dst.data();
  requantize(args);
  return dst;
}

}  // namespace

TEST_CASE("u8s8 gemm: avx2 equals ref exactly over K, N and batch grids with padded strides") {
  if (skip_without_avx2()) return;
  for (const int k : {1, 7, 15, 16, 17, 31, 32, 33, 128, 784}) {
    for (const int n : {1, 3, 10, 128}) {
      for (const int batch : {1, 2, 5, 64}) {
        const std::uint64_t seed = static_cast<std::uint64_t>(k * 1000003 + n * 1009 + batch);
        CAPTURE(seed);
        CAPTURE(k);
        CAPTURE(n);
        CAPTURE(batch);
        Rng rng(seed);
        // Odd leading dimensions: rows that do not start on a vector boundary.
        const int ld_src = k + 3;
        const int ld_weights = k + 5;
        const auto src =
            random_ints<std::uint8_t>(rng, static_cast<std::size_t>(batch * ld_src), 0, 255);
        const auto weights =
            random_ints<std::int8_t>(rng, static_cast<std::size_t>(n * ld_weights), -128, 127);
        GemmU8S8Args args;
        args.shape = {batch, n, k};
        args.src = src.data();
        args.ld_src = ld_src;
        args.weights = weights.data();
        args.ld_weights = ld_weights;
        args.ld_dst = n + 1;
        const auto want = run_gemm(args, gemm_u8s8_s32_ref);
        const auto got = run_gemm(args, gemm_u8s8_s32_avx2);
        CHECK(first_mismatch(got, want) == -1);
      }
    }
  }
}

TEST_CASE("u8s8 gemm: the ref is the exact integer dot product") {
  Rng rng(3);
  const int k = 33;
  const auto src = random_ints<std::uint8_t>(rng, 2 * k, 0, 255);
  const auto weights = random_ints<std::int8_t>(rng, 3 * k, -128, 127);
  GemmU8S8Args args;
  args.shape = {2, 3, k};
  args.src = src.data();
  args.ld_src = k;
  args.weights = weights.data();
  args.ld_weights = k;
  args.ld_dst = 3;
  const auto dst = run_gemm(args, gemm_u8s8_s32_ref);
  for (int m = 0; m < 2; ++m) {
    for (int n = 0; n < 3; ++n) {
      std::int64_t sum = 0;
      for (int p = 0; p < k; ++p) sum += std::int64_t{src[m * k + p]} * weights[n * k + p];
      CHECK(dst[m * 3 + n] == sum);
    }
  }
}

TEST_CASE("u8s8 gemm: saturation inputs, all activations 255 against all weights ±127 and −128") {
  // The case vpmaddubsw gets wrong (255·127·2 > INT16_MAX); vpmaddwd on widened operands must not.
  for (const int k : {1, 17, 784}) {
    for (const int weight : {-128, -127, 127}) {
      CAPTURE(k);
      CAPTURE(weight);
      const int n = 10;
      const int batch = 3;
      const std::vector<std::uint8_t> src(static_cast<std::size_t>(batch * k), 255);
      const std::vector<std::int8_t> weights(static_cast<std::size_t>(n * k),
                                             static_cast<std::int8_t>(weight));
      GemmU8S8Args args;
      args.shape = {batch, n, k};
      args.src = src.data();
      args.ld_src = k;
      args.weights = weights.data();
      args.ld_weights = k;
      args.ld_dst = n;
      const std::vector<std::int32_t> want(static_cast<std::size_t>(batch * n), 255 * weight * k);
      CHECK(run_gemm(args, gemm_u8s8_s32_ref) == want);
      if (cpu_has_avx2()) CHECK(run_gemm(args, gemm_u8s8_s32_avx2) == want);
    }
  }
}

TEST_CASE("u8s8 requantize: the ref is within 1 of round(x·M) + Z, clamped") {
  // SRDHM and RDBPOT round twice, so the result may differ from the single rounding of the real
  // product by one step (as gemmlowp's two-rounding scheme allows), and M0 carries 31 bits.
  Rng rng(11);
  const int channels = 16;
  for (int trial = 0; trial < 200; ++trial) {
    CAPTURE(trial);
    std::vector<std::int32_t> multiplier(channels), exponent(channels), bias(channels);
    std::vector<double> real(channels);
    for (int c = 0; c < channels; ++c) {
      real[c] = std::exp2(-20.0 + 23.0 * rng.uniform());  // 2^-20 .. 2^3
      const QuantizedMultiplier q = quantize_multiplier(real[c]);
      multiplier[c] = q.multiplier;
      exponent[c] = q.exponent;
      bias[c] = static_cast<std::int32_t>(rng.below(2001)) - 1000;
    }
    const auto acc = random_ints<std::int32_t>(rng, channels, -3'000'000, 3'000'000);
    const auto zero_point = static_cast<std::int32_t>(rng.below(256));
    RequantizeU8Args args;
    args.rows = 1;
    args.channels = channels;
    args.acc = acc.data();
    args.ld_acc = channels;
    args.bias = bias.data();
    args.multiplier = multiplier.data();
    args.exponent = exponent.data();
    args.zero_point = zero_point;
    args.act_min = std::max(0, zero_point);
    args.ld_dst = channels;
    const auto dst = run_requantize(args, requantize_s32_u8_ref);
    for (int c = 0; c < channels; ++c) {
      const double y = std::round(static_cast<double>(acc[c] + bias[c]) * real[c]) + zero_point;
      const double want = std::clamp(y, static_cast<double>(args.act_min), 255.0);
      CHECK(std::fabs(dst[c] - want) <= 1.0);
    }
  }
}

namespace {

// What a requantization test case draws its accumulators and multipliers from.
enum class RequantCase : std::uint8_t {
  kLayer,  // multipliers from quantize_multiplier over 2^-30..2^10, accumulators up to full range
  kAnyMultiplier,  // raw int32 Q31 values, INT32_MIN × INT32_MIN included (SRDHM's saturation)
  kTies,  // small accumulators and M0 = 2^30 or INT32_MAX with right shifts 0..4: every rounding
          // tie of SRDHM and RDBPOT, negative ones included, lands unclamped in the output
};

}  // namespace

TEST_CASE("u8s8 requantize: avx2 equals ref exactly, channel tails, extremes, ties") {
  if (skip_without_avx2()) return;
  constexpr std::int32_t kInt32Min = std::numeric_limits<std::int32_t>::min();
  constexpr std::int32_t kInt32Max = std::numeric_limits<std::int32_t>::max();
  constexpr std::int32_t kBiasRange = 1000;
  for (const int channels : {1, 7, 8, 9, 10, 64, 67}) {
    for (const int rows : {1, 3}) {
      for (const RequantCase kind :
           {RequantCase::kLayer, RequantCase::kAnyMultiplier, RequantCase::kTies}) {
        const std::uint64_t seed = static_cast<std::uint64_t>(channels * 100 + rows * 10) +
                                   static_cast<std::uint64_t>(kind);
        CAPTURE(seed);
        CAPTURE(channels);
        CAPTURE(rows);
        CAPTURE(static_cast<int>(kind));
        Rng rng(seed);
        const int ld_acc = channels + 2;
        const auto count = static_cast<std::size_t>(rows * ld_acc);
        std::vector<std::int32_t> acc;
        if (kind == RequantCase::kTies) {
          acc = random_ints<std::int32_t>(rng, count, -110, 110);  // |x·M| + Z stays in 0..255
        } else {
          // Half of them the magnitudes a layer produces, half full range (the x clamp), and
          // both ends; the bias is added without overflow (the caller's promise).
          acc =
              random_ints<std::int32_t>(rng, count, kInt32Min + kBiasRange, kInt32Max - kBiasRange);
          for (std::size_t i = 0; i < acc.size(); i += 2) acc[i] /= 1024;
          acc.front() = kInt32Min + kBiasRange;
          acc.back() = kInt32Max - kBiasRange;
        }
        auto bias = random_ints<std::int32_t>(rng, static_cast<std::size_t>(channels), -kBiasRange,
                                              kBiasRange);
        std::vector<std::int32_t> multiplier(channels), exponent(channels);
        for (int c = 0; c < channels; ++c) {
          switch (kind) {
            case RequantCase::kLayer: {
              const QuantizedMultiplier q =
                  quantize_multiplier(std::exp2(-30.0 + 40.0 * rng.uniform()));
              multiplier[c] = q.multiplier;
              exponent[c] = q.exponent;
              break;
            }
            case RequantCase::kAnyMultiplier:
              multiplier[c] = c == 0 ? kInt32Min : static_cast<std::int32_t>(rng.next_u64());
              exponent[c] = c == 0 ? 0 : static_cast<std::int32_t>(rng.below(62)) - 31;  // −31..30
              break;
            case RequantCase::kTies:
              multiplier[c] = rng.below(2) == 0 ? std::int32_t{1} << 30 : kInt32Max;
              exponent[c] = -static_cast<std::int32_t>(rng.below(5));
              bias[static_cast<std::size_t>(c)] /= 100;
              break;
          }
        }
        if (kind == RequantCase::kAnyMultiplier) {
          acc.front() = kInt32Min;  // with bias 0 and M0 = INT32_MIN in channel 0
          bias.front() = 0;
        }
        const auto zero_point =
            kind == RequantCase::kTies ? 128 : static_cast<std::int32_t>(rng.below(256));
        RequantizeU8Args args;
        args.rows = rows;
        args.channels = channels;
        args.acc = acc.data();
        args.ld_acc = ld_acc;
        args.bias = bias.data();
        args.multiplier = multiplier.data();
        args.exponent = exponent.data();
        args.zero_point = zero_point;
        args.act_min = rows == 1 ? 0 : std::max(0, zero_point);  // without and with ReLU
        args.act_max = 255;
        args.ld_dst = channels + 1;
        const auto want = run_requantize(args, requantize_s32_u8_ref);
        const auto got = run_requantize(args, requantize_s32_u8_avx2);
        CHECK(first_mismatch(got, want) == -1);
      }
    }
  }
}

TEST_CASE("u8s8 quantize src: half away from zero, clamped, NaN to 0; avx2 equals ref") {
  const float scale = 0.25f;
  const std::vector<float> src{0.625f,
                               -0.625f,
                               0.375f,
                               -0.375f,
                               1e30f,
                               -1e30f,
                               std::numeric_limits<float>::quiet_NaN(),
                               std::numeric_limits<float>::infinity(),
                               0.0f,
                               -0.0f,
                               0.1249f};
  std::vector<std::uint8_t> dst(src.size());
  quantize_src_u8_ref({src, scale, 100, dst.data()});
  // 0.625/0.25 = 2.5 → 3; −2.5 → −3; 1.5 → 2; −1.5 → −2.
  CHECK(dst == std::vector<std::uint8_t>{103, 97, 102, 98, 255, 0, 0, 255, 100, 100, 100});
  if (skip_without_avx2()) return;
  for (const std::size_t count :
       {std::size_t{1}, std::size_t{8}, std::size_t{13}, std::size_t{784}}) {
    const std::uint64_t seed = 40 + count;
    CAPTURE(seed);
    Rng rng(seed);
    std::vector<float> x(count);
    for (std::size_t i = 0; i < count; ++i) {
      // Exact ties (k + 0.5)·S at every third element, the rest normal around the range.
      x[i] = i % 3 == 0 ? (static_cast<float>(rng.below(600)) - 300.5f) * 0.03125f
                        : static_cast<float>(rng.normal() * 3.0);
    }
    if (count >= 8) x[5] = std::numeric_limits<float>::quiet_NaN();
    std::vector<std::uint8_t> want(count), got(count);
    quantize_src_u8_ref({x, 0.03125f, 120, want.data()});
    quantize_src_u8_avx2({x, 0.03125f, 120, got.data()});
    CHECK(first_mismatch(got, want) == -1);
  }
}

TEST_CASE("fixed engine: avx2 logits equal ref logits bit for bit") {
  if (skip_without_avx2()) return;
  for (const std::vector<int>& sizes :
       {std::vector<int>{784, 64, 10}, std::vector<int>{37, 19, 33, 5}}) {
    for (const int bits : {2, 4, 8}) {
      const std::uint64_t seed = static_cast<std::uint64_t>(sizes[1] * 10 + bits);
      CAPTURE(seed);
      CAPTURE(bits);
      const Mlp model = init_mlp(sizes, seed);
      const std::vector<float> calibration_images = random_images(seed + 1, 128, sizes[0]);
      const CalibrationSet calibration{calibration_images.data(), 128, sizes[0]};
      QuantSpec spec;
      spec.bits = bits;
      auto ref = make_fixed_engine(model, spec, calibration, "ref");
      auto avx2 = make_fixed_engine(model, spec, calibration, "avx2");
      CHECK(ref->kernel() == "lowbit/fixed_u8s8_ref");
      CHECK(avx2->kernel() == "lowbit/fixed_u8s8_avx2");
      for (const int batch : {1, 2, 5, 64}) {
        CAPTURE(batch);
        const std::vector<float> x = random_images(seed + 2 + batch, batch, sizes[0]);
        const std::size_t outputs = static_cast<std::size_t>(batch) * model.outputs();
        std::vector<float> want(outputs), got(outputs);
        ref->forward(x.data(), batch, want.data());
        avx2->forward(x.data(), batch, got.data());
        CHECK(first_mismatch(got, want) == -1);
      }
    }
  }
}

TEST_CASE("fixed engine: an AVX2 CPU runs the AVX2 path") {
  // Fails, rather than skips, when the CPU has AVX2 and "auto" still picks something else: the
  // bit-exactness tests above would then have compared ref with itself.
  if (!cpu_has_avx2()) {
    MESSAGE("this CPU has no AVX2: auto runs ref");
    return;
  }
  REQUIRE(!u8s8_paths().empty());
  CHECK(std::string(u8s8_paths().front().name) == "avx2");
  CHECK(u8s8_paths().front().cpu_supports());
  CHECK(std::string(u8s8_paths().back().name) == "ref");
  const Mlp model = init_mlp({16, 8, 3}, 5);
  const std::vector<float> images = random_images(6, 4, 16);
  auto engine = make_fixed_engine(model, QuantSpec{}, {images.data(), 4, 16}, "auto");
  CHECK(engine->kernel() == "lowbit/fixed_u8s8_avx2");
}

TEST_CASE("fixed engine: metadata, storage and the parameters it derives") {
  const Mlp model = init_mlp({784, 64, 10}, 9);
  const std::vector<float> images = random_images(10, 64, 784);
  QuantSpec spec;
  spec.bits = 4;
  auto engine = make_fixed_engine(model, spec, {images.data(), 64, 784}, "ref");
  CHECK(engine->inputs() == 784);
  CHECK(engine->outputs() == 10);
  CHECK(engine->weights() == "real");
  REQUIRE(engine->layers().size() == 2);
  CHECK(engine->layers()[0].impl.find("Q31 requant") != std::string::npos);
  CHECK(engine->layers()[0].kernel == "lowbit/fixed_u8s8_ref");
  // int8 weights, int32 biases, hidden multiplier + exponent (int32 each), fp64 logit scales.
  CHECK(engine->model_bytes() == 784 * 64 + 64 * 10 + (64 + 10) * 4 + 64 * 8 + 10 * 8);

  const FixedModel fixed = quantize_fixed_model(model, spec, {images.data(), 64, 784});
  REQUIRE(fixed.layers.size() == 2);
  const auto [lowest, highest] =
      std::minmax_element(fixed.layers[0].weights.begin(), fixed.layers[0].weights.end());
  CHECK(*lowest >= -7);  // weight_range(4, kSymmetric)
  CHECK(*highest <= 7);
  // The hidden output is a ReLU output: its range starts at 0, so Z_y = 0 and ReLU clamps at 0.
  CHECK(fixed.layers[0].dst_zero_point == 0);
  CHECK(fixed.layers[0].act_min == 0);
  CHECK(fixed.layers[1].src_scale == fixed.layers[0].dst_scale);
  // Normalized images are negative at black pixels: the input zero point is inside (0, 255).
  CHECK(fixed.layers[0].src_zero_point > 0);
  CHECK(fixed.layers[0].src_zero_point < 255);
}

TEST_CASE("fixed engine: argmax agrees with fp32 on test images of a trained model at 8 bits") {
  // A sanity check, not a bound: with 8-bit activations the logit error is a few tenths of a
  // percent of the logit range, so argmax flips only on images whose two best logits are about
  // that close. How many such images there are depends on the model, so no tight figure can be
  // derived; a wrong zero-point fold, bias scale or multiplier moves logits by whole units and
  // drops agreement far below 95%, and that is what this test is for.
  set_threads(1);
  const LabeledData data = load_fashion_mnist(default_fashion_mnist_dir());
  TrainSpec train;
  train.layers = {784, 64, 10};
  train.epochs = 2;
  train.train_images = 2000;
  train.validation_images = 1000;
  train.seed = 3;
  const Mlp model = train_mlp(train, data.train, {}).model;

  const ImageSet calibration_pixels = data.train.slice(0, 256);
  std::vector<float> calibration_images(static_cast<std::size_t>(256 * 784));
  normalize_images(model.normalization, calibration_pixels.pixels.data(), 256, 784,
                   calibration_images.data());
  QuantSpec spec;
  spec.bits = 8;
  auto fixed = make_fixed_engine(model, spec, {calibration_images.data(), 256, 784});
  auto fp32 = make_fp32_reference_engine(model);
  const ImageSet test = data.test.slice(0, 2000);
  const Evaluation want = evaluate(*fp32, model.normalization, test);
  const Evaluation got = evaluate(*fixed, model.normalization, test);
  const double agree = agreement(got.predictions, want.predictions);
  MESSAGE("fixed/fp32 agreement " << agree << ", top-1 " << got.top1 << " vs " << want.top1);
  CHECK(agree >= 0.95);
}

TEST_CASE("fixed engine: bad bits, empty calibration, unknown path are rejected by name") {
  const Mlp model = init_mlp({8, 4, 2}, 1);
  const std::vector<float> images = random_images(2, 4, 8);
  const CalibrationSet calibration{images.data(), 4, 8};
  for (const int bits : {1, 9, 32}) {
    CAPTURE(bits);
    QuantSpec spec;
    spec.bits = bits;
    CHECK_THROWS_WITH_AS(make_fixed_engine(model, spec, calibration, "ref"),
                         doctest::Contains("bits"), std::invalid_argument);
  }
  CHECK_THROWS_WITH_AS(make_fixed_engine(model, QuantSpec{}, CalibrationSet{}, "ref"),
                       doctest::Contains("calibration set is empty"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_fixed_engine(model, QuantSpec{}, {images.data(), 0, 8}, "ref"),
                       doctest::Contains("calibration set is empty"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_fixed_engine(model, QuantSpec{}, {images.data(), 4, 7}, "ref"),
                       doctest::Contains("features"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_fixed_engine(model, QuantSpec{}, calibration, "cuda"),
                       doctest::Contains("cuda"), std::invalid_argument);
  if (!cpu_has_avx2()) {
    CHECK_THROWS_WITH_AS(make_fixed_engine(model, QuantSpec{}, calibration, "avx2"),
                         doctest::Contains("avx2"), std::invalid_argument);
  }
}
