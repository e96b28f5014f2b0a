#include "protocol/sweep_expand.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "kernels/base/precision_modes.h"

namespace lowbit::protocol {

namespace {

using nlohmann::json;

// kernels/prune/prune.h accepts an n:m ratio within this of 1 − n/m.
constexpr double kNmRatioTolerance = 1e-6;

double nm_ratio(const std::string& nm) {
  const std::size_t colon = nm.find(':');
  const double n = std::stod(nm.substr(0, colon));
  const double m = std::stod(nm.substr(colon + 1));
  return 1.0 - n / m;
}

// How a pruning point prunes (nullopt: unpruned) and, when it cannot run, why.
struct PruningPlan {
  std::optional<PruneOptions> prune;
  std::string skip_reason;
};

PruningPlan plan_pruning(const Sweep& sweep, const PruningPoint& point) {
  PruningPlan plan;
  if (point.ratio == 0.0) return plan;  // unpruned, whatever the method
  if (sweep.workload == kWorkloadGemm) {
    plan.skip_reason = "pruning applies to an mlp's weight layers; a gemm workload is not pruned";
    return plan;
  }
  if (point.method == kPruneNm) {
    const double expected = nm_ratio(point.nm);
    if (std::abs(point.ratio - expected) > kNmRatioTolerance) {
      plan.skip_reason = fmt::format("n:m {} removes {:g} of the weights, not {:g}", point.nm,
                                     expected, point.ratio);
      return plan;
    }
  }
  PruneOptions prune = sweep.pruning_options;  // schedule and fine-tuning
  prune.method = point.method;
  prune.ratio = point.ratio;
  if (point.method == kPruneNm) prune.nm = point.nm;
  plan.prune = prune;
  return plan;
}

// Why (precision, bits) makes no job, beyond the table itself; empty when it runs.
std::string combination_skip_reason(const Sweep& sweep, const std::string& precision, int bits) {
  if (std::string table = kernels::unsupported_combination(precision, bits); !table.empty())
    return table;
  if (precision == "fixed" && sweep.quantization.activations == "dynamic") {
    return "fixed runs static activations only (quantization.activations is dynamic)";
  }
  if (precision == "mixed") {
    if (sweep.workload == kWorkloadGemm)
      return "mixed needs an mlp workload: its policy is per layer";
    const auto& policy = sweep.mixed->policy;
    if (bits > 4 && std::find(policy.begin(), policy.end(), "int4") != policy.end()) {
      return fmt::format("the mixed policy runs int4 layers, which need bits ≤ 4, not {}", bits);
    }
  }
  return {};
}

json mixed_config(const MixedOptions& m) {
  if (m.automatic) return {{"policy", "auto"}, {"budget", m.budget}};
  return {{"policy", m.policy}};
}

std::vector<EvalConfig> workload_configs(const Sweep& sweep) {
  std::vector<EvalConfig> configs;
  if (sweep.workload == kWorkloadGemm) {
    for (const GemmWorkload& shape : sweep.shapes) {
      EvalConfig c;
      c.workload = kWorkloadGemm;
      c.gemm = shape;
      configs.push_back(c);
    }
  } else {
    EvalConfig c;
    c.mlp = sweep.mlp;
    configs.push_back(c);
  }
  for (EvalConfig& c : configs) c.quant = sweep.quantization;
  return configs;
}

// One (bits, precision, workload) cell: its EvalConfig and the groups beside it that do not
// depend on pruning, built once and reused for every pruning point and target.
struct Cell {
  EvalConfig eval;
  json extras = json::object();  // mixed
  std::string skip_reason;
};

std::vector<Cell> build_cells(const Sweep& sweep) {
  const std::vector<EvalConfig> workloads = workload_configs(sweep);
  std::vector<Cell> cells;
  cells.reserve(sweep.bits.size() * sweep.precision.size() * workloads.size());
  for (int bits : sweep.bits) {
    for (const std::string& precision : sweep.precision) {
      const std::string reason = combination_skip_reason(sweep, precision, bits);
      for (EvalConfig c : workloads) {
        c.precision = precision;
        c.bits = bits;
        Cell cell{std::move(c), json::object(), reason};
        if (sweep.distillation) cell.eval.distill = *sweep.distillation;
        if (precision == "mixed" && sweep.mixed) {
          cell.eval.mixed = *sweep.mixed;  // eval's canonical JSON holds it too, the same
          cell.extras["mixed"] = mixed_config(*sweep.mixed);
        }
        cells.push_back(std::move(cell));
      }
    }
  }
  return cells;
}

// The EvalConfig's canonical JSON (what `lowbit eval` hashes) plus the sweep's extra groups.
json variant_config(const Cell& cell, const PruningPlan& pruning) {
  EvalConfig eval = cell.eval;
  if (pruning.prune) eval.prune = *pruning.prune;
  json config = eval;
  for (const auto& [key, value] : cell.extras.items()) config[key] = value;
  return config;
}

PlannedJob prepare_job(const Sweep& sweep) {
  PlannedJob job;
  job.kind = JobKind::kPrepare;
  job.config = {{"workload", sweep.mlp}};
  if (sweep.distillation) job.config["distillation"] = *sweep.distillation;
  job.config_text = job.config.dump();
  job.config_hash = hash_config_text(job.config_text);
  return job;
}

std::int64_t saturating_product(std::initializer_list<std::size_t> factors) {
  std::int64_t product = 1;
  for (std::size_t f : factors) {
    if (f == 0) return 0;
    if (product > std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(f)) {
      return std::numeric_limits<std::int64_t>::max();
    }
    product *= static_cast<std::int64_t>(f);
  }
  return product;
}

}  // namespace

std::string to_string(JobKind kind) { return kind == JobKind::kPrepare ? "prepare" : "variant"; }

std::int64_t count_grid_points(const Sweep& sweep) {
  const std::size_t shapes = sweep.workload == kWorkloadGemm ? sweep.shapes.size() : 1;
  return saturating_product({sweep.pruning.size(), sweep.bits.size(), sweep.precision.size(),
                             shapes, sweep.targets.size()});
}

ExpansionOutcome expand_sweep(const Sweep& sweep, const ExpansionLimits& limits) {
  ExpansionOutcome outcome;
  const std::int64_t points = count_grid_points(sweep);
  if (points > limits.max_grid_points) {
    const std::size_t shapes = sweep.workload == kWorkloadGemm ? sweep.shapes.size() : 1;
    outcome.error = SchemaError{
        "/axes",
        fmt::format("the grid has {} points (pruning {} × bits {} × precision {} × "
                    "shapes {} × targets {}); the maximum is {}",
                    points, sweep.pruning.size(), sweep.bits.size(), sweep.precision.size(), shapes,
                    sweep.targets.size(), limits.max_grid_points)};
    return outcome;
  }

  Expansion expansion;
  if (sweep.workload == kWorkloadMlp) expansion.prepare = prepare_job(sweep);
  const std::vector<Cell> cells = build_cells(sweep);
  std::vector<PruningPlan> prunings;
  for (const PruningPoint& point : sweep.pruning) prunings.push_back(plan_pruning(sweep, point));
  expansion.variants.reserve(static_cast<std::size_t>(points));

  // A point's config does not depend on the target: build, dump and hash each once.
  struct Point {
    json config;
    std::string text;
    std::string hash;
    const std::string* skip_reason;
  };
  std::vector<Point> points_of_target;
  points_of_target.reserve(prunings.size() * cells.size());
  for (const PruningPlan& pruning : prunings) {
    for (const Cell& cell : cells) {
      Point point{variant_config(cell, pruning), {}, {}, nullptr};
      point.skip_reason = !cell.skip_reason.empty() ? &cell.skip_reason : &pruning.skip_reason;
      if (point.skip_reason->empty()) {
        point.text = point.config.dump();  // what is hashed is what the store keeps
        point.hash = hash_config_text(point.text);
      }
      points_of_target.push_back(std::move(point));
    }
  }

  for (const TargetConstraint& target : sweep.targets) {
    // Unpruned points of different methods, or a ratio listed twice, are one configuration:
    // it runs once per target, and the repeats say so.
    std::unordered_set<std::string> seen;
    for (const Point& point : points_of_target) {
      if (!point.skip_reason->empty()) {
        expansion.skipped.push_back({point.config, target, *point.skip_reason});
      } else if (!seen.insert(point.hash).second) {
        expansion.skipped.push_back(
            {point.config, target, "the same configuration as an earlier grid point"});
      } else {
        expansion.variants.push_back(
            {JobKind::kVariant, point.config, point.text, point.hash, target});
      }
    }
  }
  outcome.expansion = std::move(expansion);
  return outcome;
}

std::string hash_config(const nlohmann::json& config) { return hash_config_text(config.dump()); }

std::string hash_config_text(const std::string& canonical_text) {
  return fmt::format("{:016x}", XXH3_64bits(canonical_text.data(), canonical_text.size()));
}

void to_json(nlohmann::json& j, const SkippedPoint& skipped) {
  j = {{"config", skipped.config}, {"target", skipped.target}, {"reason", skipped.reason}};
}

}  // namespace lowbit::protocol
