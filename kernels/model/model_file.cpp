#include "kernels/model/model_file.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <bit>
#include <cstring>
#include <fstream>

namespace lowbit::kernels {

static_assert(std::endian::native == std::endian::little,
              "model files are little-endian; add byte swapping for big-endian hosts");

namespace {

constexpr char kMagic[8] = {'L', 'O', 'W', 'B', 'I', 'T', 'M', '\n'};
constexpr std::size_t kAlignment = 64;
constexpr std::size_t kPreambleBytes = sizeof(kMagic) + sizeof(std::uint32_t);

std::size_t align_up(std::size_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

struct TensorView {
  std::string name;
  std::string dtype;  // "f32" or "u8"
  std::vector<std::int64_t> shape;
  const void* data;
  std::size_t bytes;
};

std::vector<TensorView> tensors_of(const ModelArtifact& a) {
  std::vector<TensorView> out;
  for (std::size_t l = 0; l < a.model.layers.size(); ++l) {
    const DenseLayer& layer = a.model.layers[l];
    out.push_back({fmt::format("layers.{}.weight", l),
                   "f32",
                   {layer.outputs, layer.inputs},
                   layer.weights.data(),
                   layer.weights.size() * sizeof(float)});
    out.push_back({fmt::format("layers.{}.bias", l),
                   "f32",
                   {layer.outputs},
                   layer.bias.data(),
                   layer.bias.size() * sizeof(float)});
  }
  out.push_back({"test_predictions",
                 "u8",
                 {static_cast<std::int64_t>(a.test_predictions.size())},
                 a.test_predictions.data(),
                 a.test_predictions.size()});
  return out;
}

const nlohmann::json& require(const nlohmann::json& j, const char* key, const std::string& name) {
  if (!j.contains(key)) throw ModelFileError(fmt::format("{}: header lacks \"{}\"", name, key));
  return j.at(key);
}

}  // namespace

std::vector<std::uint8_t> serialize_model(const ModelArtifact& a) {
  const std::vector<TensorView> tensors = tensors_of(a);
  nlohmann::json table = nlohmann::json::array();
  std::size_t offset = 0;
  for (const TensorView& t : tensors) {
    table.push_back({{"name", t.name},
                     {"dtype", t.dtype},
                     {"shape", t.shape},
                     {"offset", offset},
                     {"bytes", t.bytes}});
    offset = align_up(offset + t.bytes);
  }
  const nlohmann::json header = {
      {"format", "lowbit-model"},
      {"format_version", kModelFormatVersion},
      {"layers", a.model.layer_sizes()},
      {"normalization",
       {{"mean", a.model.normalization.mean}, {"stddev", a.model.normalization.stddev}}},
      {"training", a.training},
      {"data_hash", a.data_hash},
      {"accuracy", {{"test_top1", a.test_top1}, {"validation_top1", a.validation_top1}}},
      {"tensors", table},
  };
  const std::string text = header.dump();
  const std::size_t payload_start = align_up(kPreambleBytes + text.size());
  std::vector<std::uint8_t> bytes(payload_start + offset, 0);
  std::memcpy(bytes.data(), kMagic, sizeof(kMagic));
  const auto header_length = static_cast<std::uint32_t>(text.size());
  std::memcpy(bytes.data() + sizeof(kMagic), &header_length, sizeof(header_length));
  std::memcpy(bytes.data() + kPreambleBytes, text.data(), text.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const std::size_t at = payload_start + table[i]["offset"].get<std::size_t>();
    if (tensors[i].bytes > 0) std::memcpy(bytes.data() + at, tensors[i].data, tensors[i].bytes);
  }
  return bytes;
}

namespace {

// Throws nlohmann exceptions on a header of the wrong shape; the public
// deserialize_model turns them into ModelFileError.
ModelArtifact deserialize_model_unchecked(std::span<const std::uint8_t> bytes,
                                          const std::string& name) {
  if (bytes.size() < kPreambleBytes || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    throw ModelFileError(fmt::format("{}: not a lowbit model file (bad magic)", name));
  }
  std::uint32_t header_length = 0;
  std::memcpy(&header_length, bytes.data() + sizeof(kMagic), sizeof(header_length));
  if (kPreambleBytes + header_length > bytes.size()) {
    throw ModelFileError(fmt::format("{}: truncated header", name));
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(
        bytes.begin() + kPreambleBytes,
        bytes.begin() + static_cast<std::ptrdiff_t>(kPreambleBytes + header_length));
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(fmt::format("{}: header is not JSON: {}", name, e.what()));
  }
  const int version = require(header, "format_version", name).get<int>();
  if (version != kModelFormatVersion) {
    throw ModelFileError(fmt::format("{}: format version {}, this build reads {}", name, version,
                                     kModelFormatVersion));
  }
  const std::size_t payload_start = align_up(kPreambleBytes + header_length);
  const auto sizes = require(header, "layers", name).get<std::vector<int>>();
  try {
    check_layer_sizes(sizes);
  } catch (const std::invalid_argument& e) {
    throw ModelFileError(fmt::format("{}: layers: {}", name, e.what()));
  }

  ModelArtifact a;
  a.training = require(header, "training", name);
  a.data_hash = require(header, "data_hash", name).get<std::string>();
  const nlohmann::json& accuracy = require(header, "accuracy", name);
  a.test_top1 = accuracy.at("test_top1").get<double>();
  a.validation_top1 = accuracy.at("validation_top1").get<double>();
  const nlohmann::json& norm = require(header, "normalization", name);
  a.model.normalization = {norm.at("mean").get<float>(), norm.at("stddev").get<float>()};

  const nlohmann::json& table = require(header, "tensors", name);
  auto tensor_bytes = [&](std::size_t index, const std::string& expect_name,
                          std::size_t expect_bytes) -> std::span<const std::uint8_t> {
    if (index >= table.size())
      throw ModelFileError(fmt::format("{}: missing tensor {}", name, expect_name));
    const nlohmann::json& t = table[index];
    if (t.at("name").get<std::string>() != expect_name ||
        t.at("bytes").get<std::size_t>() != expect_bytes) {
      throw ModelFileError(
          fmt::format("{}: tensor {} does not match the layer sizes", name, expect_name));
    }
    // Compare before adding: a huge offset must not wrap around.
    const std::size_t offset = t.at("offset").get<std::size_t>();
    if (payload_start > bytes.size() || offset > bytes.size() - payload_start ||
        expect_bytes > bytes.size() - payload_start - offset) {
      throw ModelFileError(
          fmt::format("{}: truncated: tensor {} runs past the end", name, expect_name));
    }
    return bytes.subspan(payload_start + offset, expect_bytes);
  };
  std::size_t index = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    DenseLayer layer;
    layer.inputs = sizes[l];
    layer.outputs = sizes[l + 1];
    layer.weights.resize(static_cast<std::size_t>(layer.inputs) *
                         static_cast<std::size_t>(layer.outputs));
    layer.bias.resize(static_cast<std::size_t>(layer.outputs));
    auto w = tensor_bytes(index++, fmt::format("layers.{}.weight", l),
                          layer.weights.size() * sizeof(float));
    std::memcpy(layer.weights.data(), w.data(), w.size());
    auto b =
        tensor_bytes(index++, fmt::format("layers.{}.bias", l), layer.bias.size() * sizeof(float));
    std::memcpy(layer.bias.data(), b.data(), b.size());
    a.model.layers.push_back(std::move(layer));
  }
  if (index >= table.size())
    throw ModelFileError(fmt::format("{}: missing test_predictions", name));
  const std::size_t prediction_count = table[index].at("bytes").get<std::size_t>();
  auto p = tensor_bytes(index, "test_predictions", prediction_count);
  a.test_predictions.assign(p.begin(), p.end());
  return a;
}

}  // namespace

ModelArtifact deserialize_model(std::span<const std::uint8_t> bytes, const std::string& name) {
  try {
    return deserialize_model_unchecked(bytes, name);
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(fmt::format("{}: malformed header: {}", name, e.what()));
  }
}

std::string content_hash(std::span<const std::uint8_t> bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

}  // namespace lowbit::kernels
