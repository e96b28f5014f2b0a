// The mixed engine: one registry engine per layer, ReLU between them; policy entries parsed
// strictly.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_int4.h"
#include "kernels/engine/engine_mixed.h"
#include "tests/kernels/engine_test_support.h"

using namespace lowbit::kernels;
using namespace lowbit::kernels::testing;

TEST_CASE("mixed: layer precisions parse strictly, int4 takes the config's bits") {
  CHECK(parse_layer_precision("fp32", 4) == LayerPrecision{"fp32", 32});
  CHECK(parse_layer_precision("int8", 4) == LayerPrecision{"int8", 8});
  CHECK(parse_layer_precision("int4", 3) == LayerPrecision{"int4", 3});
  CHECK(parse_layer_precision("int4:2", 4) == LayerPrecision{"int4", 2});
  CHECK(to_string(LayerPrecision{"int4", 3}) == "int4:3");
  CHECK(to_string(LayerPrecision{"bf16", 32}) == "bf16");
  for (const char* bad : {"int4:8", "int4:x", "fixed", "mixed", "fp32:8", "", "int8:9"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_layer_precision(bad, 4), std::invalid_argument);
  }
  CHECK_THROWS_AS(parse_layer_precision("int4", 8), std::invalid_argument);  // int4 needs bits ≤ 4
}

TEST_CASE("mixed: each layer is its own path's engine, the ReLU between them") {
  const Mlp model = random_model({37, 19, 11, 5}, 31);
  EngineRequest base;
  base.kernel = "ref";  // every path's twin: the mixed engine must equal the whole-model twins
  MixedLayers layers(model, base, nullptr);
  const std::vector<float> images = random_images(32, 6, 37);

  // All fp32: the fp32 reference model.
  std::vector<LayerPrecision> fp32(3, LayerPrecision{"fp32", 32});
  std::vector<std::shared_ptr<InferenceEngine>> engines;
  for (int l = 0; l < 3; ++l)
    engines.push_back(layers.engine(l, fp32[static_cast<std::size_t>(l)], nullptr));
  const auto mixed = make_mixed_engine(engines, fp32);
  const std::vector<float> got = run(*mixed, images, 6);
  const std::vector<float> want = run(*make_fp32_reference_engine(model), images, 6);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
  CHECK(mixed->kernel().starts_with("mixed["));
  REQUIRE(mixed->layers().size() == 3);
  CHECK(mixed->layers()[0].impl.find("+relu") != std::string::npos);
  CHECK(mixed->layers()[2].impl.find("+relu") == std::string::npos);

  // All int4:4 without calibration: exactly the int4 reference engine (same quantization, same
  // kernel, and the int4 engine's ReLU is the same max(0, ·) in fp32).
  std::vector<LayerPrecision> int4(3, LayerPrecision{"int4", 4});
  engines.clear();
  for (int l = 0; l < 3; ++l)
    engines.push_back(layers.engine(l, int4[static_cast<std::size_t>(l)], nullptr));
  const std::vector<float> packed = run(*make_mixed_engine(engines, int4), images, 6);
  const std::vector<float> whole =
      run(*make_int4_engine(model, 4, 32, QuantScheme::kSymmetric, "ref"), images, 6);
  CHECK(packed == whole);

  // A layer no path runs is a reason, not an engine; engines are built once.
  std::string reason;
  CHECK(layers.engine(0, {"int4", 8}, &reason) == nullptr);
  CHECK(reason.find("int4 needs bits ≤ 4") != std::string::npos);
  CHECK(layers.engine(1, {"int4", 4}, nullptr) == engines[1]);
  CHECK_THROWS_AS(make_mixed_engine({engines[0], engines[2]}, {int4[0], int4[2]}),
                  std::invalid_argument);
}
