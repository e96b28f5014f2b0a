#pragma once
// What a prepare job delivers: the models every variant of its sweep starts
// from, by role, each stored on the coordinator as a content-addressed
// artifact. A worker running a variant fetches them by hash into its model
// cache under the same cache key, so every target measures the same weights
// and no worker retrains a base model.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/target.h"

namespace lowbit::protocol {

inline constexpr const char* kRoleBase = "base";        // what variants prune and quantize
inline constexpr const char* kRoleTeacher = "teacher";  // with distillation
inline constexpr const char* kRoleScratch =
    "scratch";  // with distillation: the student from labels

struct PreparedModel {
  std::string role;
  std::string cache_key;  // the model cache key (training spec, data hash, format version)
  std::string hash;       // xxh3-128 of the model file: the artifact's name
  double test_top1 = 0.0;
  double validation_top1 = 0.0;

  friend bool operator==(const PreparedModel&, const PreparedModel&) = default;
};

struct PrepareResult {
  std::vector<PreparedModel> models;  // base first
  std::string data_hash;
  double train_seconds = 0.0;  // what this prepare job trained (0 when all came from a cache)
  Target target;               // who prepared them
  VersionInfo version;
};

void to_json(nlohmann::json& j, const PreparedModel& m);
void from_json(const nlohmann::json& j, PreparedModel& m);
void to_json(nlohmann::json& j, const PrepareResult& r);
void from_json(const nlohmann::json& j, PrepareResult& r);

}  // namespace lowbit::protocol
