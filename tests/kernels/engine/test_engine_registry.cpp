// The engine registry: the bits × precision table, auto vs forced paths, simulated weights, and
// skips that say why — never a silent substitute.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/base/library_info.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_registry.h"
#include "kernels/engine/engine_sparse.h"
#include "kernels/engine/onednn_common.h"
#include "kernels/engine/simulated_weights.h"
#include "tests/kernels/engine_test_support.h"

using namespace lowbit::kernels;
using namespace lowbit::kernels::testing;

namespace {

struct Fixture {
  Mlp model = random_model({37, 19, 5}, 21);
  std::vector<float> calibration_images = random_images(22, 32, 37);
  CalibrationSet calibration{calibration_images.data(), 32, 37};

  EngineChoice select(const std::string& precision, int bits, const std::string& kernel = "auto",
                      const std::string& isa_cap = "native") const {
    EngineRequest r;
    r.precision = precision;
    r.bits = bits;
    r.kernel = kernel;
    r.calibration = &calibration;
    r.isa_cap = isa_cap;
    return select_engine(model, r);
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Twins are named "ref/…" (fp32, bf16, int8) or "…_ref" (the tiers of our own kernels).
bool is_reference_kernel(const std::string& kernel) {
  return kernel.starts_with("ref/") || kernel.ends_with("_ref");
}

}  // namespace

TEST_CASE("registry: auto picks the first fast path, a forced path runs or says why not") {
  const Fixture f;
  CHECK(engine_paths().back() == "ref");
  EngineChoice automatic = f.select("fp32", 32);
  REQUIRE(automatic.engine);
  CHECK(automatic.path == "openblas");
  EngineChoice forced = f.select("fp32", 32, "ref");
  REQUIRE(forced.engine);
  CHECK(forced.path == "ref");
  EngineChoice wrong_precision = f.select("fp32", 32, "onednn");
  CHECK_FALSE(wrong_precision.engine);
  CHECK(contains(wrong_precision.skip_reason, "kernel onednn has no fp32 path"));
  EngineChoice unknown = f.select("fp32", 32, "cuda");
  CHECK_FALSE(unknown.engine);
  CHECK(contains(unknown.skip_reason, "cuda"));
}

TEST_CASE("registry: combinations outside the bits × precision table are skipped with the reason") {
  const Fixture f;
  for (const char* integer : {"int8", "fixed"}) {
    CAPTURE(integer);
    const EngineChoice c = f.select(integer, 32);
    CHECK_FALSE(c.engine);
    CHECK(contains(c.skip_reason, std::string(integer) + " needs bits ≤ 8"));
  }
  CHECK(contains(f.select("fp32", 9).skip_reason, "bits must be 2..8 or 32"));
  CHECK(contains(f.select("int4", 8).skip_reason, "int4 needs bits ≤ 4"));
  CHECK(contains(f.select("int4", 32).skip_reason, "int4 needs bits ≤ 4"));
  CHECK(contains(f.select("tf32", 32).skip_reason, "unknown precision"));
}

TEST_CASE("registry: auto never runs a reference twin") {
  const Fixture f;
  for (const char* precision : {"fp32", "bf16", "fp16", "int8", "int4", "fixed"}) {
    CAPTURE(precision);
    const std::string p = precision;
    const int bits = p == "int4" ? 4 : p == "int8" || p == "fixed" ? 8 : 32;
    const EngineChoice c = f.select(precision, bits);
    CHECK(c.path != "ref");
    if (c.engine) CHECK_FALSE(is_reference_kernel(c.engine->kernel()));
    // Forced, every reference twin runs anywhere.
    const EngineChoice twin = f.select(precision, bits, "ref");
    REQUIRE(twin.engine);
    CHECK(is_reference_kernel(twin.engine->kernel()));
  }
}

TEST_CASE("registry: float modes with b ≤ 8 bits run the float kernel on simulated weights") {
  const Fixture f;
  for (const int bits : {8, 4, 2}) {
    CAPTURE(bits);
    EngineChoice c = f.select("fp32", bits);
    REQUIRE(c.engine);
    CHECK(c.engine->weights() == "simulated");
    CHECK(contains(c.engine->kernel(), "openblas/"));
    // Exactly the fp32 model on quantize-dequantized weights.
    QuantSpec spec;
    spec.bits = bits;
    const auto want = make_fp32_reference_engine(fake_quantize_model(f.model, spec));
    const std::vector<float> images = random_images(23, 5, 37);
    const std::vector<float> got = run(*c.engine, images, 5);
    const std::vector<float> expected = run(*want, images, 5);
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(std::fabs(got[i] - expected[i]) <= 1e-4f * (1.0f + std::fabs(expected[i])));
    }
  }
  EngineChoice fp16 = f.select("fp16", 4);
  REQUIRE(fp16.engine);
  CHECK(fp16.engine->weights() == "simulated");
  EngineChoice real = f.select("int8", 4);
  REQUIRE(real.engine);
  CHECK(real.engine->weights() == "real");
}

TEST_CASE("registry: integer modes refuse what their arithmetic cannot do") {
  const Fixture f;
  EngineRequest r;
  r.calibration = &f.calibration;
  r.bits = 8;
  r.precision = "int8";
  r.quant.scheme = QuantScheme::kAsymmetric;
  EngineChoice asym = select_engine(f.model, r);
  CHECK_FALSE(asym.engine);
  CHECK(contains(asym.skip_reason, "symmetric"));
  r.precision = "fixed";
  r.quant.scheme = QuantScheme::kSymmetric;
  r.quant.static_activations = false;
  EngineChoice dynamic = select_engine(f.model, r);
  CHECK_FALSE(dynamic.engine);
  CHECK(contains(dynamic.skip_reason, "static"));
  // Asymmetric weights are fine where they are only simulated.
  r.precision = "fp32";
  r.quant.scheme = QuantScheme::kAsymmetric;
  CHECK(select_engine(f.model, r).engine);
}

TEST_CASE("registry: our own kernels respect the ISA cap") {
  const Fixture f;
  const EngineChoice capped = f.select("fixed", 8, "auto", "sse41");
  CHECK_FALSE(capped.engine);
  CHECK(contains(capped.skip_reason, "above the ISA cap sse41"));
  const EngineChoice fp16 = f.select("fp16", 32, "auto", "sse41");
  CHECK_FALSE(fp16.engine);
  const EngineChoice twin = f.select("fixed", 8, "ref", "sse41");
  CHECK(twin.engine);
}

TEST_CASE("registry: int4 runs at 2..4 bits on the fastest tier the CPU and cap admit") {
  const Fixture f;
  for (const int bits : {2, 3, 4}) {
    CAPTURE(bits);
    const EngineChoice c = f.select("int4", bits);
    REQUIRE(c.engine);
    CHECK(c.engine->weights() == "real");
    CHECK(contains(c.engine->kernel(), "lowbit/q" + std::to_string(bits) + "_g32_"));
    CHECK(c.path == (c.engine->kernel().ends_with("_avx512_vnni") ? "avx512"
                     : c.engine->kernel().ends_with("_avx2")      ? "avx2"
                                                                  : "portable"));
  }
  // The portable tier is real code, not a twin: under a cap below AVX2 auto takes it.
  const EngineChoice capped = f.select("int4", 4, "auto", "sse41");
  REQUIRE(capped.engine);
  CHECK(capped.path == "portable");
  CHECK(capped.engine->kernel() == "lowbit/q4_g32_portable");
  const EngineChoice avx2_capped = f.select("int4", 4, "avx2", "sse41");
  CHECK_FALSE(avx2_capped.engine);
  CHECK(contains(avx2_capped.skip_reason, "cap"));
  const EngineChoice twin = f.select("int4", 3, "ref");
  REQUIRE(twin.engine);
  CHECK(twin.engine->kernel() == "lowbit/q3_g32_ref");
  EngineRequest r;
  r.precision = "int4";
  r.bits = 4;
  r.group_size = 128;
  const EngineChoice g128 = select_engine(f.model, r);
  REQUIRE(g128.engine);
  CHECK(contains(g128.engine->kernel(), "_g128_"));
  r.quant.granularity = QuantGranularity::kPerTensor;
  const EngineChoice tensor = select_engine(f.model, r);
  CHECK_FALSE(tensor.engine);
  CHECK(contains(tensor.skip_reason, "granularity tensor"));
}

TEST_CASE("registry: bf16 where oneDNN cannot is skipped with oneDNN's reason, never fp32") {
  const Fixture f;
  const EngineChoice c = f.select("bf16", 32);
  if (onednn_isa_has_avx512_core(onednn_effective_isa())) {
    REQUIRE(c.engine);
    CHECK(contains(c.engine->kernel(), "/bf16"));
  } else {
    CHECK_FALSE(c.engine);
    CHECK(contains(c.skip_reason, "bf16"));
    CHECK(contains(c.skip_reason, onednn_effective_isa()));
  }
}

TEST_CASE("registry: fp32 runs the sparse path only where it beats dense at the smallest batch") {
  Fixture f;
  f.model = random_model({784, 128, 10}, 31);
  // Keep every 25th weight: density 0.04, far below the batch-1 break-even.
  for (DenseLayer& layer : f.model.layers) {
    for (std::size_t i = 0; i < layer.weights.size(); ++i) {
      if (i % 25 != 0) layer.weights[i] = 0.0f;
    }
  }
  EngineRequest r;
  r.batch = 1;
  const EngineChoice sparse = select_engine(f.model, r);
  REQUIRE(sparse.engine);
  CHECK(sparse.path == "csr");
  CHECK(sparse.engine->model_bytes() < f.model.weight_count() * 4 / 4);
  // The same model timed from batch 1024 on, and a dense model, stay on OpenBLAS.
  r.batch = 1024;
  CHECK(select_engine(f.model, r).path == (sparse_is_faster(f.model, 1024) ? "csr" : "openblas"));
  r.batch = 1;
  CHECK(select_engine(random_model({784, 128, 10}, 32), r).path == "openblas");
  // Forced, the sparse path runs a dense model too.
  r.kernel = "csr";
  CHECK(select_engine(random_model({784, 128, 10}, 32), r).path == "csr");
}
