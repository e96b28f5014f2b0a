#pragma once
// The multi-layer perceptron every workload variant starts from: dense layers
// with ReLU between them and raw logits at the end. Weights are stored
// [out][in] (one row per output neuron, like PyTorch's Linear), which is the
// layout structured pruning (drop rows), per-channel quantization (a scale
// per row) and N:M pruning (groups along a row) all want.

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/base/aligned_vector.h"

namespace lowbit::kernels {

struct DenseLayer {
  int inputs = 0;
  int outputs = 0;
  AlignedVector<float> weights;  // outputs × inputs; cache-line aligned, so timings do not
                                 // depend on where the heap put the layer
  std::vector<float> bias;       // outputs
};

// x' = (x / 255 − mean) / stddev, with mean and stddev of the training pixels.
struct InputNormalization {
  float mean = 0.0f;
  float stddev = 1.0f;
};

struct Mlp {
  std::vector<DenseLayer> layers;
  InputNormalization normalization;

  std::vector<int> layer_sizes() const;  // {784, 128, 10}
  int inputs() const { return layers.front().inputs; }
  int outputs() const { return layers.back().outputs; }
  std::int64_t weight_count() const;     // biases excluded
  std::int64_t nonzero_weights() const;  // biases excluded
  std::int64_t multiply_adds_per_image() const;
};

// Validates a layer list such as {784, 128, 10}; throws std::invalid_argument
// naming the problem (fewer than two sizes, a size below 1).
void check_layer_sizes(const std::vector<int>& sizes);

// Parses a comma-separated list of positive integers ("1,64,1024");
// throws std::invalid_argument on a malformed list or a size below 1.
std::vector<int> parse_size_list(const std::string& text);

// Parses "784,128,10" (at least two sizes); throws std::invalid_argument.
std::vector<int> parse_layer_sizes(const std::string& text);
std::string format_layer_sizes(const std::vector<int>& sizes);

// Normalizes `count` images of `features` uint8 pixels into dst (count × features).
void normalize_images(const InputNormalization& norm, const std::uint8_t* pixels, int count,
                      int features, float* dst);

}  // namespace lowbit::kernels
