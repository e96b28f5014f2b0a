// The int8 mode's own AVX2 path (engine_int8_avx2.h), and oneDNN's small-batch dispatch onto it,
// against the reference twin. Both compute the int32 accumulators exactly and then call the same
// epilogue (int8_store) in the same order, so the logits must be equal bit for bit — not within
// a tolerance.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/base/library_info.h"
#include "kernels/engine/engine_int8_avx2.h"
#include "kernels/engine/engine_onednn_int8.h"
#include "kernels/engine/int8_reference.h"
#include "kernels/engine/onednn_common.h"
#include "tests/kernels/engine_test_support.h"

using namespace lowbit::kernels;
using namespace lowbit::kernels::testing;

namespace {

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("int8 avx2: logits equal the reference bit for bit on odd shapes, batches and modes") {
  if (!int8_avx2_supported()) {
    MESSAGE("skipped: this CPU has no AVX2");
    return;
  }
  // K = 37 and 19 leave tails of the 16-byte depth step; N = 1 and 5 leave channel tails.
  const std::vector<std::vector<int>> shapes = {{37, 19, 5}, {19, 1}, {784, 64, 10}};
  std::uint64_t seed = 700;
  for (const std::vector<int>& shape : shapes) {
    for (const int bits : {8, 5, 2}) {
      for (const bool static_activations : {true, false}) {
        for (const bool fuse : {true, false}) {
          if (!static_activations && fuse) continue;
          ++seed;
          CAPTURE(shape.front());
          CAPTURE(bits);
          CAPTURE(static_activations);
          CAPTURE(fuse);
          const Mlp model = random_model(shape, seed);
          const std::vector<float> calibration_images = random_images(seed + 1, 48, shape.front());
          const CalibrationSet calibration{calibration_images.data(), 48, shape.front()};
          QuantSpec spec;
          spec.bits = bits;
          spec.static_activations = static_activations;
          spec.granularity =
              bits == 5 ? QuantGranularity::kPerTensor : QuantGranularity::kPerChannel;
          Int8Options options;
          options.fuse_requantize = fuse;
          options.range = Int8ActivationRange::kFull;
          const auto fast = make_int8_avx2_engine(model, spec, calibration, options);
          const auto ref = make_int8_reference_engine(model, spec, calibration, options);
          for (const int batch : {1, 3, 17}) {
            CAPTURE(batch);
            const std::vector<float> images =
                random_images(seed + 2 + static_cast<std::uint64_t>(batch), batch, shape.front());
            CHECK(bit_equal(run(*fast, images, batch), run(*ref, images, batch)));
          }
        }
      }
    }
  }
}

TEST_CASE("int8 avx2: the full activation range, named, and the real storage") {
  if (!int8_avx2_supported()) return;
  const Mlp model = random_model({37, 19, 5}, 3);
  const std::vector<float> images = random_images(4, 16, 37);
  const CalibrationSet calibration{images.data(), 16, 37};
  const auto engine = make_int8_avx2_engine(model, QuantSpec{}, calibration);
  const auto& int8 = dynamic_cast<const Int8Engine&>(*engine);
  CHECK(int8.model().range.activations.qmax == 255);
  CHECK(engine->kernel() == "lowbit/u8s8_avx2/int8");
  CHECK(engine->layers().front().impl.find("vpmaddwd") != std::string::npos);
  CHECK(engine->model_bytes() == (37 * 19 + 19 * 5) + (19 + 5) * 2 * 4);
}

TEST_CASE("int8 oneDNN: small batches run the AVX2 GEMM and still equal the reference exactly") {
  const std::string isa = onednn_effective_isa();
  const Mlp model = random_model({784, 64, 10}, 9);
  const std::vector<float> calibration_images = random_images(10, 32, 784);
  const CalibrationSet calibration{calibration_images.data(), 32, 784};
  QuantSpec spec;
  Int8Options dispatch;
  dispatch.small_batch_below = 8;
  const auto fast = make_onednn_int8_engine(model, spec, calibration, dispatch);
  const auto ref = make_int8_reference_engine(model, spec, calibration);
  if (!int8_avx2_supported()) {
    CHECK(fast->kernel().find("u8s8") == std::string::npos);
    return;
  }
  CHECK(fast->kernel().find("+lowbit/u8s8_avx2(batch<8)") != std::string::npos);
  for (const int batch : {1, 7}) {
    CAPTURE(batch);
    const std::vector<float> images =
        random_images(11 + static_cast<std::uint64_t>(batch), batch, 784);
    CHECK(bit_equal(run(*fast, images, batch), run(*ref, images, batch)));
  }
  // The automatic threshold: only where oneDNN's int8 lacks VNNI on AVX2.
  const auto automatic = make_onednn_int8_engine(model, spec, calibration);
  const bool expect_dispatch = isa.starts_with("avx2") && !onednn_isa_has_vnni(isa);
  CHECK((automatic->kernel().find("u8s8_avx2") != std::string::npos) == expect_dispatch);
}
