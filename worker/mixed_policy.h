#pragma once
// Precision mixed (docs/precision.md "mixed: a precision per layer"): the per-layer policy of an
// MLP, as given or chosen automatically, and the engine that runs it
// (kernels/engine/engine_mixed.h).
//
// auto: every layer may run fp32, bf16 (where a path exists), int8 at 8 bits, or int4 at each
// width from the config's bits up to 4. Each (layer, precision) engine is built once and timed
// alone at the ranked batch; every policy (their product) gets an estimated latency, the sum of
// its layers'; policies are scored, cheapest estimate first, by top-1 on the validation split of
// the training set (never the test set) against the all-fp32 policy scored the same way. Of
// those within the budget, the few cheapest by estimate are timed whole and the fastest
// measured wins — the fastest passing policy, not the first that passes.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kernels/engine/engine_mixed.h"
#include "kernels/model/dataset.h"
#include "kernels/model/mlp.h"
#include "protocol/eval_config.h"

namespace lowbit::worker {

struct MixedChoice {
  std::unique_ptr<kernels::InferenceEngine> engine;  // null: skipped, see skip_reason
  std::string skip_reason;
  nlohmann::json policy;                     // the result's `policy`
  std::optional<nlohmann::json> candidates;  // the result's `candidates` (auto only)
};

// The given policy of `config` for a model with `weight_layers` layers, each entry parsed by
// kernels::parse_layer_precision with the config's bits. Throws std::invalid_argument naming
// the entry, or the count when it is not one per layer.
std::vector<kernels::LayerPrecision> given_policy(const protocol::EvalConfig& config,
                                                  int weight_layers);

// `base`: the registry request every layer starts from (kernel, quantization, ISA cap);
// `calibration`: training images; `validation`: the validation split (auto only);
// `ranked_batch`: the batch at which auto compares latencies.
MixedChoice choose_mixed(const kernels::Mlp& model, const kernels::EngineRequest& base,
                         const kernels::CalibrationSet* calibration,
                         const protocol::EvalConfig& config, const kernels::ImageSet& validation,
                         int ranked_batch);

}  // namespace lowbit::worker
