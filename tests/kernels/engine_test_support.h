#pragma once
// What the engine tests share: seeded random models and images, and one forward pass.
#include <cstdint>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/base/sizes.h"
#include "kernels/engine/engine.h"
#include "kernels/model/mlp.h"
#include "kernels/train/train.h"

namespace lowbit::kernels::testing {

// Fashion-MNIST's pixel mean and standard deviation: inputs look like trained models expect.
inline constexpr InputNormalization kFashionNormalization{0.2860f, 0.3530f};

// `count` random images (uniform pixels), normalized with kFashionNormalization.
inline std::vector<float> random_images(std::uint64_t seed, int count, int features) {
  Rng rng(seed);
  std::vector<std::uint8_t> pixels(element_count(count, features));
  for (std::uint8_t& p : pixels) p = static_cast<std::uint8_t>(rng.below(256));
  std::vector<float> images(pixels.size());
  normalize_images(kFashionNormalization, pixels.data(), count, features, images.data());
  return images;
}

// He-initialized weights (train.h) and small random biases, so the bias path is exercised.
inline Mlp random_model(const std::vector<int>& sizes, std::uint64_t seed) {
  Mlp model = init_mlp(sizes, seed);
  Rng rng(seed ^ 0x5eedU);
  for (DenseLayer& layer : model.layers) {
    for (float& b : layer.bias) b = static_cast<float>(0.1 * rng.normal());
  }
  return model;
}

inline std::vector<float> run(InferenceEngine& engine, const std::vector<float>& images,
                              int batch) {
  std::vector<float> logits(element_count(batch, engine.outputs()));
  engine.forward(images.data(), batch, logits.data());
  return logits;
}

}  // namespace lowbit::kernels::testing
