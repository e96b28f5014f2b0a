// Weight quantization and activation calibration (kernels/quant/quantize.h).
//
// Round-trip tolerance (derived): for w inside its channel's range [lo, hi]
// (both extended to include 0) the nearest code is at most S/2 away, so
// |dequantize(quantize(w)) − w| ≤ S/2 in exact arithmetic. Float adds, with
// u = 2^−24 (one rounding):
//   - w / S is rounded:                      ≤ u·|w|           (times S, in w's units)
//   - S itself is rounded (so are hi − lo and lo / S), which moves the grid's
//     end codes by at most 2u·(|lo| + |hi|), so an end value may sit that much
//     beyond S/2 from its code;
//   - S·(q − Z) is rounded:                  ≤ u·(|w| + S/2).
// Each is ≤ u·(|lo| + |hi|)-ish; we allow S/2 + 4u·(|lo| + |hi|) + u·S.
//
// Random inputs are seeded; the seed is CAPTUREd so a failure can be replayed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/quant/quantize.h"

using namespace lowbit::kernels;

namespace {

constexpr double kUnitRoundoff = std::numeric_limits<float>::epsilon() / 2.0;  // u = 2^−24
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kFloatMax = std::numeric_limits<float>::max();

constexpr QuantScheme kSchemes[] = {QuantScheme::kSymmetric, QuantScheme::kAsymmetric};
constexpr QuantGranularity kGranularities[] = {QuantGranularity::kPerTensor,
                                               QuantGranularity::kPerChannel};

struct Shape {
  int rows;
  int cols;
};
// Odd sizes, single rows and columns, a tall and a wide matrix.
constexpr Shape kShapes[] = {{1, 1}, {1, 13}, {7, 1}, {3, 5}, {17, 31}, {33, 65}, {129, 7}};

// Rows of very different magnitudes (10^−3..10^3) and offsets, some exact
// zeros, so per-tensor and per-channel ranges, and sym/asym, all differ.
std::vector<float> random_matrix(Rng& rng, Shape shape) {
  std::vector<float> m(static_cast<std::size_t>(shape.rows) * static_cast<std::size_t>(shape.cols));
  for (int r = 0; r < shape.rows; ++r) {
    const double magnitude = std::pow(10.0, -3.0 + 6.0 * rng.uniform());
    const double offset = magnitude * (2.0 * rng.uniform() - 1.0);
    for (int c = 0; c < shape.cols; ++c) {
      const double x = rng.below(10) == 0 ? 0.0 : offset + magnitude * rng.normal();
      m[static_cast<std::size_t>(r * shape.cols + c)] = static_cast<float>(x);
    }
  }
  return m;
}

struct Quantized {
  QuantParams params;
  std::vector<std::int8_t> codes;
  std::vector<float> restored;
};

Quantized round_trip(const std::vector<float>& w, Shape shape, int bits, QuantScheme scheme,
                     QuantGranularity granularity) {
  Quantized r;
  r.params = choose_weight_params(w, shape.rows, shape.cols, bits, scheme, granularity);
  r.codes.resize(w.size());
  quantize_weights(w, shape.rows, shape.cols, r.params, r.codes);
  r.restored.resize(w.size());
  dequantize_weights(r.codes, shape.rows, shape.cols, r.params, r.restored);
  return r;
}

double mean_squared_error(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return sum / static_cast<double>(a.size());
}

// The test's own quantize-dequantize of one value (the oracle for the
// calibration error), written from the definition q = clamp(round(x/S) + Z).
double restore(float x, float scale, std::int32_t zero_point, QuantRange range) {
  const double v = std::round(static_cast<double>(x / scale));
  const double q =
      std::clamp(v + zero_point, static_cast<double>(range.qmin), static_cast<double>(range.qmax));
  return static_cast<double>(scale * static_cast<float>(q - zero_point));
}

double total_squared_error(const std::vector<float>& samples, const QuantParams& params) {
  double sum = 0.0;
  for (const float x : samples) {
    const double d = x - restore(x, params.scale[0], params.zero_point[0], params.range);
    sum += d * d;
  }
  return sum;
}

}  // namespace

TEST_CASE("quantize: names round-trip and parsers reject bad strings") {
  for (const QuantScheme s : kSchemes) CHECK(parse_quant_scheme(to_string(s)) == s);
  for (const QuantGranularity g : kGranularities) CHECK(parse_quant_granularity(to_string(g)) == g);
  for (const Calibration c : {Calibration::kMinMax, Calibration::kPercentile, Calibration::kMse}) {
    CHECK(parse_calibration(to_string(c)) == c);
  }
  CHECK(to_string(QuantScheme::kSymmetric) == "sym");
  CHECK(to_string(QuantGranularity::kPerChannel) == "channel");
  CHECK(to_string(Calibration::kPercentile) == "percentile");
  for (const std::string bad : {"", "Sym", "symmetric", " sym", "asym "}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_quant_scheme(bad), std::invalid_argument);
  }
  CHECK_THROWS_AS(parse_quant_granularity("row"), std::invalid_argument);
  CHECK_THROWS_AS(parse_calibration("entropy"), std::invalid_argument);
  // The message names what is allowed.
  try {
    parse_calibration("kl");
    FAIL("parse_calibration accepted \"kl\"");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(what.find("\"kl\"") != std::string::npos);
    CHECK(what.find("\"minmax\"") != std::string::npos);
    CHECK(what.find("\"percentile\"") != std::string::npos);
    CHECK(what.find("\"mse\"") != std::string::npos);
  }
  try {
    parse_quant_granularity("row");
    FAIL("parse_quant_granularity accepted \"row\"");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("\"tensor\"") != std::string::npos);
    CHECK(what.find("\"channel\"") != std::string::npos);
  }
}

TEST_CASE("quantize: code ranges") {
  CHECK(weight_range(8, QuantScheme::kSymmetric).qmin == -127);
  CHECK(weight_range(8, QuantScheme::kSymmetric).qmax == 127);
  CHECK(weight_range(8, QuantScheme::kAsymmetric).qmin == -128);
  CHECK(weight_range(8, QuantScheme::kAsymmetric).qmax == 127);
  CHECK(weight_range(2, QuantScheme::kSymmetric).qmin == -1);
  CHECK(weight_range(2, QuantScheme::kSymmetric).qmax == 1);
  CHECK(weight_range(4, QuantScheme::kAsymmetric).qmin == -8);
  CHECK(weight_range(4, QuantScheme::kAsymmetric).qmax == 7);
  CHECK(activation_range(8, true).qmin == 0);
  CHECK(activation_range(8, true).qmax == 255);
  CHECK(activation_range(8, false).qmin == -128);
  CHECK(activation_range(8, false).qmax == 127);
  CHECK(activation_range(3, true).qmax == 7);
  for (const int bad : {-1, 0, 1, 9, 16}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(weight_range(bad, QuantScheme::kSymmetric), std::invalid_argument);
    CHECK_THROWS_AS(activation_range(bad, true), std::invalid_argument);
  }
}

TEST_CASE("quantize: params_from_range matches hand-computed values") {
  float s = 0.0f;
  std::int32_t z = 0;
  const QuantRange u8{0, 255};
  const QuantRange s8{-128, 127};
  const QuantRange s8_sym{-127, 127};

  // lo = −1, hi = 3 into [0, 255]: S = 4/255, Z = 0 − round(−1/S) = round(63.75) = 64.
  params_from_range(-1.0f, 3.0f, QuantScheme::kAsymmetric, u8, s, z);
  CHECK(s == 4.0f / 255.0f);
  CHECK(z == 64);
  // The same range in a signed code: Z = −128 + 64.
  params_from_range(-1.0f, 3.0f, QuantScheme::kAsymmetric, s8, s, z);
  CHECK(s == 4.0f / 255.0f);
  CHECK(z == -64);
  // Symmetric: S = max(2, 1) / 127, Z = 0.
  params_from_range(-2.0f, 1.0f, QuantScheme::kSymmetric, s8_sym, s, z);
  CHECK(s == 2.0f / 127.0f);
  CHECK(z == 0);
  // Symmetric in [−128, 127]: (qmax − qmin)/2 = 127.5, as PyTorch.
  params_from_range(-2.0f, 1.0f, QuantScheme::kSymmetric, s8, s, z);
  CHECK(s == 2.0f / 127.5f);
  CHECK(z == 0);
  // Symmetric unsigned: PyTorch's quint8 midpoint, Z = 128.
  params_from_range(0.0f, 5.1f, QuantScheme::kSymmetric, u8, s, z);
  CHECK(s == 5.1f / 127.5f);
  CHECK(z == 128);
  // The range is extended to include 0.
  params_from_range(0.5f, 2.0f, QuantScheme::kAsymmetric, u8, s, z);
  CHECK(s == 2.0f / 255.0f);
  CHECK(z == 0);
  params_from_range(-3.0f, -1.0f, QuantScheme::kAsymmetric, u8, s, z);
  CHECK(s == 3.0f / 255.0f);
  CHECK(z == 255);
  // Z's rounding is torch.round: ties to even. [0, 3] codes, S = 1:
  // lo/S = −0.5 → 0 (not −1), −1.5 → −2.
  params_from_range(-0.5f, 2.5f, QuantScheme::kAsymmetric, QuantRange{0, 3}, s, z);
  CHECK(s == 1.0f);
  CHECK(z == 0);
  params_from_range(-1.5f, 1.5f, QuantScheme::kAsymmetric, QuantRange{0, 3}, s, z);
  CHECK(s == 1.0f);
  CHECK(z == 2);
  // The scale's floor: FLT_EPSILON.
  params_from_range(0.0f, 1e-10f, QuantScheme::kAsymmetric, u8, s, z);
  CHECK(s == std::numeric_limits<float>::epsilon());
  params_from_range(-1e-10f, 0.0f, QuantScheme::kSymmetric, s8_sym, s, z);
  CHECK(s == std::numeric_limits<float>::epsilon());
  // All zero: S = 1, Z = 0 (or the symmetric unsigned midpoint).
  params_from_range(0.0f, 0.0f, QuantScheme::kAsymmetric, u8, s, z);
  CHECK(s == 1.0f);
  CHECK(z == 0);
  params_from_range(0.0f, 0.0f, QuantScheme::kSymmetric, s8_sym, s, z);
  CHECK(s == 1.0f);
  CHECK(z == 0);
  params_from_range(0.0f, 0.0f, QuantScheme::kSymmetric, u8, s, z);
  CHECK(s == 1.0f);
  CHECK(z == 128);
  // Zero is exactly representable for any range, code and scheme: it
  // quantizes to Z, which dequantizes to S·0 = 0.
  const std::uint64_t seed = 0x9a11'0005;
  CAPTURE(seed);
  Rng rng(seed);
  for (int i = 0; i < 2'000; ++i) {
    const float a =
        static_cast<float>(std::ldexp(rng.normal(), static_cast<int>(rng.below(40)) - 20));
    const float b =
        static_cast<float>(std::ldexp(rng.normal(), static_cast<int>(rng.below(40)) - 20));
    const int bits = 2 + static_cast<int>(rng.below(7));
    const QuantScheme scheme = kSchemes[rng.below(2)];
    const QuantRange range = activation_range(bits, rng.below(2) == 0);
    CAPTURE(a);
    CAPTURE(b);
    CAPTURE(bits);
    params_from_range(std::min(a, b), std::max(a, b), scheme, range, s, z);
    REQUIRE(z >= range.qmin);
    REQUIRE(z <= range.qmax);
    const std::int32_t q = quantize_value(0.0f, s, z, range);
    CHECK(q == z);
    CHECK(s * static_cast<float>(q - z) == 0.0f);
  }
  // Rejected.
  CHECK_THROWS_AS(params_from_range(1.0f, -1.0f, QuantScheme::kAsymmetric, u8, s, z),
                  std::invalid_argument);
  CHECK_THROWS_AS(params_from_range(std::nanf(""), 1.0f, QuantScheme::kAsymmetric, u8, s, z),
                  std::invalid_argument);
  CHECK_THROWS_AS(params_from_range(-kInf, 1.0f, QuantScheme::kSymmetric, s8_sym, s, z),
                  std::invalid_argument);
}

TEST_CASE("quantize: round trip within S/2 for every bits × scheme × granularity") {
  const std::uint64_t seed = 0x9a11'0001;
  CAPTURE(seed);
  Rng rng(seed);
  int checked = 0;
  for (const Shape shape : kShapes) {
    const std::vector<float> w = random_matrix(rng, shape);
    for (int bits = 2; bits <= 8; ++bits) {
      for (const QuantScheme scheme : kSchemes) {
        for (const QuantGranularity granularity : kGranularities) {
          CAPTURE(shape.rows);
          CAPTURE(shape.cols);
          CAPTURE(bits);
          CAPTURE(to_string(scheme));
          CAPTURE(to_string(granularity));
          const Quantized r = round_trip(w, shape, bits, scheme, granularity);
          const QuantRange range = weight_range(bits, scheme);
          const bool per_channel = granularity == QuantGranularity::kPerChannel;
          REQUIRE(r.params.scale.size() ==
                  (per_channel ? static_cast<std::size_t>(shape.rows) : 1));
          for (int row = 0; row < shape.rows; ++row) {
            const std::size_t c = per_channel ? static_cast<std::size_t>(row) : 0;
            const float scale = r.params.scale[c];
            if (scheme == QuantScheme::kSymmetric) CHECK(r.params.zero_point[c] == 0);
            // The channel's range, extended to include 0.
            const auto first = per_channel ? w.begin() + row * shape.cols : w.begin();
            const auto last = per_channel ? first + shape.cols : w.end();
            const double lo = std::min(0.0f, *std::min_element(first, last));
            const double hi = std::max(0.0f, *std::max_element(first, last));
            const double tolerance =
                scale / 2.0 + 4.0 * kUnitRoundoff * (std::fabs(lo) + hi) + kUnitRoundoff * scale;
            for (int col = 0; col < shape.cols; ++col) {
              const auto i = static_cast<std::size_t>(row * shape.cols + col);
              CAPTURE(w[i]);
              CAPTURE(r.restored[i]);
              REQUIRE(r.codes[i] >= range.qmin);
              REQUIRE(r.codes[i] <= range.qmax);
              CHECK(std::fabs(static_cast<double>(r.restored[i]) - w[i]) <= tolerance);
              if (w[i] == 0.0f) CHECK(r.restored[i] == 0.0f);
              ++checked;
            }
          }
          // fake_quantize_weights is the same round trip in one call.
          CHECK(fake_quantize_weights(w, shape.rows, shape.cols, bits, scheme, granularity) ==
                r.restored);
        }
      }
    }
  }
  CHECK(checked > 100'000);
}

TEST_CASE("quantize: values outside the range saturate to qmin/qmax exactly") {
  const std::uint64_t seed = 0x9a11'0002;
  CAPTURE(seed);
  Rng rng(seed);
  const Shape shape{3, 8};
  std::vector<float> base(24);
  for (float& x : base) x = static_cast<float>(2.0 * rng.uniform() - 1.0);  // within ±1
  // Far beyond ±1, including ±inf and ±FLT_MAX (w / S overflows to ±inf).
  const std::vector<float> outside = {
      -1.5f, -2.0f, -10.0f, -1e6f, -1e30f, -kFloatMax, -kInf, -3.0f,  // row 0
      1.5f,  2.0f,  10.0f,  1e6f,  1e30f,  kFloatMax,  kInf,  3.0f,   // row 1
      -1.5f, 2.0f,  -10.0f, 1e6f,  -1e30f, kFloatMax,  -kInf, 3.0f};  // row 2
  for (int bits = 2; bits <= 8; ++bits) {
    for (const QuantScheme scheme : kSchemes) {
      for (const QuantGranularity granularity : kGranularities) {
        CAPTURE(bits);
        CAPTURE(to_string(scheme));
        CAPTURE(to_string(granularity));
        const QuantParams params =
            choose_weight_params(base, shape.rows, shape.cols, bits, scheme, granularity);
        std::vector<std::int8_t> q(outside.size());
        quantize_weights(outside, shape.rows, shape.cols, params, q);
        for (std::size_t i = 0; i < q.size(); ++i) {
          CAPTURE(outside[i]);
          CHECK(static_cast<int>(q[i]) == (outside[i] < 0 ? params.range.qmin : params.range.qmax));
        }
      }
    }
  }
}

TEST_CASE("quantize: symmetric weights never use the most negative code") {
  const std::uint64_t seed = 0x9a11'0003;
  CAPTURE(seed);
  Rng rng(seed);
  const Shape shape{9, 21};
  std::vector<float> w = random_matrix(rng, shape);
  for (int bits = 2; bits <= 8; ++bits) {
    for (const QuantGranularity granularity : kGranularities) {
      CAPTURE(bits);
      CAPTURE(to_string(granularity));
      const QuantParams params = choose_weight_params(w, shape.rows, shape.cols, bits,
                                                      QuantScheme::kSymmetric, granularity);
      // Quantize something more negative than the calibration range too.
      std::vector<float> x = w;
      for (std::size_t i = 0; i < x.size(); i += 5) x[i] = -1e30f;
      std::vector<std::int8_t> q(x.size());
      quantize_weights(x, shape.rows, shape.cols, params, q);
      const int most_negative = -(1 << (bits - 1));
      CHECK(*std::min_element(q.begin(), q.end()) == most_negative + 1);
      CHECK(*std::max_element(q.begin(), q.end()) <= -(most_negative + 1));
    }
  }
}

TEST_CASE("quantize: per-channel beats per-tensor on rows of different magnitudes") {
  const std::uint64_t seed = 0x9a11'0004;
  CAPTURE(seed);
  Rng rng(seed);
  // Row r has magnitude 10^(r − 3): one tensor scale, set by the largest row,
  // rounds the small rows to (nearly) zero.
  const Shape shape{7, 50};
  std::vector<float> w(350);
  for (int r = 0; r < shape.rows; ++r) {
    for (int c = 0; c < shape.cols; ++c) {
      w[static_cast<std::size_t>(r * shape.cols + c)] =
          static_cast<float>(std::pow(10.0, r - 3) * rng.normal());
    }
  }
  for (int bits = 2; bits <= 8; ++bits) {
    for (const QuantScheme scheme : kSchemes) {
      CAPTURE(bits);
      CAPTURE(to_string(scheme));
      const double tensor_mse = mean_squared_error(
          w, round_trip(w, shape, bits, scheme, QuantGranularity::kPerTensor).restored);
      const double channel_mse = mean_squared_error(
          w, round_trip(w, shape, bits, scheme, QuantGranularity::kPerChannel).restored);
      CAPTURE(tensor_mse);
      CAPTURE(channel_mse);
      CHECK(channel_mse < tensor_mse);
      // Relative to each row's own energy the gap is large: the small rows are lost per tensor.
      const std::vector<float> small_rows(w.begin(), w.begin() + 3 * shape.cols);
      const Quantized tensor = round_trip(w, shape, bits, scheme, QuantGranularity::kPerTensor);
      const Quantized channel = round_trip(w, shape, bits, scheme, QuantGranularity::kPerChannel);
      const std::vector<float> tensor_small(tensor.restored.begin(),
                                            tensor.restored.begin() + 3 * shape.cols);
      const std::vector<float> channel_small(channel.restored.begin(),
                                             channel.restored.begin() + 3 * shape.cols);
      CHECK(mean_squared_error(small_rows, channel_small) <
            0.5 * mean_squared_error(small_rows, tensor_small));
    }
  }
}

TEST_CASE("quantize: constant and all-zero tensors") {
  const Shape shape{4, 6};
  for (int bits = 2; bits <= 8; ++bits) {
    for (const QuantScheme scheme : kSchemes) {
      for (const QuantGranularity granularity : kGranularities) {
        CAPTURE(bits);
        CAPTURE(to_string(scheme));
        CAPTURE(to_string(granularity));
        // All zero: S = 1, Z = 0, every code 0, every value restored to exactly 0.
        const std::vector<float> zeros(24, 0.0f);
        const Quantized z = round_trip(zeros, shape, bits, scheme, granularity);
        for (std::size_t c = 0; c < z.params.scale.size(); ++c) {
          CHECK(z.params.scale[c] == 1.0f);
          CHECK(z.params.zero_point[c] == 0);
        }
        CHECK(std::all_of(z.codes.begin(), z.codes.end(), [](std::int8_t q) { return q == 0; }));
        CHECK(std::all_of(z.restored.begin(), z.restored.end(), [](float x) { return x == 0.0f; }));
        // A constant c is an end of its range [min(c, 0), max(c, 0)], so it
        // maps to an end code and comes back as S·(±levels): two roundings
        // (S, then the product), each relative u.
        for (const float c : {0.37f, -2.5f, 1e-4f, 3e4f}) {
          CAPTURE(c);
          const std::vector<float> constant(24, c);
          const Quantized k = round_trip(constant, shape, bits, scheme, granularity);
          for (const float x : k.restored) {
            CHECK(std::fabs(static_cast<double>(x) - c) <=
                  2.0 * kUnitRoundoff * (1.0 + kUnitRoundoff) * std::fabs(c));
          }
        }
      }
    }
  }
}

TEST_CASE("quantize: shape and parameter mismatches are rejected") {
  const std::vector<float> w(6, 1.0f);
  CHECK_THROWS_AS(
      choose_weight_params(w, 2, 4, 8, QuantScheme::kSymmetric, QuantGranularity::kPerChannel),
      std::invalid_argument);
  CHECK_THROWS_AS(
      choose_weight_params(w, 0, 6, 8, QuantScheme::kSymmetric, QuantGranularity::kPerChannel),
      std::invalid_argument);
  CHECK_THROWS_AS(
      choose_weight_params(w, 2, 3, 9, QuantScheme::kSymmetric, QuantGranularity::kPerChannel),
      std::invalid_argument);
  std::vector<float> with_nan = w;
  with_nan[4] = std::nanf("");
  CHECK_THROWS_AS(choose_weight_params(with_nan, 2, 3, 8, QuantScheme::kSymmetric,
                                       QuantGranularity::kPerTensor),
                  std::invalid_argument);
  const QuantParams per_row =
      choose_weight_params(w, 2, 3, 8, QuantScheme::kSymmetric, QuantGranularity::kPerChannel);
  std::vector<std::int8_t> q(6);
  // Per-row parameters for 2 rows do not fit a 3-row matrix.
  CHECK_THROWS_AS(quantize_weights(w, 3, 2, per_row, q), std::invalid_argument);
  std::vector<std::int8_t> short_dst(5);
  CHECK_THROWS_AS(quantize_weights(w, 2, 3, per_row, short_dst), std::invalid_argument);
}

TEST_CASE("calibration: minmax uses the exact extremes") {
  const std::uint64_t seed = 0xca1b'0001;
  CAPTURE(seed);
  Rng rng(seed);
  std::vector<float> samples(5'000);
  for (float& x : samples) x = static_cast<float>(0.3 + 2.0 * rng.normal());
  const float lo = *std::min_element(samples.begin(), samples.end());
  const float hi = *std::max_element(samples.begin(), samples.end());
  for (const QuantScheme scheme : kSchemes) {
    for (const bool is_unsigned : {true, false}) {
      for (const int bits : {2, 4, 8}) {
        CAPTURE(to_string(scheme));
        CAPTURE(is_unsigned);
        CAPTURE(bits);
        const QuantParams p =
            calibrate_activation(samples, bits, is_unsigned, scheme, Calibration::kMinMax);
        float s = 0.0f;
        std::int32_t z = 0;
        params_from_range(lo, hi, scheme, activation_range(bits, is_unsigned), s, z);
        REQUIRE(p.scale.size() == 1);
        CHECK(p.scale[0] == s);
        CHECK(p.zero_point[0] == z);
        CHECK(p.range.qmin == activation_range(bits, is_unsigned).qmin);
        CHECK(p.range.qmax == activation_range(bits, is_unsigned).qmax);
      }
    }
  }
}

TEST_CASE("calibration: percentile follows numpy's definition and clips an outlier") {
  // 0, 1, ..., 100 shuffled: numpy.percentile(x, 90.5) = 90.5 (h = 90.5,
  // between 90 and 91), percentile(x, 9.5) = 9.5 → extended to include 0.
  std::vector<float> ramp(101);
  std::iota(ramp.begin(), ramp.end(), 0.0f);
  Rng shuffle_rng(7);
  shuffle_rng.shuffle(std::span<float>(ramp));
  QuantParams p =
      calibrate_activation(ramp, 8, true, QuantScheme::kAsymmetric, Calibration::kPercentile, 90.5);
  CHECK(p.scale[0] == 90.5f / 255.0f);
  CHECK(p.zero_point[0] == 0);
  // Symmetric takes the percentile of |x|: −50..50 has |x| = 0, 1, 1, 2, 2, ...,
  // whose 90th percentile (h = 90) is 45.
  std::vector<float> centred(101);
  std::iota(centred.begin(), centred.end(), -50.0f);
  p = calibrate_activation(centred, 8, false, QuantScheme::kSymmetric, Calibration::kPercentile,
                           90.0);
  CHECK(p.scale[0] == 45.0f / 127.5f);
  CHECK(p.zero_point[0] == 0);
  // 100th percentile is min-max.
  p = calibrate_activation(centred, 8, false, QuantScheme::kAsymmetric, Calibration::kPercentile,
                           100.0);
  CHECK(p.scale[0] == 100.0f / 255.0f);

  // One outlier among 10^4 values in [−1, 1): min-max stretches the range
  // 1000×; the 99.99th percentile of the 10^4 + 1 values has h = 10^4·0.9999
  // = 9999, exactly the largest bulk value (and the 0.01th, h = 1, the
  // second smallest), so the clipped range stays within [−1, 1].
  const std::uint64_t seed = 0xca1b'0002;
  CAPTURE(seed);
  Rng rng(seed);
  std::vector<float> samples(10'000);
  for (float& x : samples) x = static_cast<float>(2.0 * rng.uniform() - 1.0);
  samples.push_back(1000.0f);
  for (const QuantScheme scheme : kSchemes) {
    CAPTURE(to_string(scheme));
    const QuantParams minmax =
        calibrate_activation(samples, 8, false, scheme, Calibration::kMinMax);
    const QuantParams clipped =
        calibrate_activation(samples, 8, false, scheme, Calibration::kPercentile, 99.99);
    // Symmetric: t < 1, S = t/127.5; affine: hi − lo < 2, S = (hi − lo)/255.
    CHECK(clipped.scale[0] <= 2.0f / 255.0f);
    CHECK(minmax.scale[0] >= 1000.0f / 255.0f);
    // The point of clipping: the bulk keeps its resolution (it pays with the
    // outlier's error, ~1000², which the total squared error would weigh more
    // — percentile does not minimize it; kMse does).
    const std::vector<float> bulk(samples.begin(), samples.end() - 1);
    CHECK(total_squared_error(bulk, clipped) < 1e-3 * total_squared_error(bulk, minmax));
  }
}

TEST_CASE("calibration: mse is never worse than minmax, and much better with an outlier") {
  const std::uint64_t seed = 0xca1b'0003;
  CAPTURE(seed);
  Rng rng(seed);
  // Gaussian bulk with a few heavy outliers (50σ), as a layer's input can have.
  std::vector<float> heavy(10'000);
  for (float& x : heavy) x = static_cast<float>(rng.normal());
  for (int i = 0; i < 5; ++i)
    heavy[rng.below(heavy.size())] = static_cast<float>(50.0 - 100.0 * (i % 2));
  // Post-ReLU-like: half zeros, an exponential tail.
  std::vector<float> relu(10'000);
  for (float& x : relu)
    x = rng.below(2) == 0 ? 0.0f : static_cast<float>(-std::log(1.0 - rng.uniform()));
  // Uniform: min-max is already (nearly) optimal.
  std::vector<float> uniform(10'000);
  for (float& x : uniform) x = static_cast<float>(4.0 * rng.uniform() - 1.0);
  for (const std::vector<float>* data : {&heavy, &relu, &uniform}) {
    for (const QuantScheme scheme : kSchemes) {
      for (const bool is_unsigned : {true, false}) {
        for (int bits = 2; bits <= 8; ++bits) {
          const char* name = data == &heavy ? "heavy" : data == &relu ? "relu" : "uniform";
          CAPTURE(name);
          CAPTURE(to_string(scheme));
          CAPTURE(is_unsigned);
          CAPTURE(bits);
          const double minmax = total_squared_error(
              *data, calibrate_activation(*data, bits, is_unsigned, scheme, Calibration::kMinMax));
          const double mse = total_squared_error(
              *data, calibrate_activation(*data, bits, is_unsigned, scheme, Calibration::kMse));
          CAPTURE(minmax);
          CAPTURE(mse);
          CHECK(mse <= minmax);
        }
      }
    }
  }
  // A constructed case: n = 20,000 from N(0, 1) and one outlier at 20, at 4
  // bits (signed, symmetric: S = t/7.5). Min-max has S = 20/7.5 ≈ 2.7, so most
  // of the bulk rounds to 0: error ≈ Σ_{|x|<1.33} x² + … ≈ 0.4·n ≈ 8,000.
  // Clipping at t ≈ 3 gives S = 0.4, error ≈ n·S²/12 ≈ 270 for the bulk plus
  // (20 − 3)² ≈ 290 for the outlier — over ten times less.
  // (A single far outlier is not worth clipping at 8 bits: its own error
  // (x_max − t)² outweighs the bulk's n·S²/12, and kMse rightly keeps min-max.)
  std::vector<float> one_outlier(20'000);
  for (float& x : one_outlier) x = static_cast<float>(rng.normal());
  one_outlier[123] = 20.0f;
  const QuantParams minmax =
      calibrate_activation(one_outlier, 4, false, QuantScheme::kSymmetric, Calibration::kMinMax);
  const QuantParams mse =
      calibrate_activation(one_outlier, 4, false, QuantScheme::kSymmetric, Calibration::kMse);
  CHECK(total_squared_error(one_outlier, mse) < 0.1 * total_squared_error(one_outlier, minmax));
  CHECK(mse.scale[0] < 0.25f * minmax.scale[0]);
  // At 8 bits a heavy (Laplace) tail is worth clipping: min-max sits at the
  // largest of n draws (≈ ln n scales), the optimum near 10 scales (Banner et
  // al. 2019, ACIQ), so kMse must be strictly better.
  std::vector<float> laplace(100'000);
  for (float& x : laplace) {
    const double magnitude = -std::log(1.0 - rng.uniform());
    x = static_cast<float>(rng.below(2) == 0 ? magnitude : -magnitude);
  }
  const double laplace_minmax = total_squared_error(
      laplace,
      calibrate_activation(laplace, 8, false, QuantScheme::kSymmetric, Calibration::kMinMax));
  const double laplace_mse = total_squared_error(
      laplace, calibrate_activation(laplace, 8, false, QuantScheme::kSymmetric, Calibration::kMse));
  CAPTURE(laplace_minmax);
  CAPTURE(laplace_mse);
  CHECK(laplace_mse < 0.9 * laplace_minmax);
}

TEST_CASE("calibration: mse finds the best clipping range of a brute-force search") {
  // The exhaustive reference: every clipping range on a linear grid (1-D for
  // symmetric, 2-D over both ends for affine), each evaluated with the test's
  // own quantizer. kMse must do at least as well up to 1 %: its own grid is
  // ~0.3 % apart near the optimum and the reference's is coarser, so either
  // may land a little better on the (slightly jagged, with 1,000 samples)
  // error curve; a search stuck in a wrong basin is off by several %.
  const std::uint64_t seed = 0xca1b'0004;
  CAPTURE(seed);
  Rng rng(seed);
  std::vector<float> samples(1'000);
  // Off-centre, with a heavier 5 % tail: neither min-max nor symmetric is optimal.
  for (float& x : samples)
    x = static_cast<float>(0.7 + rng.normal() * (rng.below(20) == 0 ? 6.0 : 1.0));
  const float lo = std::min(0.0f, *std::min_element(samples.begin(), samples.end()));
  const float hi = std::max(0.0f, *std::max_element(samples.begin(), samples.end()));
  auto error_of = [&](float a, float b, QuantScheme scheme, QuantRange range) {
    QuantParams p;
    p.range = range;
    p.scale.resize(1);
    p.zero_point.resize(1);
    params_from_range(a, b, scheme, range, p.scale[0], p.zero_point[0]);
    return total_squared_error(samples, p);
  };
  for (const int bits : {3, 4, 8}) {
    CAPTURE(bits);
    const QuantRange range = activation_range(bits, false);
    double best_sym = std::numeric_limits<double>::infinity();
    constexpr int kSymmetricSteps = 1'000;
    const float amax = std::max(-lo, hi);
    for (int i = 1; i <= kSymmetricSteps; ++i) {
      const float t = amax * static_cast<float>(i) / kSymmetricSteps;
      best_sym = std::min(best_sym, error_of(-t, t, QuantScheme::kSymmetric, range));
    }
    double best_affine = std::numeric_limits<double>::infinity();
    constexpr int kAffineSteps = 50;
    for (int i = 0; i <= kAffineSteps; ++i) {
      for (int j = 1; j <= kAffineSteps; ++j) {
        const float a = lo * static_cast<float>(i) / kAffineSteps;
        const float b = hi * static_cast<float>(j) / kAffineSteps;
        best_affine = std::min(best_affine, error_of(a, b, QuantScheme::kAsymmetric, range));
      }
    }
    const double found_sym = total_squared_error(
        samples,
        calibrate_activation(samples, bits, false, QuantScheme::kSymmetric, Calibration::kMse));
    const double found_affine = total_squared_error(
        samples,
        calibrate_activation(samples, bits, false, QuantScheme::kAsymmetric, Calibration::kMse));
    CAPTURE(best_sym);
    CAPTURE(found_sym);
    CAPTURE(best_affine);
    CAPTURE(found_affine);
    CHECK(found_sym <= best_sym * 1.01);
    CHECK(found_affine <= best_affine * 1.01);
  }
}

TEST_CASE("calibration: a full-size calibration set (1024 images × 784 values)") {
  // The size the engines calibrate on; every method must handle it (and fast:
  // the kMse search costs one sort plus ~2^bits lookups per candidate).
  const std::uint64_t seed = 0xca1b'0005;
  CAPTURE(seed);
  Rng rng(seed);
  std::vector<float> samples(1024 * 784);
  // Like normalized images: a background value on most pixels, a spread of ink.
  for (float& x : samples) {
    x = rng.below(2) == 0 ? -0.81f : static_cast<float>(-0.81 + 2.8 * rng.uniform());
  }
  for (const QuantScheme scheme : kSchemes) {
    CAPTURE(to_string(scheme));
    const QuantParams minmax = calibrate_activation(samples, 8, true, scheme, Calibration::kMinMax);
    const QuantParams mse = calibrate_activation(samples, 8, true, scheme, Calibration::kMse);
    const QuantParams pct =
        calibrate_activation(samples, 8, true, scheme, Calibration::kPercentile);
    CHECK(total_squared_error(samples, mse) <= total_squared_error(samples, minmax));
    CHECK(pct.scale[0] <= minmax.scale[0]);
    CHECK(pct.scale[0] > 0.9f * minmax.scale[0]);  // nothing to clip: the data are bounded
  }
}

TEST_CASE("calibration: degenerate and invalid samples") {
  const std::vector<float> zeros(100, 0.0f);
  for (const Calibration method :
       {Calibration::kMinMax, Calibration::kPercentile, Calibration::kMse}) {
    for (const QuantScheme scheme : kSchemes) {
      CAPTURE(to_string(method));
      CAPTURE(to_string(scheme));
      const QuantParams p = calibrate_activation(zeros, 8, false, scheme, method);
      CHECK(p.scale[0] == 1.0f);
      CHECK(p.zero_point[0] == 0);
      // Zero is exactly representable whatever the calibration chose.
      const std::vector<float> mixed = {0.0f, 3.0f, -0.25f, 0.0f, 7.5f};
      const QuantParams m = calibrate_activation(mixed, 8, true, scheme, method);
      CHECK(restore(0.0f, m.scale[0], m.zero_point[0], m.range) == 0.0);
    }
  }
  const std::vector<float> empty;
  CHECK_THROWS_AS(
      calibrate_activation(empty, 8, true, QuantScheme::kAsymmetric, Calibration::kMinMax),
      std::invalid_argument);
  std::vector<float> bad = {1.0f, 2.0f, std::nanf("")};
  CHECK_THROWS_AS(calibrate_activation(bad, 8, true, QuantScheme::kAsymmetric, Calibration::kMse),
                  std::invalid_argument);
  bad[2] = kInf;
  CHECK_THROWS_AS(
      calibrate_activation(bad, 8, true, QuantScheme::kAsymmetric, Calibration::kMinMax),
      std::invalid_argument);
  const std::vector<float> good = {1.0f, 2.0f, -1.0f};
  for (const double p : {49.0, 100.5, -1.0, std::nan("")}) {
    CAPTURE(p);
    CHECK_THROWS_AS(
        calibrate_activation(good, 8, true, QuantScheme::kSymmetric, Calibration::kPercentile, p),
        std::invalid_argument);
  }
  CHECK_THROWS_AS(
      calibrate_activation(good, 9, true, QuantScheme::kSymmetric, Calibration::kMinMax),
      std::invalid_argument);
}
