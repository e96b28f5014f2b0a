// The fp16 path: software half conversions (kernels/base/half.h) against their definition and F16C,
// every fast gemm_f32f16 kernel against the reference on an edge grid, and the fp16 engine
// against an fp32 engine run on the same half-rounded weights.
//
// Tolerance of a kernel against the reference (derived, per element). Both compute with the same
// half weights, converted exactly (every half is a float), and every product x·w is exact inside
// an FMA (and in the reference's double). So the only difference is the summation: a float sum
// of K terms in any order (lanes, tiles, horizontal sums), each term rounded at most K times on
// its way, is within γ_K · Σ_k |x_k · w_k| of the exact sum, with γ_K = K·u / (1 − K·u) and
// u = 2⁻²⁴ (Higham, Accuracy and Stability, §3.1 and §3.5). The reference sums in double and
// rounds once to float: a further u · Σ|x·w|, plus a double-precision error of K · 2⁻⁵³ relative,
// which together stay below γ_{K+1} − γ_K. We allow γ_{K+1} · Σ|x·w|. Random rounding errors grow
// like √K, not K, so the mean error must also sit far below the mean bound.
#include <doctest/doctest.h>
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/half.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp16.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/gemm/gemm_f32f16.h"
#include "kernels/train/evaluate.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

constexpr double kUnitRoundoff = 0x1.0p-24;
constexpr int kHalfPatterns = 1 << 16;

double gamma(int roundings) {
  const double nu = roundings * kUnitRoundoff;
  return nu / (1.0 - nu);
}

bool cpu_has_f16c() { return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c"); }
bool cpu_has_avx2_fma_f16c() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
}

// The hardware conversions the software ones must match. The target attribute confines F16C to
// these two functions (this file is compiled for baseline x86-64); call them only when
// cpu_has_f16c(). `count` is a multiple of 8.
__attribute__((target("avx,f16c"))) void halves_to_floats_f16c(const std::uint16_t* src, float* dst,
                                                               std::size_t count) {
  for (std::size_t i = 0; i < count; i += 8) {
    _mm256_storeu_ps(dst + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
}

__attribute__((target("avx,f16c"))) void floats_to_halves_f16c(const float* src, std::uint16_t* dst,
                                                               std::size_t count) {
  for (std::size_t i = 0; i < count; i += 8) {
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(dst + i),
        _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
}

bool is_half_nan(std::uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

// The value of a finite half from the definition of binary16, computed exactly in double.
double half_value(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return (h & 0x8000) != 0 ? -magnitude : magnitude;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Conversions

TEST_CASE("half: half_to_float is exact on all 65536 patterns") {
  int nans = 0;
  for (int bits = 0; bits < kHalfPatterns; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    CAPTURE(bits);
    const float f = half_to_float(h);
    if (is_half_nan(h)) {
      ++nans;
      CHECK(std::isnan(f));
      CHECK(std::signbit(f) == ((h & 0x8000) != 0));
    } else if ((h & 0x7fff) == 0x7c00) {
      CHECK(std::isinf(f));
      CHECK(std::signbit(f) == ((h & 0x8000) != 0));
    } else {
      CHECK(static_cast<double>(f) == half_value(h));
      CHECK(std::signbit(f) == ((h & 0x8000) != 0));  // −0 stays −0
    }
  }
  CHECK(nans == 2 * 1023);
}

TEST_CASE("half: half_to_float matches F16C bit for bit on all 65536 patterns") {
  if (!cpu_has_f16c()) {
    MESSAGE("skipped: this CPU has no F16C to compare with");
    return;
  }
  std::vector<std::uint16_t> halves(kHalfPatterns);
  for (int bits = 0; bits < kHalfPatterns; ++bits)
    halves[static_cast<std::size_t>(bits)] = static_cast<std::uint16_t>(bits);
  std::vector<float> hardware(halves.size());
  halves_to_floats_f16c(halves.data(), hardware.data(), halves.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < halves.size(); ++i) {
    // Bit patterns, so NaN payloads and the quiet bit count too.
    if (std::bit_cast<std::uint32_t>(half_to_float(halves[i])) !=
        std::bit_cast<std::uint32_t>(hardware[i])) {
      CAPTURE(i);
      CHECK(std::bit_cast<std::uint32_t>(half_to_float(halves[i])) ==
            std::bit_cast<std::uint32_t>(hardware[i]));
      if (++mismatches > 10) break;
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("half: half → float → half is the identity on every non-NaN pattern; NaN stays NaN") {
  for (int bits = 0; bits < kHalfPatterns; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const std::uint16_t back = float_to_half(half_to_float(h));
    if (is_half_nan(h)) {
      if (!is_half_nan(back) || (back & 0x8000) != (h & 0x8000)) {
        CAPTURE(bits);
        CHECK(is_half_nan(back));
        CHECK((back & 0x8000) == (h & 0x8000));
      }
    } else if (back != h) {
      CAPTURE(bits);
      CHECK(back == h);
    }
  }
}

TEST_CASE("half: float_to_half rounds to nearest even, overflows to infinity, keeps subnormals") {
  struct Case {
    float src;
    std::uint16_t half;
  };
  const float tiny = std::numeric_limits<float>::denorm_min();
  const Case cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {0.5f, 0x3800},
      // Ulp of 1 is 2⁻¹⁰. Halfway to 1 + 2⁻¹⁰ goes to the even neighbour 1; halfway between
      // 1 + 2⁻¹⁰ (odd) and 1 + 2⁻⁹ goes up; a hair above halfway always goes up.
      {1.0f + 0x1.0p-11f, 0x3c00},
      {1.0f + 0x3.0p-11f, 0x3c02},
      {1.0f + 0x1.0p-11f + 0x1.0p-20f, 0x3c01},
      {1.0f + 0x1.0p-11f - 0x1.0p-20f, 0x3c00},
      // Rounding up carries out of the mantissa into the exponent: 2 − 2⁻¹¹ → 2.
      {2.0f - 0x1.0p-11f, 0x4000},
      // Overflow: 65504 is the largest half; 65520 is the tie with 2¹⁶ and goes to "even" (inf).
      {65504.0f, 0x7bff},
      {65519.996f, 0x7bff},
      {65520.0f, 0x7c00},
      {-65520.0f, 0xfc00},
      {1.0e6f, 0x7c00},
      {std::numeric_limits<float>::max(), 0x7c00},
      {std::numeric_limits<float>::infinity(), 0x7c00},
      {-std::numeric_limits<float>::infinity(), 0xfc00},
      // Subnormal halves: multiples of 2⁻²⁴ below 2⁻¹⁴.
      {0x1.0p-24f, 0x0001},
      {-0x1.0p-24f, 0x8001},
      {0x3.0p-25f, 0x0002},       // 1.5 · 2⁻²⁴: tie, to even 2
      {0x5.0p-25f, 0x0002},       // 2.5 · 2⁻²⁴: tie, to even 2
      {0x1.0p-25f, 0x0000},       // half the smallest subnormal: tie, to even 0
      {0x1.000002p-25f, 0x0001},  // just above it
      {0x1.0p-26f, 0x0000},
      {-0x1.0p-26f, 0x8000},
      {1023.0f * 0x1.0p-24f, 0x03ff},  // the largest subnormal
      {1023.5f * 0x1.0p-24f, 0x0400},  // tie between 0x3ff (odd) and the smallest normal
      {0x1.0p-14f, 0x0400},            // the smallest normal
      {tiny, 0x0000},                  // float subnormals are far below half's range
      {-tiny, 0x8000},
  };
  for (const Case& c : cases) {
    CAPTURE(c.src);
    CHECK(float_to_half(c.src) == c.half);
  }
  const std::uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
  CHECK(is_half_nan(nan));
  const std::uint16_t negative_nan = float_to_half(-std::numeric_limits<float>::signaling_NaN());
  CHECK(is_half_nan(negative_nan));
  CHECK((negative_nan & 0x8000) != 0);
  CHECK((negative_nan & 0x0200) != 0);  // quiet
}

TEST_CASE(
    "half: float_to_half matches F16C (vcvtps2ph, nearest even) around every half and on a spread "
    "of floats") {
  if (!cpu_has_f16c()) {
    MESSAGE("skipped: this CPU has no F16C to compare with");
    return;
  }
  std::vector<float> src;
  // Around each non-negative finite half h: its value, the midpoint to the next half (the tie),
  // and the floats one ulp either side of both; then the same negated.
  for (int bits = 0; bits < 0x7c00; ++bits) {
    const float value = half_to_float(static_cast<std::uint16_t>(bits));
    const float next =
        bits + 1 < 0x7c00 ? half_to_float(static_cast<std::uint16_t>(bits + 1)) : 65536.0f;
    const float mid = static_cast<float>((static_cast<double>(value) + next) / 2);  // exact
    for (const float x : {value, mid}) {
      src.push_back(x);
      src.push_back(std::nextafter(x, 0.0f));
      src.push_back(std::nextafter(x, std::numeric_limits<float>::infinity()));
    }
  }
  // Every exponent and sign, NaNs and infinities included: a stride through all 2³² patterns.
  constexpr std::uint64_t kStride = 4093;  // prime, so the low mantissa bits vary too
  for (std::uint64_t bits = 0; bits < (std::uint64_t{1} << 32); bits += kStride) {
    src.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
  }
  const std::size_t positives = src.size();
  for (std::size_t i = 0; i < positives; ++i) src.push_back(-src[i]);
  while (src.size() % 8 != 0) src.push_back(0.0f);

  std::vector<std::uint16_t> hardware(src.size());
  floats_to_halves_f16c(src.data(), hardware.data(), src.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < src.size(); ++i) {
    if (float_to_half(src[i]) != hardware[i]) {
      CAPTURE(std::bit_cast<std::uint32_t>(src[i]));
      CHECK(float_to_half(src[i]) == hardware[i]);
      if (++mismatches > 10) break;
    }
  }
  CHECK(mismatches == 0);
}

// ---------------------------------------------------------------------------------------------
// Kernels against the reference

namespace {

constexpr int kEdgeK[] = {1, 7, 8, 9, 15, 16, 17, 31, 64, 100, 784};
constexpr int kEdgeN[] = {1, 3, 10, 128};
constexpr int kEdgeBatch[] = {1, 2, 3, 5, 64};
constexpr float kPadding = std::numeric_limits<float>::quiet_NaN();  // must never be read
constexpr std::uint16_t kHalfPadding = 0x7e00;                       // a half NaN
constexpr float kUnwritten = -12345.0f;                              // must never be written

// Weights as halves: mostly N(0, 1), some zeros, some subnormal halves.
std::uint16_t random_weight(Rng& rng) {
  switch (rng.below(16)) {
    case 0:
      return 0;
    case 1:
      return static_cast<std::uint16_t>(rng.below(0x400) | (rng.below(2) << 15));
    default:
      return float_to_half(static_cast<float>(rng.normal()));
  }
}

// One grid point: `pad` extra elements at the end of every row of src, weights and dst, filled
// with NaN (src, weights) or a sentinel (dst) so a read or write past a row shows.
void check_kernel_case(const F32F16Kernel& kernel, int batch, int n, int k, int pad,
                       std::uint64_t seed) {
  const std::string name = kernel.name;  // doctest prints a const char* as a pointer
  CAPTURE(name);
  CAPTURE(seed);
  CAPTURE(batch);
  CAPTURE(n);
  CAPTURE(k);
  CAPTURE(pad);
  Rng rng(seed);
  const int ld_src = k + pad;
  const int ld_weights = k + pad;
  const int ld_dst = n + pad;
  const auto at = [](int row, int ld, int col) {
    return static_cast<std::size_t>(row) * static_cast<std::size_t>(ld) +
           static_cast<std::size_t>(col);
  };
  std::vector<float> src(static_cast<std::size_t>(batch) * static_cast<std::size_t>(ld_src),
                         kPadding);
  std::vector<std::uint16_t> weights(
      static_cast<std::size_t>(n) * static_cast<std::size_t>(ld_weights), kHalfPadding);
  for (int b = 0; b < batch; ++b) {
    for (int p = 0; p < k; ++p)
      src[at(b, ld_src, p)] = static_cast<float>(rng.uniform() * 2.0 - 1.0);
  }
  for (int o = 0; o < n; ++o) {
    for (int p = 0; p < k; ++p) weights[at(o, ld_weights, p)] = random_weight(rng);
  }
  std::vector<float> fast(static_cast<std::size_t>(batch) * static_cast<std::size_t>(ld_dst),
                          kUnwritten);
  std::vector<float> ref = fast;
  GemmF32F16Args args{batch,          n,          k,           src.data(), ld_src,
                      weights.data(), ld_weights, fast.data(), ld_dst};
  kernel.run(args);
  args.dst = ref.data();
  gemm_f32f16_ref(args);

  const double g = gamma(k + 1);
  double sum_err = 0.0;
  double sum_bound = 0.0;
  int failures = 0;
  for (int b = 0; b < batch; ++b) {
    for (int o = 0; o < n; ++o) {
      double magnitude = 0.0;
      for (int p = 0; p < k; ++p) {
        magnitude += std::fabs(static_cast<double>(src[at(b, ld_src, p)]) *
                               half_to_float(weights[at(o, ld_weights, p)]));
      }
      const double bound = g * magnitude + std::numeric_limits<float>::denorm_min();
      const double err =
          std::fabs(static_cast<double>(fast[at(b, ld_dst, o)]) - ref[at(b, ld_dst, o)]);
      sum_err += err;
      sum_bound += bound;
      if (!(err <= bound) && ++failures <= 5) {
        CAPTURE(b);
        CAPTURE(o);
        CAPTURE(fast[at(b, ld_dst, o)]);
        CAPTURE(ref[at(b, ld_dst, o)]);
        CHECK(err <= bound);
      }
    }
    for (int o = n; o < ld_dst; ++o) CHECK(fast[at(b, ld_dst, o)] == kUnwritten);
  }
  CHECK(failures == 0);
  if (k > 16) CHECK(sum_err <= 0.25 * sum_bound);
}

// Runs the whole edge grid, packed and with padded rows; returns the number of cases run, or 0
// (with a "skipped" message) when the CPU cannot run the kernel.
int check_kernel_on_edge_grid(const char* path) {
  const F32F16Kernel* kernel = nullptr;
  for (const F32F16Kernel& candidate : f32f16_kernels()) {
    if (std::string(candidate.path) == path) kernel = &candidate;
  }
  REQUIRE(kernel != nullptr);
  if (!kernel->cpu_supports()) {
    MESSAGE("skipped: " << std::string(kernel->name) << " needs " << std::string(kernel->cpu_flags)
                        << ", which this CPU lacks");
    return 0;
  }
  std::uint64_t seed = 16000;
  int cases = 0;
  for (const int k : kEdgeK) {
    for (const int n : kEdgeN) {
      for (const int batch : kEdgeBatch) {
        for (const int pad : {0, 3}) {
          check_kernel_case(*kernel, batch, n, k, pad, ++seed);
          ++cases;
        }
      }
    }
  }
  return cases;
}

constexpr int kEdgeGridCases =
    2 * static_cast<int>(std::size(kEdgeK) * std::size(kEdgeN) * std::size(kEdgeBatch));

}  // namespace

TEST_CASE("gemm_f32f16: the reference computes known dot products exactly") {
  // 2 × 3 weights, 2 rows of src; small integers and halves are exact everywhere.
  const std::vector<float> src{1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 4.0f};
  const std::vector<std::uint16_t> weights{float_to_half(1.0f),  float_to_half(0.5f),
                                           float_to_half(-2.0f), float_to_half(0.0f),
                                           float_to_half(0.25f), float_to_half(1.0f)};
  std::vector<float> dst(4);
  gemm_f32f16_ref({2, 2, 3, src.data(), 3, weights.data(), 3, dst.data(), 2});
  CHECK(dst == std::vector<float>{-4.0f, 3.5f, -8.75f, 4.125f});
}

TEST_CASE("gemm_f32f16_avx2 matches the reference on the edge grid") {
  const int cases = check_kernel_on_edge_grid("avx2");
  if (cpu_has_avx2_fma_f16c()) {
    // This CPU can run the kernel: a skip here would be a detection bug, not a missing ISA.
    CHECK(cases == kEdgeGridCases);
  }
}

TEST_CASE("gemm_f32f16_avx512 matches the reference on the edge grid") {
  const int cases = check_kernel_on_edge_grid("avx512");
  if (cases > 0) CHECK(cases == kEdgeGridCases);
}

TEST_CASE("gemm_f32f16: a fast kernel runs wherever the CPU has AVX2, FMA and F16C") {
  if (!cpu_has_avx2_fma_f16c()) {
    MESSAGE("skipped: this CPU lacks AVX2, FMA or F16C, so only the reference can run");
    CHECK(std::string(select_f32f16_kernel().path) == "ref");
    return;
  }
  const F32F16Kernel& chosen = select_f32f16_kernel();
  MESSAGE("selected " << std::string(chosen.name) << " (" << std::string(chosen.isa) << ")");
  REQUIRE(std::string(chosen.path) != "ref");
  check_kernel_case(chosen, 5, 10, 100, 0, 77);
}

TEST_CASE("gemm_f32f16: the list is fastest first, the ISA cap and forced paths are honoured") {
  const auto kernels = f32f16_kernels();
  REQUIRE(kernels.size() == 3);
  CHECK(std::string(kernels.back().path) == "ref");
  CHECK(std::string(select_f32f16_kernel("sse41").path) == "ref");
  CHECK(std::string(find_f32f16_kernel("ref").name) == "gemm_f32f16_ref");
  CHECK(std::string(find_f32f16_kernel("auto").name) == select_f32f16_kernel().name);
  if (cpu_has_avx2_fma_f16c()) {
    CHECK(std::string(select_f32f16_kernel("avx2").path) == "avx2");
    CHECK_THROWS_WITH_AS(find_f32f16_kernel("avx512", "avx2"), doctest::Contains("avx512"),
                         EngineUnavailable);
  }
  CHECK_THROWS_WITH_AS(find_f32f16_kernel("cuda"), doctest::Contains("cuda"),
                       std::invalid_argument);
  CHECK_THROWS_AS(select_f32f16_kernel("no-such-isa"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// The engine

namespace {

std::vector<std::string> runnable_fp16_paths() {
  std::vector<std::string> paths{"auto"};
  for (const F32F16Kernel& kernel : f32f16_kernels()) {
    if (kernel.cpu_supports()) paths.emplace_back(kernel.path);
  }
  return paths;
}

Mlp random_model(const std::vector<int>& sizes, std::uint64_t seed) {
  Mlp model = init_mlp(sizes, seed);
  Rng rng(seed + 1);
  for (DenseLayer& layer : model.layers) {
    for (float& b : layer.bias) b = static_cast<float>(0.1 * rng.normal());
  }
  return model;
}

// A bound on |computed − exact| for each logit of a forward pass of `model` on one image `x`,
// where every layer computes each output with at most `roundings(K)` roundings on any term's way
// (the dot product and the bias add). Layer by layer, with a the exact activations (in double),
// â the computed ones and E ≥ |â − a|:
//   |ŷ_o − y_o| ≤ γ_R · (Σ_k |â_k w_ok| + |b_o|) + Σ_k |w_ok| E_k,   with |â_k| ≤ |a_k| + E_k,
// and ReLU, being 1-Lipschitz, passes E on unchanged.
std::vector<double> logit_error_bound(const Mlp& model, const float* x, int (*roundings)(int k)) {
  std::vector<double> a(x, x + model.inputs());
  std::vector<double> err(a.size(), 0.0);
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& layer = model.layers[l];
    const double g = gamma(roundings(layer.inputs));
    std::vector<double> next(static_cast<std::size_t>(layer.outputs));
    std::vector<double> next_err(next.size());
    for (int o = 0; o < layer.outputs; ++o) {
      double value = layer.bias[static_cast<std::size_t>(o)];
      double magnitude = std::fabs(value);
      double propagated = 0.0;
      for (int k = 0; k < layer.inputs; ++k) {
        const double w =
            layer.weights[static_cast<std::size_t>(o) * static_cast<std::size_t>(layer.inputs) +
                          static_cast<std::size_t>(k)];
        const auto kk = static_cast<std::size_t>(k);
        value += a[kk] * w;
        magnitude += (std::fabs(a[kk]) + err[kk]) * std::fabs(w);
        propagated += std::fabs(w) * err[kk];
      }
      const bool relu = l + 1 < model.layers.size();
      next[static_cast<std::size_t>(o)] = relu ? std::max(value, 0.0) : value;
      next_err[static_cast<std::size_t>(o)] = g * magnitude + propagated;
    }
    a = std::move(next);
    err = std::move(next_err);
  }
  return err;
}

// The fp16 engine: K products and sums in fp32 plus the bias add (see the top of this file).
int fp16_engine_roundings(int k) { return k + 1; }
// The fp32 reference engine: a double sum (relative error K·2⁻⁵³, far below one u for our K),
// rounded to float, then the bias add: within γ_3.
int fp32_reference_roundings(int /*k*/) { return 3; }

std::vector<float> random_inputs(Rng& rng, std::size_t count) {
  std::vector<float> x(count);
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

}  // namespace

TEST_CASE("fp16 engine: logits match an fp32 engine on the half-rounded weights, on every path") {
  const std::uint64_t seed = 4242;
  CAPTURE(seed);
  const Mlp model = random_model({100, 37, 19, 10}, seed);
  const Mlp rounded = round_weights_to_half(model);
  auto reference = make_fp32_reference_engine(rounded);
  Rng rng(seed + 2);
  for (const std::string& path : runnable_fp16_paths()) {
    CAPTURE(path);
    auto engine = make_fp16_engine(model, path);
    for (const int batch : {1, 3, 64}) {
      CAPTURE(batch);
      const std::vector<float> x =
          random_inputs(rng, static_cast<std::size_t>(batch * model.inputs()));
      std::vector<float> got(static_cast<std::size_t>(batch * model.outputs()));
      std::vector<float> want(got.size());
      engine->forward(x.data(), batch, got.data());
      reference->forward(x.data(), batch, want.data());
      int failures = 0;
      for (int b = 0; b < batch; ++b) {
        const float* image = x.data() + static_cast<std::size_t>(b * model.inputs());
        const std::vector<double> e16 = logit_error_bound(rounded, image, fp16_engine_roundings);
        const std::vector<double> e32 = logit_error_bound(rounded, image, fp32_reference_roundings);
        for (int o = 0; o < model.outputs(); ++o) {
          const auto i = static_cast<std::size_t>(b * model.outputs() + o);
          const double bound = e16[static_cast<std::size_t>(o)] + e32[static_cast<std::size_t>(o)];
          const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
          if (!(err <= bound) && ++failures <= 5) {
            CAPTURE(b);
            CAPTURE(o);
            CHECK(err <= bound);
          }
        }
      }
      CHECK(failures == 0);
    }
  }
}

TEST_CASE(
    "fp16 engine: top-1 on a small random model equals the fp32 reference's on the half-rounded "
    "weights") {
  const std::uint64_t seed = 77;
  CAPTURE(seed);
  Mlp model = random_model({784, 32, 10}, seed);
  model.normalization = {0.3f, 0.35f};
  const Mlp rounded = round_weights_to_half(model);
  Rng rng(seed + 2);
  ImageSet images;
  images.count = 300;
  images.rows = 28;
  images.cols = 28;
  images.pixels.resize(static_cast<std::size_t>(images.count * images.features()));
  for (std::uint8_t& p : images.pixels) p = static_cast<std::uint8_t>(rng.below(256));
  images.labels.resize(static_cast<std::size_t>(images.count));
  for (std::uint8_t& label : images.labels) label = static_cast<std::uint8_t>(rng.below(10));

  auto reference = make_fp32_reference_engine(rounded);
  const Evaluation want = evaluate(*reference, model.normalization, images, 64);
  // Images whose two largest reference logits lie within the error bound of each other may
  // legitimately be predicted either way: they are excused, and counted.
  std::vector<float> x(static_cast<std::size_t>(images.count * images.features()));
  normalize_images(model.normalization, images.pixels.data(), images.count, images.features(),
                   x.data());
  std::vector<float> logits(static_cast<std::size_t>(images.count * model.outputs()));
  reference->forward(x.data(), images.count, logits.data());
  std::vector<bool> excused(static_cast<std::size_t>(images.count), false);
  int excused_count = 0;
  for (int i = 0; i < images.count; ++i) {
    const float* image = x.data() + static_cast<std::size_t>(i * images.features());
    const std::vector<double> e16 = logit_error_bound(rounded, image, fp16_engine_roundings);
    const std::vector<double> e32 = logit_error_bound(rounded, image, fp32_reference_roundings);
    std::vector<float> row(logits.begin() + i * model.outputs(),
                           logits.begin() + (i + 1) * model.outputs());
    std::vector<float> sorted = row;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
    const double margin =
        2 * (*std::max_element(e16.begin(), e16.end()) + *std::max_element(e32.begin(), e32.end()));
    if (static_cast<double>(sorted[0]) - sorted[1] <= margin) {
      excused[static_cast<std::size_t>(i)] = true;
      ++excused_count;
    }
  }
  // The bound is a worst case (errors growing like K, not √K), so it excuses a few images that
  // would in fact agree; the comparison must still decide the great majority.
  MESSAGE(excused_count << " of " << images.count << " images excused as near-ties");
  CHECK(excused_count <= images.count / 10);

  for (const std::string& path : runnable_fp16_paths()) {
    CAPTURE(path);
    auto engine = make_fp16_engine(model, path);
    const Evaluation got = evaluate(*engine, model.normalization, images, 64);
    for (int i = 0; i < images.count; ++i) {
      const auto ii = static_cast<std::size_t>(i);
      if (!excused[ii] && got.predictions[ii] != want.predictions[ii]) {
        CAPTURE(i);
        CHECK(got.predictions[ii] == want.predictions[ii]);
      }
    }
    CHECK(std::fabs(got.top1 - want.top1) <= static_cast<double>(excused_count) / images.count);
    if (excused_count == 0) CHECK(got.top1 == want.top1);
  }
}

TEST_CASE("fp16 engine: reports its kernel, layers, bytes and real weights") {
  const Mlp model = random_model({37, 19, 5}, 3);
  auto engine = make_fp16_engine(model, "ref");
  CHECK(engine->kernel() == "lowbit/gemm_f32f16_ref");
  CHECK(engine->inputs() == 37);
  CHECK(engine->outputs() == 5);
  CHECK(engine->weights() == "real");
  CHECK(engine->model_bytes() == 2 * (37 * 19 + 19 * 5) + 4 * (19 + 5));
  const std::vector<LayerKernel> layers = engine->layers();
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].kernel == "lowbit/gemm_f32f16_ref");
  CHECK(layers[0].impl == "f16 weights, f32 fma +bias+relu");
  CHECK(layers[1].impl == "f16 weights, f32 fma +bias");
  auto automatic = make_fp16_engine(model, "auto");
  CHECK(automatic->kernel() == std::string("lowbit/") + select_f32f16_kernel().name);
  if (cpu_has_avx2_fma_f16c()) {
    CHECK(make_fp16_engine(model, "avx2")->kernel() == "lowbit/gemm_f32f16_avx2");
  }
}

TEST_CASE("fp16 engine: a path the CPU cannot run, or an unknown one, throws naming it") {
  const Mlp model = random_model({8, 4, 2}, 5);
  if (!__builtin_cpu_supports("avx512f")) {
    CHECK_THROWS_WITH_AS(make_fp16_engine(model, "avx512"), doctest::Contains("\"avx512\""),
                         EngineUnavailable);
  }
  if (!cpu_has_avx2_fma_f16c()) {
    CHECK_THROWS_WITH_AS(make_fp16_engine(model, "avx2"), doctest::Contains("\"avx2\""),
                         EngineUnavailable);
  }
  CHECK_THROWS_WITH_AS(make_fp16_engine(model, "cuda"), doctest::Contains("\"cuda\""),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_fp16_engine(model, "avx2", "sse41"), doctest::Contains("\"avx2\""),
                       EngineUnavailable);
}
