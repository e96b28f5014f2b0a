// Pruning: exact achieved sparsity for each method, the n:m pattern in every group, biases
// untouched, the structurally shrunk model computing what the masked dense model computes,
// fine-tuning that keeps pruned weights exactly zero, and bad arguments refused with the field
// they concern.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/model/dataset.h"
#include "kernels/prune/prune.h"
#include "kernels/prune/prune_finetune.h"
#include "kernels/train/adam.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

std::size_t at(int row, int ld) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(ld);
}

// He-initialized weights (no exact zeros, no ties) and small nonzero biases.
Mlp random_model(const std::vector<int>& sizes, std::uint64_t seed) {
  Mlp model = init_mlp(sizes, seed);
  Rng rng(seed ^ 0xb1a5);
  for (DenseLayer& layer : model.layers) {
    for (float& b : layer.bias) b = static_cast<float>(0.1 * rng.normal());
  }
  return model;
}

bool same_biases(const Mlp& a, const Mlp& b) {
  if (a.layers.size() != b.layers.size()) return false;
  for (std::size_t l = 0; l < a.layers.size(); ++l) {
    if (a.layers[l].bias != b.layers[l].bias) return false;
  }
  return true;
}

const LabeledData& fashion_mnist() {
  static const LabeledData data = load_fashion_mnist(default_fashion_mnist_dir());
  return data;
}

TrainSpec small_spec(int epochs) {
  TrainSpec spec;
  spec.layers = {784, 32, 10};
  spec.epochs = epochs;
  spec.train_images = 2000;
  spec.validation_images = 1000;
  spec.seed = 3;
  return spec;
}

// A 784-32-10 model trained one epoch on 2,000 images: real weights to prune and fine-tune.
const Mlp& small_trained_model() {
  static const Mlp model = [] {
    set_threads(1);
    return train_mlp(small_spec(1), fashion_mnist().train, {}).model;
  }();
  return model;
}

// Every weight the mask prunes is exactly +0 or −0 in `model` (same shapes).
bool pruned_weights_are_zero(const Mlp& model, const PruneMask& mask) {
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    for (std::size_t i = 0; i < mask.keep[l].size(); ++i) {
      if (mask.keep[l][i] == 0 && model.layers[l].weights[i] != 0.0f) return false;
    }
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// magnitude

TEST_CASE("prune magnitude: exactly round(ratio · weights) zeros, the smallest, biases untouched") {
  const Mlp model = random_model({784, 128, 10}, 1);
  const std::int64_t total = model.weight_count();
  for (double ratio : {0.0, 0.1, 0.5, 0.9, 0.95, 0.999}) {
    CAPTURE(ratio);
    const PrunedModel pruned = prune_model(model, {PruneMethod::kMagnitude, ratio, {}});
    const std::int64_t removed = std::llround(ratio * static_cast<double>(total));
    CHECK(pruned.mask.pruned_count() == removed);
    CHECK(pruned.model.nonzero_weights() == total - removed);
    CHECK(sparsity(pruned.model, total) ==
          doctest::Approx(static_cast<double>(removed) / total).epsilon(1e-12));
    CHECK(same_biases(pruned.model, model));
    // One global threshold: every pruned magnitude ≤ every kept one, across layers.
    float largest_pruned = 0.0f;
    float smallest_kept = std::numeric_limits<float>::infinity();
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
      for (std::size_t i = 0; i < model.layers[l].weights.size(); ++i) {
        const float m = std::fabs(model.layers[l].weights[i]);
        if (pruned.mask.keep[l][i] == 0)
          largest_pruned = std::max(largest_pruned, m);
        else
          smallest_kept = std::min(smallest_kept, m);
      }
    }
    if (removed > 0) CHECK(largest_pruned <= smallest_kept);
  }
}

TEST_CASE("prune magnitude: ties go in (layer, row, column) order, so the count stays exact") {
  Mlp model = random_model({6, 4, 3}, 2);
  for (DenseLayer& layer : model.layers)
    std::fill(layer.weights.begin(), layer.weights.end(), 0.5f);
  const std::int64_t total = model.weight_count();  // 24 + 12
  const PruneMask mask = compute_prune_mask(model, {PruneMethod::kMagnitude, 0.5, {}});
  CHECK(mask.pruned_count() == 18);
  // The first 18 in order: all of layer 0's first 18 weights.
  for (std::size_t i = 0; i < 24; ++i) CHECK(mask.keep[0][i] == (i < 18 ? 0 : 1));
  CHECK(total == 36);
}

TEST_CASE("prune magnitude: a mask built on an earlier one only grows") {
  const Mlp model = random_model({50, 20, 5}, 3);
  const PruneMask first = compute_prune_mask(model, {PruneMethod::kMagnitude, 0.3, {}});
  Mlp masked = model;
  apply_mask(first, masked);
  // Make a kept weight exactly zero: without `previous` it could take a pruned one's place.
  masked.layers[1].weights[99] = 0.0f;
  const PruneMask second = compute_prune_mask(masked, {PruneMethod::kMagnitude, 0.6, {}}, &first);
  CHECK(second.pruned_count() == std::llround(0.6 * static_cast<double>(model.weight_count())));
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    for (std::size_t i = 0; i < first.keep[l].size(); ++i) {
      if (first.keep[l][i] == 0) CHECK(second.keep[l][i] == 0);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// structured

TEST_CASE("prune structured: 0.5 of 784-128-10 removes 64 neurons, the weakest, and shrinks") {
  const Mlp model = random_model({784, 128, 10}, 4);
  const PrunedModel pruned = prune_model(model, {PruneMethod::kStructured, 0.5, {}});
  CHECK(pruned.model.layer_sizes() == std::vector<int>{784, 64, 10});
  // 64 neurons · (784 + 10) weights of 128 · (784 + 10): exactly half.
  CHECK(sparsity(pruned.model, model.weight_count()) == doctest::Approx(0.5).epsilon(1e-12));
  CHECK(pruned.mask.pruned_count() == model.weight_count() / 2);
  REQUIRE(pruned.mask.kept_neurons.size() == 1);
  const std::vector<int>& kept = pruned.mask.kept_neurons[0];
  REQUIRE(kept.size() == 64);
  // Every kept neuron's incoming row is at least as strong as every removed one's.
  std::vector<double> norm(128);
  for (int o = 0; o < 128; ++o) {
    for (int i = 0; i < 784; ++i) {
      const double w = model.layers[0].weights[at(o, 784) + static_cast<std::size_t>(i)];
      norm[static_cast<std::size_t>(o)] += w * w;
    }
  }
  double weakest_kept = 1e300;
  double strongest_removed = 0.0;
  for (int o = 0; o < 128; ++o) {
    const bool is_kept = std::binary_search(kept.begin(), kept.end(), o);
    if (is_kept)
      weakest_kept = std::min(weakest_kept, norm[static_cast<std::size_t>(o)]);
    else
      strongest_removed = std::max(strongest_removed, norm[static_cast<std::size_t>(o)]);
  }
  CHECK(strongest_removed <= weakest_kept);
  // Biases follow their neurons; the output layer keeps all of its own.
  for (std::size_t k = 0; k < kept.size(); ++k) {
    CHECK(pruned.model.layers[0].bias[k] ==
          model.layers[0].bias[static_cast<std::size_t>(kept[k])]);
  }
  CHECK(pruned.model.layers[1].bias == model.layers[1].bias);
}

TEST_CASE("prune structured: the same fraction of every hidden layer, closest to the ratio") {
  // 784-64-32-10: removing a fraction f of both hidden layers.
  CHECK(structured_neurons_to_remove({784, 64, 32, 10}, 0.0) == std::vector<int>{0, 0});
  const std::vector<int> removed = structured_neurons_to_remove({784, 64, 32, 10}, 0.5);
  REQUIRE(removed.size() == 2);
  const auto achieved = [](int r0, int r1) {
    const double kept = 784.0 * (64 - r0) + (64.0 - r0) * (32 - r1) + (32.0 - r1) * 10;
    return 1.0 - kept / (784.0 * 64 + 64 * 32 + 32 * 10);
  };
  // One fraction f for both layers: f = r0 / 64 rounds to r1 of 32, or f = r1 / 32 to r0 of 64.
  const bool same_fraction = std::lround(removed[0] / 64.0 * 32) == removed[1] ||
                             std::lround(removed[1] / 32.0 * 64) == removed[0];
  CHECK(same_fraction);
  // And no other same-fraction choice comes closer to the ratio.
  const double miss = std::fabs(achieved(removed[0], removed[1]) - 0.5);
  for (int k = 0; k <= 64; ++k) {
    CHECK(miss <= std::fabs(achieved(k, static_cast<int>(std::lround(k / 64.0 * 32))) - 0.5));
  }
  for (int k = 0; k <= 32; ++k) {
    CHECK(miss <= std::fabs(achieved(static_cast<int>(std::lround(k / 32.0 * 64)), k) - 0.5));
  }
  CHECK(miss < 0.01);

  const Mlp model = random_model({784, 64, 32, 10}, 5);
  const PrunedModel pruned = prune_model(model, {PruneMethod::kStructured, 0.5, {}});
  CHECK(pruned.model.layer_sizes() == std::vector<int>{784, 64 - removed[0], 32 - removed[1], 10});
  CHECK(sparsity(pruned.model, model.weight_count()) ==
        doctest::Approx(achieved(removed[0], removed[1])).epsilon(1e-12));
}

TEST_CASE("prune structured: the shrunk model computes what the masked dense model computes") {
  const Mlp model = random_model({784, 48, 24, 10}, 6);
  const PruneMask mask = compute_prune_mask(model, {PruneMethod::kStructured, 0.6, {}});
  Mlp masked = model;
  apply_mask(mask, masked);
  const Mlp shrunk = remove_pruned_neurons(masked, mask);
  Rng rng(12);
  const int batch = 17;
  std::vector<float> src(static_cast<std::size_t>(batch) * 784);
  for (float& v : src) v = static_cast<float>(rng.normal());
  std::vector<float> from_masked(static_cast<std::size_t>(batch) * 10);
  std::vector<float> from_shrunk(from_masked.size());
  // The reference GEMM sums in double: the cut-out terms are exact zeros, adding them changes
  // no double sum, and both round the same sum once to float — so the logits are equal bit for
  // bit (the removed neurons' ReLU outputs meet only zero weights in the next layer).
  make_fp32_reference_engine(masked)->forward(src.data(), batch, from_masked.data());
  make_fp32_reference_engine(shrunk)->forward(src.data(), batch, from_shrunk.data());
  CHECK(from_masked == from_shrunk);
  // OpenBLAS sums in float in an order that depends on K, so there the two differ by rounding
  // only: per logit within γ_K-sized bounds; 1e-4 relative to the largest logit is far above
  // γ_784 ≈ 4.7e-5 and far below any real difference.
  make_fp32_openblas_engine(masked)->forward(src.data(), batch, from_masked.data());
  make_fp32_openblas_engine(shrunk)->forward(src.data(), batch, from_shrunk.data());
  float largest = 0.0f;
  for (float v : from_masked) largest = std::max(largest, std::fabs(v));
  for (std::size_t i = 0; i < from_masked.size(); ++i) {
    CHECK(std::fabs(from_masked[i] - from_shrunk[i]) <= 1e-4f * largest);
  }
}

TEST_CASE("prune structured: a ratio that would empty a layer, or no hidden layer, is refused") {
  const Mlp model = random_model({784, 128, 10}, 7);
  CHECK_THROWS_WITH_AS(compute_prune_mask(model, {PruneMethod::kStructured, 0.999, {}}),
                       doctest::Contains("would remove every neuron of hidden layer 1"),
                       std::invalid_argument);
  CHECK_NOTHROW(compute_prune_mask(model, {PruneMethod::kStructured, 0.99, {}}));
  const Mlp no_hidden = random_model({784, 10}, 8);
  CHECK_THROWS_WITH_AS(compute_prune_mask(no_hidden, {PruneMethod::kStructured, 0.5, {}}),
                       doctest::Contains("has none"), std::invalid_argument);
  CHECK(compute_prune_mask(no_hidden, {PruneMethod::kStructured, 0.0, {}}).pruned_count() == 0);
}

// ---------------------------------------------------------------------------------------------
// n:m

TEST_CASE("prune n:m: every group of m keeps exactly its n largest, tails keep min(n, len)") {
  // Inputs 784 (whole groups), 10 (4 + 4 + 2) and 7 (4 + 3): tails shorter and longer than n.
  for (const NmPattern nm : {NmPattern{2, 4}, NmPattern{1, 4}, NmPattern{3, 8}, NmPattern{4, 4}}) {
    CAPTURE(to_string(nm));
    for (const std::vector<int>& sizes :
         {std::vector<int>{784, 32, 10}, std::vector<int>{10, 7, 3}}) {
      const Mlp model = random_model(sizes, 9);
      const PrunedModel pruned = prune_model(model, {PruneMethod::kNm, nm_ratio(nm), nm});
      CHECK(same_biases(pruned.model, model));
      std::int64_t expected_kept = 0;
      for (std::size_t l = 0; l < model.layers.size(); ++l) {
        const DenseLayer& layer = model.layers[l];
        for (int o = 0; o < layer.outputs; ++o) {
          for (int first = 0; first < layer.inputs; first += nm.m) {
            const int len = std::min(nm.m, layer.inputs - first);
            const int should_keep = std::min(nm.n, len);
            expected_kept += should_keep;
            int kept = 0;
            float smallest_kept = std::numeric_limits<float>::infinity();
            float largest_pruned = 0.0f;
            for (int i = first; i < first + len; ++i) {
              const std::size_t idx = at(o, layer.inputs) + static_cast<std::size_t>(i);
              const float m = std::fabs(layer.weights[idx]);
              if (pruned.mask.keep[l][idx] != 0) {
                ++kept;
                smallest_kept = std::min(smallest_kept, m);
                CHECK(pruned.model.layers[l].weights[idx] == layer.weights[idx]);
              } else {
                largest_pruned = std::max(largest_pruned, m);
                CHECK(pruned.model.layers[l].weights[idx] == 0.0f);
              }
            }
            CHECK(kept == should_keep);
            CHECK(largest_pruned <= smallest_kept);
          }
        }
      }
      CHECK(pruned.mask.kept_count() == expected_kept);
      CHECK(pruned.model.nonzero_weights() == expected_kept);
      if (sizes.front() == 784) {
        // No tails: the sparsity is exactly 1 − n/m.
        CHECK(sparsity(pruned.model, model.weight_count()) ==
              doctest::Approx(nm_ratio(nm)).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("prune n:m: ties keep the lower index") {
  Mlp model = random_model({8, 1}, 10);
  model.layers[0].weights = {1.0f, -1.0f, 1.0f, 0.5f, 0.0f, 0.0f, 0.0f, 0.0f};
  const PruneMask mask = compute_prune_mask(model, {PruneMethod::kNm, 0.5, {2, 4}});
  CHECK(mask.keep[0] == std::vector<std::uint8_t>{1, 1, 0, 0, 1, 1, 0, 0});
}

// ---------------------------------------------------------------------------------------------
// arguments

TEST_CASE("prune: bad arguments are refused, naming the field") {
  const Mlp model = random_model({20, 8, 4}, 11);
  CHECK_THROWS_WITH_AS(compute_prune_mask(model, {PruneMethod::kMagnitude, 1.0, {}}),
                       doctest::Contains("prune ratio: must be in [0, 1)"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(compute_prune_mask(model, {PruneMethod::kMagnitude, -0.1, {}}),
                       doctest::Contains("prune ratio"), std::invalid_argument);
  CHECK_THROWS_AS(compute_prune_mask(model, {PruneMethod::kMagnitude, std::nan(""), {}}),
                  std::invalid_argument);
  CHECK_THROWS_WITH_AS(compute_prune_mask(model, {PruneMethod::kNm, 0.9, {2, 4}}),
                       doctest::Contains("1 − n/m = 0.5"), std::invalid_argument);
  CHECK_NOTHROW(compute_prune_mask(model, {PruneMethod::kNm, 0.666667, {1, 3}}));
  CHECK_THROWS_WITH_AS(compute_prune_mask(model, {PruneMethod::kNm, 0.0, {5, 4}}),
                       doctest::Contains("nm: n must not exceed m"), std::invalid_argument);

  CHECK(parse_prune_method("magnitude") == PruneMethod::kMagnitude);
  CHECK(parse_prune_method("structured") == PruneMethod::kStructured);
  CHECK(parse_prune_method("n:m") == PruneMethod::kNm);
  CHECK_THROWS_WITH_AS(parse_prune_method("random"), doctest::Contains("prune method: \"random\""),
                       std::invalid_argument);

  const NmPattern nm = parse_nm("2:4");
  CHECK(nm.n == 2);
  CHECK(nm.m == 4);
  CHECK(to_string(parse_nm("1:16")) == "1:16");
  CHECK_THROWS_WITH_AS(parse_nm("5:4"), doctest::Contains("nm: n must not exceed m"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_nm("0:4"), doctest::Contains("nm: n must be ≥ 1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(parse_nm("1:1"), doctest::Contains("nm: m must be ≥ 2"),
                       std::invalid_argument);
  for (const char* bad : {"2-4", "2:", ":4", "2:4:8", "a:b", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(parse_nm(bad), doctest::Contains("nm:"), std::invalid_argument);
  }

  CHECK(parse_prune_schedule("gradual") == PruneSchedule::kGradual);
  CHECK(parse_prune_schedule("oneshot") == PruneSchedule::kOneshot);
  CHECK_THROWS_WITH_AS(parse_prune_schedule("linear"), doctest::Contains("prune schedule"),
                       std::invalid_argument);

  Mlp broken = model;
  broken.layers[1].weights[3] = std::nanf("");
  CHECK_THROWS_WITH_AS(compute_prune_mask(broken, {PruneMethod::kMagnitude, 0.5, {}}),
                       doctest::Contains("layer 1"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(apply_mask(PruneMask::keep_all(random_model({20, 9, 4}, 1)), broken),
                       doctest::Contains("mask:"), std::invalid_argument);
}

TEST_CASE("prune gradual: Zhu & Gupta's cubic reaches the final ratio at the last epoch") {
  CHECK(gradual_ratio(0.9, 1, 1) == doctest::Approx(0.9));
  CHECK(gradual_ratio(0.8, 1, 2) == doctest::Approx(0.8 * 0.875));
  CHECK(gradual_ratio(0.8, 2, 2) == doctest::Approx(0.8));
  // Increasing, in shrinking steps: most of the pruning happens early, while there are epochs
  // left to recover.
  double previous = 0.0;
  double previous_step = 1.0;
  for (int e = 1; e <= 5; ++e) {
    const double r = gradual_ratio(0.9, e, 5);
    CHECK(r - previous > 0.0);
    CHECK(r - previous < previous_step);
    previous_step = r - previous;
    previous = r;
  }
  CHECK_THROWS_AS(gradual_ratio(0.9, 0, 5), std::invalid_argument);
  CHECK_THROWS_AS(gradual_ratio(0.9, 6, 5), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// fine-tuning

TEST_CASE("prune adam: a masked step keeps pruned weights at zero despite gradients and decay") {
  Mlp model = random_model({6, 3}, 12);
  PruneMask mask = PruneMask::keep_all(model);
  mask.keep[0][0] = 0;
  mask.keep[0][7] = 0;
  apply_mask(mask, model);
  Gradients grads = Gradients::zeros_like(model);
  std::fill(grads.weights[0].begin(), grads.weights[0].end(), 1.0f);
  std::fill(grads.bias[0].begin(), grads.bias[0].end(), 1.0f);
  Adam adam(model, AdamSettings{.weight_decay = 0.5f});
  const Mlp before = model;
  for (int step = 0; step < 5; ++step) adam.step(model, grads, 0.1f, mask);
  CHECK(model.layers[0].weights[0] == 0.0f);
  CHECK(model.layers[0].weights[7] == 0.0f);
  CHECK(model.layers[0].weights[1] != before.layers[0].weights[1]);  // the rest trains
  CHECK(model.layers[0].bias != before.layers[0].bias);              // biases are never pruned
}

TEST_CASE("prune finetune: pruned weights stay exactly zero through fine-tuning, every method") {
  set_threads(1);
  const Mlp& base = small_trained_model();
  const std::int64_t total = base.weight_count();
  struct Case {
    PruneSpec spec;
    PruneSchedule schedule;
  };
  const Case cases[] = {
      {{PruneMethod::kMagnitude, 0.8, {}}, PruneSchedule::kOneshot},
      {{PruneMethod::kMagnitude, 0.8, {}}, PruneSchedule::kGradual},
      {{PruneMethod::kNm, 0.5, {2, 4}}, PruneSchedule::kGradual},  // n:m runs oneshot
      {{PruneMethod::kStructured, 0.5, {}}, PruneSchedule::kGradual},
  };
  for (const Case& c : cases) {
    CAPTURE(to_string(c.spec.method));
    CAPTURE(to_string(c.schedule));
    const FineTuneResult tuned =
        finetune_pruned(base, c.spec, c.schedule, small_spec(2), fashion_mnist().train);
    REQUIRE(tuned.history.size() == 2);
    REQUIRE(tuned.epoch_ratios.size() == 2);
    CHECK(tuned.epoch_ratios.back() == doctest::Approx(c.spec.ratio));
    CHECK(tuned.mask.pruned_count() >= std::llround(c.spec.ratio * static_cast<double>(total)) - 1);
    CHECK(sparsity(tuned.model, total) >=
          static_cast<double>(tuned.mask.pruned_count()) / total - 1e-12);
    CHECK(tuned.history.back().validation_top1 > 0.5);  // still a working classifier
    if (c.spec.method == PruneMethod::kStructured) {
      CHECK(tuned.model.layer_sizes() == std::vector<int>{784, 16, 10});
      CHECK(sparsity(tuned.model, total) >= 0.5 - 1e-12);
    } else {
      CHECK(pruned_weights_are_zero(tuned.model, tuned.mask));
      // The fine-tuning changed the kept weights: it really trained.
      CHECK(tuned.model.layers[0].weights != base.layers[0].weights);
    }
    if (c.schedule == PruneSchedule::kGradual && c.spec.method != PruneMethod::kNm) {
      CHECK(tuned.epoch_ratios.front() < tuned.epoch_ratios.back());
    }
  }
  // No epochs: pruning only, the same as prune_model.
  const FineTuneResult none =
      finetune_pruned(base, {PruneMethod::kMagnitude, 0.7, {}}, PruneSchedule::kGradual,
                      small_spec(0), fashion_mnist().train);
  const PrunedModel direct = prune_model(base, {PruneMethod::kMagnitude, 0.7, {}});
  CHECK(none.model.layers[0].weights == direct.model.layers[0].weights);
  CHECK(none.history.empty());
  // A bad spec fails before any training.
  CHECK_THROWS_WITH_AS(
      finetune_pruned(base, {PruneMethod::kStructured, 0.9999, {}}, PruneSchedule::kGradual,
                      small_spec(2), fashion_mnist().train),
      doctest::Contains("every neuron"), std::invalid_argument);
}

TEST_CASE("prune finetune: the fine-tuning spec keeps the base settings, with its own rate") {
  TrainSpec base = small_spec(30);
  base.weight_decay = 0.01f;
  const TrainSpec spec = finetune_train_spec(base, 2);
  CHECK(spec.epochs == 2);
  CHECK(spec.learning_rate == kFineTuneLearningRate);
  CHECK(spec.weight_decay == 0.01f);
  CHECK(spec.seed == base.seed);
  CHECK(spec.train_images == base.train_images);
  CHECK(kDefaultPruneSchedule == PruneSchedule::kOneshot);
}

TEST_CASE("prune finetune: deterministic for the same inputs") {
  set_threads(1);
  const Mlp& base = small_trained_model();
  const PruneSpec spec{PruneMethod::kMagnitude, 0.9, {}};
  const FineTuneResult a =
      finetune_pruned(base, spec, PruneSchedule::kGradual, small_spec(1), fashion_mnist().train);
  const FineTuneResult b =
      finetune_pruned(base, spec, PruneSchedule::kGradual, small_spec(1), fashion_mnist().train);
  CHECK(a.model.layers[0].weights == b.model.layers[0].weights);
  CHECK(a.model.layers[1].bias == b.model.layers[1].bias);
}
