// The int4 path's GEMM tiers (kernels/gemm/gemm_lowbit.h) and engine
// (kernels/engine/engine_int4.h).
//
// Every tier against the reference: bit for bit, by memcmp. That is the kernels' contract, not a
// hope: each group's integer dot is exact in every tier, and the fp32 steps per output (s = d_w ·
// d_x, p = float(dot) · s, acc = acc + p, groups in order) are the same roundings everywhere.
//
// The reference itself against exact arithmetic (derived tolerance): the codes and scales are
// exact inputs, the dot is exact, and the three fp32 roundings per group give, with u = 2^-24,
// |acc − Σ_g dot_g · d_w · d_x| ≤ Σ_g |p_g| · 2u (the two products) + u · Σ_g |partial sum after
// g| ≤ (groups + 2) · u · Σ_g |dot_g · d_w · d_x| to first order; we allow (groups + 3) · u.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/half.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_int4.h"
#include "kernels/gemm/block_pack.h"
#include "kernels/gemm/gemm_lowbit.h"
#include "kernels/gemm/q8_blocks.h"
#include "kernels/prune/prune.h"
#include "kernels/quant/block_quant.h"
#include "tests/kernels/engine_test_support.h"

using namespace lowbit::kernels;
using namespace lowbit::kernels::testing;

namespace {

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<float> random_matrix(Rng& rng, int rows, int cols, double scale) {
  std::vector<float> v(element_count(rows, cols));
  for (float& x : v) {
    x = static_cast<float>(scale * rng.normal());
    if (rng.uniform() < 0.1) x = 0.0f;  // pruned weights and dead activations
  }
  return v;
}

std::vector<float> run_kernel(const LowbitKernel& kernel, const BlockQuantMatrix& w,
                              const Q8Blocks& x) {
  std::vector<float> dst(element_count(x.rows, w.rows), NAN);
  GemmLowbitArgs args;
  args.weights = view_of(w);
  args.src = view_of(x);
  args.dst = dst.data();
  args.ld_dst = w.rows;
  kernel.run(args);
  return dst;
}

std::vector<float> run_kernel_x8(const LowbitKernel& kernel, const BlockQuantMatrix& w,
                                 const Q8Blocks& x) {
  const LowbitX8Weights x8 = interleave_x8(view_of(w));
  std::vector<float> dst(element_count(x.rows, w.rows), NAN);
  GemmLowbitX8Args args;
  args.weights = view_of(x8);
  args.src = view_of(x);
  args.dst = dst.data();
  args.ld_dst = w.rows;
  kernel.run_x8(args);
  return dst;
}

std::string tier_list() {
  std::string s;
  for (const LowbitKernel& k : lowbit_kernels()) s += std::string(k.path) + " ";
  return s;
}

}  // namespace

TEST_CASE("lowbit gemm: every tier equals the reference bit for bit on odd shapes") {
  // K below, at and above the group and the packing block, not a multiple of 2 or 4; N = 1 and
  // N around the vector tiles (8 outputs, 4 × 2); batches 1, 3 and 17 (every row-tile tail).
  const int depths[] = {1, 7, 33, 64, 130, 257};
  const int widths[] = {1, 5, 13};
  const int batches[] = {1, 3, 17};
  std::vector<std::string> ran;
  std::uint64_t seed = 900;
  for (const LowbitKernel& kernel : lowbit_kernels()) {
    if (std::string(kernel.path) == "ref") continue;
    if (!kernel.cpu_supports()) {
      MESSAGE("skipped lowbit tier " << std::string(kernel.path) << ": this CPU lacks "
                                     << std::string(kernel.cpu_flags));
      continue;
    }
    ran.push_back(kernel.path);
    for (const int bits : {2, 3, 4}) {
      for (const int group : {32, 64, 128}) {
        for (const QuantScheme scheme : {QuantScheme::kSymmetric, QuantScheme::kAsymmetric}) {
          for (const int k : depths) {
            for (const int n : widths) {
              ++seed;
              Rng rng(seed);
              CAPTURE(kernel.path);
              CAPTURE(seed);
              CAPTURE(bits);
              CAPTURE(group);
              CAPTURE(to_string(scheme));
              CAPTURE(k);
              CAPTURE(n);
              const BlockQuantMatrix w = quantize_block_matrix(
                  random_matrix(rng, n, k, 0.1), n, k, {bits, group, scheme, ScaleSearch::kMinMax});
              for (const int batch : batches) {
                CAPTURE(batch);
                const std::vector<float> src = random_matrix(rng, batch, k, 1.0);
                Q8Blocks x;
                quantize_q8_blocks(src.data(), batch, k, k, group, x);
                const std::vector<float> want = run_kernel(find_lowbit_kernel("ref"), w, x);
                CHECK(bit_equal(run_kernel(kernel, w, x), want));
              }
            }
          }
        }
      }
    }
  }
  MESSAGE("lowbit tiers compared with ref: " << ran.size() << " of " << tier_list());
  CHECK(!ran.empty());  // portable runs everywhere: nothing compared is a failure
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) {
    CHECK(std::find(ran.begin(), ran.end(), "avx2") != ran.end());
  }
}

TEST_CASE(
    "lowbit gemm: every interleaved (x8) kernel equals the reference bit for bit on odd shapes") {
  // N around the 8-output block (1, 7, 8, 9, 17: padding rows), K not a multiple of the group,
  // of 4 or of 32, batches on and off the 4-row tile.
  const int depths[] = {1, 5, 33, 64, 130, 257};
  const int widths[] = {1, 7, 8, 9, 17};
  const int batches[] = {1, 2, 3, 4, 6, 17};
  std::vector<std::string> ran;
  std::uint64_t seed = 4200;
  for (const LowbitKernel& kernel : lowbit_kernels()) {
    if (kernel.run_x8 == nullptr) continue;
    if (!kernel.cpu_supports()) {
      MESSAGE("skipped lowbit x8 tier " << std::string(kernel.path) << ": this CPU lacks "
                                        << std::string(kernel.cpu_flags));
      continue;
    }
    ran.push_back(kernel.path);
    for (const int bits : {2, 3, 4}) {
      for (const int group : {32, 64, 128}) {
        for (const QuantScheme scheme : {QuantScheme::kSymmetric, QuantScheme::kAsymmetric}) {
          for (const int k : depths) {
            for (const int n : widths) {
              ++seed;
              Rng rng(seed);
              CAPTURE(kernel.name_x8);
              CAPTURE(seed);
              CAPTURE(bits);
              CAPTURE(group);
              CAPTURE(to_string(scheme));
              CAPTURE(k);
              CAPTURE(n);
              const BlockQuantMatrix w = quantize_block_matrix(
                  random_matrix(rng, n, k, 0.1), n, k, {bits, group, scheme, ScaleSearch::kMinMax});
              for (const int batch : batches) {
                CAPTURE(batch);
                const std::vector<float> src = random_matrix(rng, batch, k, 1.0);
                Q8Blocks x;
                quantize_q8_blocks(src.data(), batch, k, k, group, x);
                const std::vector<float> want = run_kernel(find_lowbit_kernel("ref"), w, x);
                CHECK(bit_equal(run_kernel_x8(kernel, w, x), want));
              }
            }
          }
        }
      }
    }
  }
  MESSAGE("lowbit x8 kernels compared with ref: " << ran.size());
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) {
    CHECK(std::find(ran.begin(), ran.end(), "avx2") != ran.end());
  }
}

TEST_CASE("lowbit gemm: interleaving keeps every code, scale and zero point") {
  Rng rng(4300);
  for (const int bits : {2, 3, 4}) {
    for (const QuantScheme scheme : {QuantScheme::kSymmetric, QuantScheme::kAsymmetric}) {
      const int n = 11;
      const int k = 70;
      const BlockQuantMatrix w = quantize_block_matrix(random_matrix(rng, n, k, 0.1), n, k,
                                                       {bits, 32, scheme, ScaleSearch::kSearch});
      const LowbitX8Weights x8 = interleave_x8(view_of(w));
      CAPTURE(bits);
      CHECK(x8.blocks == 2);
      CHECK(x8.codes.size() ==
            2u * 3u * static_cast<std::size_t>(bits) * 32u);  // 2 blocks × 3 chunks
      CHECK(x8.scales.size() == 2u * 3u * 8u);
      CHECK(x8.zero_points.size() == (scheme == QuantScheme::kAsymmetric ? 48u : 0u));
      for (int r = 0; r < n; ++r) {
        for (int g = 0; g < 3; ++g) {
          const std::size_t at = static_cast<std::size_t>((r / 8 * 3 + g) * 8 + r % 8);
          CHECK(x8.scales[at] == w.group(r, g).scale);
          if (scheme == QuantScheme::kAsymmetric)
            CHECK(x8.zero_points[at] == w.group(r, g).zero_point);
        }
      }
    }
  }
}

TEST_CASE("lowbit gemm: extreme codes and int8 activations at ±127 stay exact") {
  // Weights at both ends of every group (codes 0 and 2^b − 1, z far from the middle in
  // asymmetric groups) against activations at ±127: the largest int16 partial sums.
  for (const int bits : {2, 3, 4}) {
    for (const QuantScheme scheme : {QuantScheme::kSymmetric, QuantScheme::kAsymmetric}) {
      const int n = 9;
      const int k = 128;
      std::vector<float> weights(element_count(n, k));
      for (std::size_t i = 0; i < weights.size(); ++i) {
        weights[i] = (i / 3) % 2 == 0 ? 1.0f : (scheme == QuantScheme::kSymmetric ? -1.0f : 0.0f);
      }
      const BlockQuantMatrix w =
          quantize_block_matrix(weights, n, k, {bits, 128, scheme, ScaleSearch::kMinMax});
      std::vector<float> src(element_count(5, k));
      for (std::size_t i = 0; i < src.size(); ++i) src[i] = (i / 5) % 2 == 0 ? 1.0f : -1.0f;
      Q8Blocks x;
      quantize_q8_blocks(src.data(), 5, k, k, 128, x);
      const std::vector<float> want = run_kernel(find_lowbit_kernel("ref"), w, x);
      for (const LowbitKernel& kernel : lowbit_kernels()) {
        if (!kernel.cpu_supports()) continue;
        CAPTURE(kernel.path);
        CAPTURE(bits);
        CHECK(bit_equal(run_kernel(kernel, w, x), want));
        if (kernel.run_x8 != nullptr) CHECK(bit_equal(run_kernel_x8(kernel, w, x), want));
      }
    }
  }
}

TEST_CASE("lowbit gemm: the reference is within the derived fp32 bound of exact arithmetic") {
  Rng rng(77);
  for (const int bits : {2, 4}) {
    const int n = 6;
    const int k = 300;
    const int batch = 4;
    const BlockQuantMatrix w =
        quantize_block_matrix(random_matrix(rng, n, k, 0.1), n, k,
                              {bits, 32, QuantScheme::kAsymmetric, ScaleSearch::kSearch});
    const std::vector<float> src = random_matrix(rng, batch, k, 1.0);
    Q8Blocks x;
    quantize_q8_blocks(src.data(), batch, k, k, 32, x);
    const std::vector<float> got = run_kernel(find_lowbit_kernel("ref"), w, x);
    const std::vector<float> w_hat = dequantize_block_matrix(w);
    for (int m = 0; m < batch; ++m) {
      for (int o = 0; o < n; ++o) {
        double exact = 0.0;
        double magnitude = 0.0;
        for (int g = 0; g < x.groups; ++g) {
          const GroupParams p = w.group(o, g);
          double dot = 0.0;
          for (int c = g * 32; c < std::min(k, g * 32 + 32); ++c) {
            const double q_w =
                w_hat[element_count(o, k) + static_cast<std::size_t>(c)] / half_to_float(p.scale);
            dot +=
                q_w *
                x.codes[static_cast<std::size_t>(m) * x.ld_codes() + static_cast<std::size_t>(c)];
          }
          const double term = dot * half_to_float(p.scale) *
                              x.scales[element_count(m, x.groups) + static_cast<std::size_t>(g)];
          exact += term;
          magnitude += std::fabs(term);
        }
        CHECK(std::fabs(got[element_count(m, n) + static_cast<std::size_t>(o)] - exact) <=
              (x.groups + 3) * 0x1.0p-24 * magnitude + 1e-30);
      }
    }
  }
}

TEST_CASE("lowbit gemm: kernel table order, forcing and refusals") {
  const auto kernels = lowbit_kernels();
  REQUIRE(kernels.size() == 4);
  CHECK(std::string(kernels.front().path) == "avx512_vnni");
  CHECK(std::string(kernels.back().path) == "ref");
  CHECK(std::string(find_lowbit_kernel("portable").name) == "gemm_lowbit_portable");
  CHECK(std::string(select_lowbit_kernel("sse41").path) == "portable");
  CHECK_THROWS_AS(find_lowbit_kernel("neon"), std::invalid_argument);
  CHECK_THROWS_AS(select_lowbit_kernel("avx9"), std::invalid_argument);
  if (!kernels.front().cpu_supports()) {
    MESSAGE("lowbit tier avx512_vnni cannot run on this CPU (needs "
            << std::string(kernels.front().cpu_flags) << "); its refusal is checked instead");
    CHECK_THROWS_AS(find_lowbit_kernel("avx512_vnni"), EngineUnavailable);
  }
  if (kernels[1].cpu_supports()) {
    CHECK(std::string(select_lowbit_kernel("avx2").path) == "avx2");
    CHECK_THROWS_AS(find_lowbit_kernel("avx2", "sse41"), EngineUnavailable);
    CHECK_THROWS_AS(find_lowbit_kernel("avx512_vnni", "avx2"), EngineUnavailable);
  }
}

TEST_CASE("int4 engine: every path equals the reference engine bit for bit") {
  const std::vector<std::vector<int>> shapes = {{37, 19, 5}, {784, 64, 10}};
  std::uint64_t seed = 500;
  for (const std::vector<int>& shape : shapes) {
    for (const int bits : {2, 3, 4}) {
      for (const QuantScheme scheme : {QuantScheme::kSymmetric, QuantScheme::kAsymmetric}) {
        ++seed;
        const int group = bits == 3 ? 64 : 32;
        const Mlp model = random_model(shape, seed);
        const auto ref = make_int4_engine(model, bits, group, scheme, "ref");
        for (const LowbitKernel& kernel : lowbit_kernels()) {
          if (!kernel.cpu_supports() || std::string(kernel.path) == "ref") continue;
          CAPTURE(seed);
          CAPTURE(kernel.path);
          CAPTURE(bits);
          CAPTURE(to_string(scheme));
          const auto fast = make_int4_engine(model, bits, group, scheme, kernel.path);
          for (const int batch : {1, 3, 17}) {
            CAPTURE(batch);
            const std::vector<float> images =
                random_images(seed + static_cast<std::uint64_t>(batch), batch, shape.front());
            CHECK(bit_equal(run(*fast, images, batch), run(*ref, images, batch)));
          }
        }
      }
    }
  }
}

TEST_CASE("int4 engine: names, storage and bad arguments") {
  const Mlp model = random_model({70, 19, 5}, 3);
  const auto engine = make_int4_engine(model, 4, 32, QuantScheme::kSymmetric, "portable");
  CHECK(engine->kernel() == "lowbit/q4_g32_portable");
  CHECK(engine->inputs() == 70);
  CHECK(engine->outputs() == 5);
  REQUIRE(engine->layers().size() == 2);
  CHECK(engine->layers()[0].kernel == engine->kernel());
  CHECK(engine->layers()[0].impl.find("gemm_lowbit_portable") != std::string::npos);
  CHECK(engine->layers()[0].impl.find("relu") != std::string::npos);
  CHECK(engine->layers()[1].impl.find("relu") == std::string::npos);
  // Layer 1: 19 rows × 3 groups of 32 at 4 bits + a half scale each; layer 2: 5 × 1 group.
  const std::int64_t packed = 19 * 96 / 2 + 19 * 3 * 2 + 5 * 32 / 2 + 5 * 1 * 2;
  CHECK(engine->model_bytes() == packed + (19 + 5) * 4);
  const auto asym = make_int4_engine(model, 3, 64, QuantScheme::kAsymmetric, "ref");
  CHECK(asym->kernel() == "lowbit/q3_g64_ref");
  // 3 bits, G = 64: 70 inputs take 2 groups (128 codes), 19 inputs 1; 2 + 1 bytes per group.
  CHECK(asym->model_bytes() ==
        (19 * 128 * 3 / 8 + 19 * 2 * 3) + (5 * 64 * 3 / 8 + 5 * 1 * 3) + (19 + 5) * 4);
  CHECK(make_int4_engine(model, 2, 128, QuantScheme::kSymmetric)
            ->kernel()
            .starts_with("lowbit/q2_g128_"));

  auto message = [&](int bits, int group, const std::string& path) {
    try {
      make_int4_engine(model, bits, group, QuantScheme::kSymmetric, path);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no throw");
  };
  CHECK(message(5, 32, "auto").find("bits") != std::string::npos);
  CHECK(message(8, 32, "auto").find("bits") != std::string::npos);
  CHECK(message(4, 16, "auto").find("group_size") != std::string::npos);
  CHECK(message(4, 32, "sse2").find("path") != std::string::npos);
  if (!lowbit_kernels().front().cpu_supports()) {
    CHECK_THROWS_AS(make_int4_engine(model, 4, 32, QuantScheme::kSymmetric, "avx512_vnni"),
                    EngineUnavailable);
  }
  CHECK_THROWS_AS(make_int4_engine(Mlp{}, 4, 32, QuantScheme::kSymmetric), std::invalid_argument);
}

TEST_CASE("int4 engine: a pruned model keeps its zeros exact through quantization") {
  // The engine quantizes each layer with quantize_block_matrix; what it stores must dequantize
  // to exactly 0 wherever pruning left a 0, at every width, scheme and group size.
  const Mlp dense = random_model({100, 40, 10}, 77);
  PruneSpec magnitude;
  magnitude.ratio = 0.7;
  PruneSpec nm;
  nm.method = PruneMethod::kNm;
  nm.ratio = 0.5;
  for (const PruneSpec& spec : {magnitude, nm}) {
    const Mlp pruned = prune_model(dense, spec).model;
    for (const int bits : {2, 3, 4}) {
      for (const int group : {32, 64, 128}) {
        for (const QuantScheme scheme : {QuantScheme::kSymmetric, QuantScheme::kAsymmetric}) {
          CAPTURE(to_string(spec.method));
          CAPTURE(bits);
          CAPTURE(group);
          CAPTURE(to_string(scheme));
          const BlockQuantSpec q{bits, group, scheme, ScaleSearch::kSearch};
          for (const DenseLayer& layer : pruned.layers) {
            const std::vector<float> back = dequantize_block_matrix(
                quantize_block_matrix(layer.weights, layer.outputs, layer.inputs, q));
            int zeros = 0;
            int kept = 0;
            for (std::size_t i = 0; i < back.size(); ++i) {
              if (layer.weights[i] != 0.0f) continue;
              ++zeros;
              if (back[i] == 0.0f) ++kept;
            }
            CHECK(zeros > 0);
            CHECK(kept == zeros);
          }
        }
      }
    }
  }
}
