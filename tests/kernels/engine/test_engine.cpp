// fp32 engines: OpenBLAS against the reference engine, and the ordered list
// of compute paths (first that accepts runs; a forced path that cannot is a
// skip with its reason).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/train/evaluate.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

TEST_CASE("engine: OpenBLAS and reference agree on logits for several batch sizes") {
  const Mlp model = init_mlp({37, 19, 8, 5}, 21);
  auto fast = make_fp32_openblas_engine(model);
  auto ref = make_fp32_reference_engine(model);
  Rng rng(22);
  for (int batch : {1, 2, 7, 64}) {
    CAPTURE(batch);
    std::vector<float> x(static_cast<std::size_t>(batch * 37));
    for (float& v : x) v = static_cast<float>(rng.normal());
    std::vector<float> a(static_cast<std::size_t>(batch * 5));
    std::vector<float> b(a.size());
    fast->forward(x.data(), batch, a.data());
    ref->forward(x.data(), batch, b.data());
    // Cancellation makes a relative check on each logit meaningless near 0;
    // the error of three layers of K ≤ 37 float dot products is bounded by
    // ~3·37·2⁻²⁴ ≈ 7e-6 times the magnitude of the terms, which the largest
    // logit stands in for (tight enough to catch a wrong element or layout).
    double largest = 0.0;
    for (float v : b) largest = std::max(largest, std::fabs(static_cast<double>(v)));
    const double tolerance = 1e-5 * (1.0 + largest);
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(std::fabs(static_cast<double>(a[i]) - b[i]) <= tolerance);
    }
  }
  CHECK(fast->model_bytes() == (37 * 19 + 19 + 19 * 8 + 8 + 8 * 5 + 5) * 4);
  CHECK(fast->kernel().rfind("openblas/", 0) == 0);
  CHECK(ref->kernel() == "ref/sgemm");
  CHECK(fast->layers().size() == 3);
}

TEST_CASE("evaluate: top-1, per-image correctness and agreement") {
  // A 2-class model that predicts class 1 iff the first pixel is bright.
  Mlp model;
  model.layers.push_back({2, 2, {-1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 0.0f}});
  model.normalization = {0.0f, 1.0f};
  ImageSet images;
  images.count = 4;
  images.rows = 1;
  images.cols = 2;
  images.pixels = {0, 0, 255, 0, 255, 9, 0, 7};
  images.labels = {0, 1, 0, 0};
  auto engine = make_fp32_reference_engine(model);
  const Evaluation e = evaluate(*engine, model.normalization, images, 3);  // ragged last batch
  CHECK(e.predictions == std::vector<std::uint8_t>{0, 1, 1, 0});
  CHECK(e.correct == std::vector<bool>{true, true, false, true});
  CHECK(e.top1 == doctest::Approx(0.75));
  CHECK(agreement(e.predictions, {0, 1, 0, 0}) == doctest::Approx(0.75));
}
