#pragma once
// The inputs of one evaluation: what `lowbit eval` is asked to do and what a
// sweep's job carries. Its canonical JSON is the result's `config`, and the
// hash of that JSON (`config_hash`) names the configuration in every series.
// Machine facts (threads, ISA cap) belong to the target, not here.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/base/precision_modes.h"

namespace lowbit::protocol {

struct MlpTraining {
  int epochs = 30;
  int batch_size = 128;
  double learning_rate = 1e-3;
  std::string schedule = "cosine";
  double weight_decay = 0.05;
  int validation_images = 5000;
  int train_images = 0;  // 0: every training image outside the validation split
  bool augment_flip = true;
  std::uint64_t seed = 1;
  int threads = 1;  // training threads: part of what determines the model

  friend bool operator==(const MlpTraining&, const MlpTraining&) = default;
};

struct MlpWorkload {
  std::string dataset = "fashion-mnist";
  std::vector<int> layers{784, 128, 10};
  MlpTraining training;

  friend bool operator==(const MlpWorkload&, const MlpWorkload&) = default;
};

// A raw GEMM: C[M×N] = A[M×K] · B[K×N], scored by its error against fp64.
struct GemmWorkload {
  int m = 0;
  int k = 0;
  int n = 0;

  friend bool operator==(const GemmWorkload&, const GemmWorkload&) = default;
};

// How weights (and, for the integer modes, activations) are quantized when
// bits ≤ 8. Names as the CLI spells them. Part of the canonical config only
// when bits ≤ 8: at 32 bits nothing is quantized and the hash must not move.
// int4 reads only `scheme`, `group_size` and `calibration_samples` (the
// training images whose statistics weight its weight search; its activations
// are quantized per block on every call, never calibrated), so its canonical
// JSON holds just those; every other mode's holds the rest and no group_size,
// so hashes from before int4 existed stay as they were.
struct QuantOptions {
  std::string scheme = "sym";           // weights: sym | asym
  std::string granularity = "channel";  // weights: channel | tensor
  std::string activations = "static";   // int8: static | dynamic; fixed: static only
  std::string calibration = "mse";      // minmax | percentile | mse
  int calibration_samples = 1024;       // training images the calibration runs on
  double percentile = 99.99;            // for calibration = percentile
  // int4 only: weights per scale (and zero point), along the input dimension: 32, 64 or 128.
  int group_size = 32;

  friend bool operator==(const QuantOptions&, const QuantOptions&) = default;
};

// Pruning of the base model before quantization, then fine-tuning with the
// mask fixed. Part of the canonical config only when something is pruned.
struct PruneOptions {
  std::string method = "magnitude";  // magnitude | structured | n:m
  double ratio = 0.0;                // fraction of the dense weights removed; n:m: 1 − n/m
  std::string nm = "2:4";            // n:m only
  int finetune_epochs = 2;
  std::string schedule = "oneshot";  // oneshot | gradual

  bool active() const {
    return ratio != 0.0 || method == "n:m";
  }  // a negative ratio is an error, not "off"
  friend bool operator==(const PruneOptions&, const PruneOptions&) = default;
};

// Knowledge distillation of the workload's model (the student) from a larger
// teacher trained on the same spec (Hinton et al. 2015). Part of the canonical
// config only when a teacher is named. Defaults measured for a 784-32-10 student
// of a 784-512-256-10 teacher: at T = 1 the soft term acts as label smoothing
// that knows which classes look alike; larger T asks a small student to match
// logits it cannot follow (docs/distillation.md).
struct DistillOptions {
  std::vector<int> teacher;  // the teacher's layer sizes; empty: no distillation
  double temperature = 1.0;  // softmax temperature T of the soft targets
  double alpha = 0.5;        // weight of the soft loss; 1 − alpha weighs the labels

  bool active() const { return !teacher.empty(); }
  friend bool operator==(const DistillOptions&, const DistillOptions&) = default;
};

// Precision mixed: a per-layer policy, given or chosen automatically. Part of
// the canonical config only for precision mixed, as {"policy": [...]} or
// {"policy": "auto", "budget": b} (the sweep's `mixed` group, verbatim).
struct MixedOptions {
  bool automatic = false;           // policy "auto": chosen on the validation split
  std::vector<std::string> policy;  // one precision per weight layer when not automatic
  double budget = 0.0;              // with automatic: the largest validation top-1 loss allowed

  friend bool operator==(const MixedOptions&, const MixedOptions&) = default;
};

inline constexpr const char* kWorkloadMlp = "mlp";
inline constexpr const char* kWorkloadGemm = "gemm";

struct EvalConfig {
  std::string workload = kWorkloadMlp;  // which of the two below applies
  MlpWorkload mlp;
  GemmWorkload gemm;
  std::string precision = "fp32";
  int bits = 32;
  std::string kernel = "auto";  // a forced compute path, or "auto"
  QuantOptions quant;           // read when bits ≤ 8
  PruneOptions prune;           // mlp only
  DistillOptions distill;       // mlp only: the base model is a distilled student
  MixedOptions mixed;           // precision mixed only

  bool quantized() const { return bits != 32; }

  friend bool operator==(const EvalConfig&, const EvalConfig&) = default;
};

void to_json(nlohmann::json& j, const MlpTraining& t);
void from_json(const nlohmann::json& j, MlpTraining& t);
// Overwrites the fields present in `j` and keeps the others: a sweep's option groups, where
// every field is optional.
void update_from_json(const nlohmann::json& j, MlpTraining& t);
void to_json(nlohmann::json& j, const MlpWorkload& w);
void from_json(const nlohmann::json& j, MlpWorkload& w);
void to_json(nlohmann::json& j, const GemmWorkload& g);
void from_json(const nlohmann::json& j, GemmWorkload& g);
void to_json(nlohmann::json& j, const QuantOptions& q);
void from_json(const nlohmann::json& j, QuantOptions& q);
void update_from_json(const nlohmann::json& j, QuantOptions& q);
void to_json(nlohmann::json& j, const PruneOptions& p);
void from_json(const nlohmann::json& j, PruneOptions& p);
void to_json(nlohmann::json& j, const DistillOptions& d);
void from_json(const nlohmann::json& j, DistillOptions& d);
void to_json(nlohmann::json& j, const EvalConfig& c);
void from_json(const nlohmann::json& j, EvalConfig& c);

// xxh3-64 of the canonical JSON (sorted keys, no spaces), 16 hex digits.
std::string config_hash(const EvalConfig& config);

}  // namespace lowbit::protocol
