#pragma once
// Image classification data sets in memory: Fashion-MNIST from the IDX files
// of Debian's dataset-fashion-mnist package, raw bytes kept as they are on
// disk (uint8 pixels); the model's input normalization happens per batch.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lowbit::kernels {

struct ImageSet {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels;  // count × rows × cols, row-major
  std::vector<std::uint8_t> labels;  // count

  int features() const { return rows * cols; }
  const std::uint8_t* image(int i) const {
    return pixels.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(features());
  }
  // Images [first, first + n) as a new set.
  ImageSet slice(int first, int n) const;
};

struct LabeledData {
  ImageSet train;
  ImageSet test;
  int classes = 0;
  std::string hash;  // xxh3 of the four decompressed files: part of every model's cache key
};

// Where Debian installs Fashion-MNIST.
std::filesystem::path default_fashion_mnist_dir();

// Loads train-* and t10k-* from `dir`; a missing, truncated or corrupt file
// throws DataError naming the file.
LabeledData load_fashion_mnist(const std::filesystem::path& dir);

// The training images split into the part we fit on and a validation part
// (the last `validation_count` images: the IDX training set is already
// shuffled, and a fixed split keeps "validation" the same for every seed, so
// later policies chosen on it never see the test set).
struct TrainValidationSplit {
  ImageSet fit;
  ImageSet validation;
};
TrainValidationSplit split_validation(const ImageSet& train, int validation_count);

}  // namespace lowbit::kernels
