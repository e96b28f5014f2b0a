#pragma once
// A sweep as the coordinator accepts it (schemas/sweep.schema.json): a workload, the axes
// pruning × bits × precision, the option groups that shape every variant, how to measure, and
// the targets to run on. parse_sweep() is the one way in: schema first, then the rules a schema
// cannot say (layer sizes against the data set, a mixed policy's length), every error with the
// JSON pointer of what is wrong. Defaults live in the structs below, so a parsed Sweep is
// complete; the expansion into jobs is sweep_expand.h.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "protocol/eval_config.h"
#include "protocol/json_schema.h"
#include "protocol/result.h"
#include "protocol/target_constraint.h"

namespace lowbit::protocol {

inline constexpr const char* kPruneMagnitude = "magnitude";
inline constexpr const char* kPruneStructured = "structured";
inline constexpr const char* kPruneNm = "n:m";

// One value of the pruning axis.
struct PruningPoint {
  std::string method = kPruneMagnitude;
  double ratio = 0.0;  // 0: unpruned; an n:m point without a ratio gets 1 − n/m
  std::string nm;      // "2:4" for n:m, empty otherwise

  friend bool operator==(const PruningPoint&, const PruningPoint&) = default;
};

// The student is the workload's own model: the workload names the model every variant
// measures, in one place. The options are those of `lowbit eval --distill-from`.
using DistillationOptions = DistillOptions;

struct SweepTags {
  std::string commit;
  std::string branch;
  std::string text;

  friend bool operator==(const SweepTags&, const SweepTags&) = default;
};

// The latency harness's defaults (kernels/measure/latency.h LatencySettings), repeated because
// protocol/ does not include kernels/.
inline constexpr int kDefaultRepetitions = 10;
inline constexpr double kDefaultMinTimeMs = 50.0;
inline constexpr double kDefaultWarmupMs = 20.0;

struct Sweep {
  std::string name;
  std::string workload = kWorkloadMlp;
  MlpWorkload mlp;                   // workload mlp
  std::vector<GemmWorkload> shapes;  // workload gemm: one grid factor
  std::vector<PruningPoint> pruning{PruningPoint{}};
  std::vector<int> bits;
  std::vector<std::string> precision;
  // The sweep's pruning group: method and nm for points given as plain ratios, schedule and
  // fine-tuning for every pruned point (its ratio is unused).
  PruneOptions pruning_options;
  QuantOptions quantization;
  std::optional<DistillationOptions> distillation;
  std::optional<MixedOptions> mixed;
  Measurement measurement{{1, 64}, kDefaultRepetitions, kDefaultMinTimeMs, kDefaultWarmupMs};
  std::vector<TargetConstraint> targets{TargetConstraint{}};  // "any": one unconstrained target
  SweepTags tags;

  friend bool operator==(const Sweep&, const Sweep&) = default;
};

struct SweepParse {
  std::optional<Sweep> sweep;       // set exactly when errors is empty
  std::vector<SchemaError> errors;  // schema errors, or else the semantic ones
};

// The sweep schema, loaded once from LOWBIT_SCHEMA_DIR (throws as JsonSchema::load does).
const JsonSchema& sweep_schema();

SweepParse parse_sweep(const nlohmann::json& document);
SweepParse parse_sweep(const nlohmann::json& document, const JsonSchema& schema);

void to_json(nlohmann::json& j, const SweepTags& tags);

}  // namespace lowbit::protocol
