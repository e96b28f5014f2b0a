#pragma once
// The model artifact: one file holding a trained MLP and its predictions on
// the test images, identified by the xxHash of its bytes.
//
//   bytes 0..7    magic "LOWBITM\n"
//   bytes 8..11   header length H, uint32 little-endian
//   bytes 12..    H bytes of JSON header (format_version, layers, normalization,
//                 training spec, data hash, accuracy, tensor table)
//   zero padding  to a 64-byte boundary
//   payload       the tensors in table order, each at its recorded offset
//                 (relative to the payload start), little-endian, 64-byte aligned
//
// The header holds nothing that varies between two trainings of the same
// spec (no timestamps, no timings), so equal models hash equal.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/file_io.h"
#include "kernels/model/mlp.h"

namespace lowbit::kernels {

inline constexpr int kModelFormatVersion = 1;

class ModelFileError : public FileError {
 public:
  using FileError::FileError;
};

struct ModelArtifact {
  Mlp model;
  nlohmann::json training;  // the training spec, canonical JSON
  std::string data_hash;
  double test_top1 = 0.0;
  double validation_top1 = 0.0;
  std::vector<std::uint8_t> test_predictions;
};

std::vector<std::uint8_t> serialize_model(const ModelArtifact& artifact);
ModelArtifact deserialize_model(std::span<const std::uint8_t> bytes, const std::string& name);

// xxh3-128 of the bytes, as 32 hex digits: the artifact's identity.
std::string content_hash(std::span<const std::uint8_t> bytes);

}  // namespace lowbit::kernels
