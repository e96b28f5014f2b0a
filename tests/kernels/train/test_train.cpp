// Training on a 2,000-image subset of Fashion-MNIST: the loss goes down, the
// model beats chance by far, and a seed gives the same model bit for bit.
#include <doctest/doctest.h>

#include "kernels/base/library_info.h"
#include "kernels/model/dataset.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

const LabeledData& fashion_mnist() {
  static const LabeledData data = load_fashion_mnist(default_fashion_mnist_dir());
  return data;
}

TrainSpec small_spec(std::uint64_t seed) {
  TrainSpec spec;
  spec.layers = {784, 32, 10};
  spec.epochs = 3;
  spec.train_images = 2000;
  spec.validation_images = 1000;
  spec.seed = seed;
  return spec;
}

bool same_weights(const Mlp& a, const Mlp& b) {
  if (a.layers.size() != b.layers.size()) return false;
  for (std::size_t l = 0; l < a.layers.size(); ++l) {
    if (a.layers[l].weights != b.layers[l].weights || a.layers[l].bias != b.layers[l].bias)
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("train: loss decreases and validation accuracy beats chance on a subset") {
  set_threads(1);
  const TrainResult r = train_mlp(small_spec(1), fashion_mnist().train, {});
  REQUIRE(r.history.size() == 3);
  CHECK(r.history[2].loss < r.history[0].loss);
  CHECK(r.history[0].loss < 2.302585);  // ln 10: the loss of a uniform guess
  CHECK(r.history[2].validation_top1 > 0.6);
}

TEST_CASE("train: the same seed and thread count give the same model bit for bit") {
  set_threads(1);
  const TrainResult a = train_mlp(small_spec(5), fashion_mnist().train, {});
  const TrainResult b = train_mlp(small_spec(5), fashion_mnist().train, {});
  CHECK(same_weights(a.model, b.model));
  CHECK(a.model.normalization.mean == b.model.normalization.mean);
  const TrainResult c = train_mlp(small_spec(6), fashion_mnist().train, {});
  CHECK_FALSE(same_weights(a.model, c.model));
}

TEST_CASE("train: bad specs are rejected with the reason") {
  TrainSpec spec = small_spec(1);
  spec.layers = {100, 10};
  CHECK_THROWS_WITH_AS(train_mlp(spec, fashion_mnist().train, {}), doctest::Contains("784 pixels"),
                       std::invalid_argument);
  spec = small_spec(1);
  spec.validation_images = 60000;
  CHECK_THROWS_AS(train_mlp(spec, fashion_mnist().train, {}), std::invalid_argument);
}

TEST_CASE("train: He initialization has the right spread and is seeded") {
  const Mlp m = init_mlp({784, 256, 10}, 11);
  double sum_sq = 0.0;
  for (float w : m.layers[0].weights) sum_sq += static_cast<double>(w) * w;
  const double variance = sum_sq / static_cast<double>(m.layers[0].weights.size());
  // σ² = 2 / fan_in; with 200k samples the estimate is within a few percent.
  CHECK(variance == doctest::Approx(2.0 / 784).epsilon(0.03));
  CHECK(same_weights(m, init_mlp({784, 256, 10}, 11)));
}

TEST_CASE("mlp: layer lists parse and bad ones are refused") {
  CHECK(parse_layer_sizes("784,128,10") == std::vector<int>{784, 128, 10});
  CHECK_THROWS_AS(parse_layer_sizes("784"), std::invalid_argument);
  CHECK_THROWS_AS(parse_layer_sizes("784,,10"), std::invalid_argument);
  CHECK_THROWS_AS(parse_layer_sizes("784,0,10"), std::invalid_argument);
  CHECK_THROWS_AS(parse_layer_sizes("784,x"), std::invalid_argument);
  CHECK_THROWS_AS(parse_layer_sizes("784,10,"), std::invalid_argument);
  CHECK(format_layer_sizes({784, 128, 10}) == "784,128,10");
}
