#include "kernels/model/mlp.h"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace lowbit::kernels {

std::vector<int> Mlp::layer_sizes() const {
  std::vector<int> sizes;
  if (layers.empty()) return sizes;
  sizes.push_back(layers.front().inputs);
  for (const DenseLayer& layer : layers) sizes.push_back(layer.outputs);
  return sizes;
}

std::int64_t Mlp::weight_count() const {
  std::int64_t n = 0;
  for (const DenseLayer& layer : layers) n += std::int64_t{layer.inputs} * layer.outputs;
  return n;
}

std::int64_t Mlp::nonzero_weights() const {
  std::int64_t n = 0;
  for (const DenseLayer& layer : layers) {
    for (float w : layer.weights) n += (w != 0.0f);
  }
  return n;
}

std::int64_t Mlp::multiply_adds_per_image() const { return weight_count(); }

void check_layer_sizes(const std::vector<int>& sizes) {
  if (sizes.size() < 2) {
    throw std::invalid_argument(
        fmt::format("needs at least an input and an output size, got {}", sizes.size()));
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 1) {
      throw std::invalid_argument(fmt::format("size {} at position {} must be ≥ 1", sizes[i], i));
    }
  }
}

std::vector<int> parse_layer_sizes(const std::string& text) {
  std::vector<int> sizes = parse_size_list(text);
  check_layer_sizes(sizes);
  return sizes;
}

std::vector<int> parse_size_list(const std::string& text) {
  std::vector<int> sizes;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    int value = 0;
    auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || (next != end && *next != ',')) {
      throw std::invalid_argument(
          fmt::format("\"{}\" is not a comma-separated list of sizes", text));
    }
    sizes.push_back(value);
    p = next == end ? end : next + 1;
    if (next != end && p == end) {
      throw std::invalid_argument(fmt::format("\"{}\" ends with a comma", text));
    }
  }
  if (sizes.empty()) throw std::invalid_argument("the list is empty");
  for (int size : sizes) {
    if (size < 1)
      throw std::invalid_argument(fmt::format("size {} in \"{}\" must be ≥ 1", size, text));
  }
  return sizes;
}

std::string format_layer_sizes(const std::vector<int>& sizes) {
  return fmt::format("{}", fmt::join(sizes, ","));
}

void normalize_images(const InputNormalization& norm, const std::uint8_t* pixels, int count,
                      int features, float* dst) {
  // One multiply-add per pixel: x' = x · (1 / (255 σ)) − μ / σ.
  const float scale = 1.0f / (255.0f * norm.stddev);
  const float shift = -norm.mean / norm.stddev;
  const std::size_t n = static_cast<std::size_t>(count) * static_cast<std::size_t>(features);
  for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(pixels[i]) * scale + shift;
}

}  // namespace lowbit::kernels
