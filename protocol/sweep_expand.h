#pragma once
// From a parsed Sweep to the jobs that run it (docs/coordinator.md "From a sweep to jobs"): one
// prepare job that trains the base model (mlp only: a gemm has nothing to train), then one variant
// job per grid point and target. A grid point the bits × precision table (or another rule) does not
// allow makes no job: it is listed in `skipped` with its reason. Pure: nothing here touches the
// store, so a sweep that is too large is refused before anything is written.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "protocol/json_schema.h"
#include "protocol/sweep.h"
#include "protocol/target_constraint.h"

namespace lowbit::protocol {

inline constexpr std::int64_t kDefaultMaxGridPoints = 100'000;

enum class JobKind { kPrepare, kVariant };

std::string to_string(JobKind kind);  // "prepare", "variant"

struct PlannedJob {
  JobKind kind = JobKind::kVariant;
  // A variant: the EvalConfig's JSON (its pruning and quantization groups present when they
  // apply) plus the sweep's distillation and mixed groups when they apply; a prepare job:
  // {workload, distillation?}, the training spec.
  nlohmann::json config;
  std::string config_text;  // config.dump(): canonical (sorted keys, no spaces); what is stored
  std::string config_hash;  // hash_config(config), the xxh3-64 of config_text
  TargetConstraint target;  // prepare jobs: any
};

struct SkippedPoint {
  nlohmann::json config;
  TargetConstraint target;
  std::string reason;  // "int8 needs bits ≤ 8 (32 means no integer quantization)"
};

struct Expansion {
  std::optional<PlannedJob> prepare;  // absent for gemm
  std::vector<PlannedJob> variants;   // in grid order: target, pruning, bits, precision, shape
  std::vector<SkippedPoint> skipped;
};

struct ExpansionLimits {
  std::int64_t max_grid_points = kDefaultMaxGridPoints;
};

struct ExpansionOutcome {
  std::optional<Expansion> expansion;  // set exactly when error is not
  std::optional<SchemaError> error;    // the grid is over the limit: pointer "/axes"
};

// pruning × bits × precision × shapes × targets, without building anything (saturates at
// INT64_MAX rather than overflow).
std::int64_t count_grid_points(const Sweep& sweep);

ExpansionOutcome expand_sweep(const Sweep& sweep, const ExpansionLimits& limits = {});

// xxh3-64 of the canonical text (sorted keys, no spaces), 16 hex digits: the recipe of
// protocol::config_hash, so an unpruned fp32 variant hashes as `lowbit eval` hashes it.
std::string hash_config(const nlohmann::json& config);
std::string hash_config_text(const std::string& canonical_text);

// The `{id, jobs, skipped}` entry of one skipped point: `{config, target, reason}`.
void to_json(nlohmann::json& j, const SkippedPoint& skipped);

}  // namespace lowbit::protocol
