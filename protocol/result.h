#pragma once
// The result document: one per (job, target), the same from `lowbit eval`,
// the API and the store. schemas/result.schema.json is its contract; this is
// its C++ form. Groups that a status does not produce (a skipped result has
// no accuracy) are absent, not zero.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/eval_config.h"
#include "protocol/target.h"

namespace lowbit::protocol {

inline constexpr const char* kStatusPassed = "passed";
inline constexpr const char* kStatusSkipped = "skipped";
inline constexpr const char* kStatusFailed = "failed";
inline constexpr const char* kStatusMistrusted = "mistrusted";

struct Accuracy {
  double top1 = 0.0;
  double baseline_top1 = 0.0;
  double delta = 0.0;  // top1 − baseline_top1; negative is worse
  double agreement = 0.0;
  int images = 0;
  std::string correct;  // per-image correctness, base64 bitset (bit i = image i, LSB first)
};

struct LayerKernelResult {
  std::string kernel;
  std::string impl;
};

// The base model the variant was built from (content-addressed artifact).
struct BaseModel {
  std::string hash;
  std::string cache_key;
  bool cache_hit = false;
  double validation_top1 = 0.0;
};

struct Result {
  EvalConfig config;
  std::string config_hash;
  std::string status = kStatusPassed;
  std::string reason;
  std::optional<Accuracy> accuracy;
  std::optional<BaseModel> base_model;
  double sparsity = 0.0;
  std::int64_t params_nonzero = 0;
  std::int64_t model_bytes = 0;
  std::string weights = "real";
  double train_seconds = 0.0;
  std::string kernel;
  std::vector<LayerKernelResult> layers;
  Target target;
  VersionInfo version;
  std::string repro;
};

void to_json(nlohmann::json& j, const Result& r);
void from_json(const nlohmann::json& j, Result& r);

// Base64 (RFC 4648, with padding) of a bit vector packed LSB first.
std::string encode_bitset(const std::vector<bool>& bits);
std::vector<bool> decode_bitset(const std::string& text, std::size_t count);

}  // namespace lowbit::protocol
