#include "kernels/model/dataset.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <memory>

#include "kernels/model/idx_reader.h"

namespace lowbit::kernels {

namespace {

constexpr int kFashionMnistClasses = 10;

ImageSet load_pair(const std::filesystem::path& images_path,
                   const std::filesystem::path& labels_path, XXH3_state_t* hasher) {
  const std::vector<std::uint8_t> image_bytes = read_gzip_file(images_path);
  const std::vector<std::uint8_t> label_bytes = read_gzip_file(labels_path);
  XXH3_64bits_update(hasher, image_bytes.data(), image_bytes.size());
  XXH3_64bits_update(hasher, label_bytes.data(), label_bytes.size());
  IdxArray images = parse_idx(image_bytes, kIdxMagicImages, images_path.string());
  IdxArray labels = parse_idx(label_bytes, kIdxMagicLabels, labels_path.string());
  if (images.dims.size() != 3) {
    throw DataError(fmt::format("{}: expected 3 dimensions, found {}", images_path.string(),
                                images.dims.size()));
  }
  if (labels.dims.size() != 1) {
    throw DataError(fmt::format("{}: expected 1 dimension, found {}", labels_path.string(),
                                labels.dims.size()));
  }
  if (labels.dims[0] != images.dims[0]) {
    throw DataError(fmt::format("{}: {} labels for {} images in {}", labels_path.string(),
                                labels.dims[0], images.dims[0], images_path.string()));
  }
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kFashionMnistClasses) {
      throw DataError(fmt::format("{}: label {} at index {} is not a class in [0, {})",
                                  labels_path.string(), labels.data[i], i, kFashionMnistClasses));
    }
  }
  ImageSet set;
  set.count = static_cast<int>(images.dims[0]);
  set.rows = static_cast<int>(images.dims[1]);
  set.cols = static_cast<int>(images.dims[2]);
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

}  // namespace

ImageSet ImageSet::slice(int first, int n) const {
  ImageSet out;
  out.count = n;
  out.rows = rows;
  out.cols = cols;
  const auto f = static_cast<std::size_t>(features());
  out.pixels.assign(
      pixels.begin() + static_cast<std::ptrdiff_t>(f * static_cast<std::size_t>(first)),
      pixels.begin() + static_cast<std::ptrdiff_t>(f * static_cast<std::size_t>(first + n)));
  out.labels.assign(labels.begin() + first, labels.begin() + first + n);
  return out;
}

std::filesystem::path default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

LabeledData load_fashion_mnist(const std::filesystem::path& dir) {
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> hasher(XXH3_createState(),
                                                                         XXH3_freeState);
  XXH3_64bits_reset(hasher.get());
  LabeledData data;
  data.train = load_pair(dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz",
                         hasher.get());
  data.test =
      load_pair(dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz", hasher.get());
  if (data.train.rows != data.test.rows || data.train.cols != data.test.cols) {
    throw DataError(fmt::format("{}: train images are {}x{} but test images are {}x{}",
                                dir.string(), data.train.rows, data.train.cols, data.test.rows,
                                data.test.cols));
  }
  data.classes = kFashionMnistClasses;
  data.hash = fmt::format("{:016x}", XXH3_64bits_digest(hasher.get()));
  return data;
}

TrainValidationSplit split_validation(const ImageSet& train, int validation_count) {
  validation_count = std::clamp(validation_count, 0, train.count);
  const int fit_count = train.count - validation_count;
  return {train.slice(0, fit_count), train.slice(fit_count, validation_count)};
}

}  // namespace lowbit::kernels
