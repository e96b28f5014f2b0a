#include "protocol/eval_config.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <initializer_list>

namespace lowbit::protocol {

void to_json(nlohmann::json& j, const MlpTraining& t) {
  j = {{"epochs", t.epochs},
       {"batch_size", t.batch_size},
       {"learning_rate", t.learning_rate},
       {"schedule", t.schedule},
       {"weight_decay", t.weight_decay},
       {"validation_images", t.validation_images},
       {"train_images", t.train_images},
       {"augment_flip", t.augment_flip},
       {"seed", t.seed},
       {"threads", t.threads}};
}

namespace {

// One reader per group serves both a canonical config, where a field is `required`, and a
// sweep's option group, where every field is optional and an absent one keeps its value.
template <typename T>
void read_field(const nlohmann::json& j, const char* key, T& field, bool required) {
  if (required) {
    j.at(key).get_to(field);
  } else {
    field = j.value(key, field);
  }
}

void read_training(const nlohmann::json& j, MlpTraining& t, bool required) {
  read_field(j, "epochs", t.epochs, required);
  read_field(j, "batch_size", t.batch_size, required);
  read_field(j, "learning_rate", t.learning_rate, required);
  read_field(j, "schedule", t.schedule, required);
  read_field(j, "weight_decay", t.weight_decay, required);
  read_field(j, "validation_images", t.validation_images, required);
  read_field(j, "train_images", t.train_images, required);
  read_field(j, "augment_flip", t.augment_flip, required);
  read_field(j, "seed", t.seed, required);
  read_field(j, "threads", t.threads, required);
}

// Every field but scheme is optional even in a canonical config (int4 stores scheme and
// group_size only).
void read_quant(const nlohmann::json& j, QuantOptions& q, bool scheme_required) {
  read_field(j, "scheme", q.scheme, scheme_required);
  read_field(j, "granularity", q.granularity, false);
  read_field(j, "activations", q.activations, false);
  read_field(j, "calibration", q.calibration, false);
  read_field(j, "calibration_samples", q.calibration_samples, false);
  read_field(j, "percentile", q.percentile, false);
  read_field(j, "group_size", q.group_size, false);
}

}  // namespace

void from_json(const nlohmann::json& j, MlpTraining& t) { read_training(j, t, true); }

void update_from_json(const nlohmann::json& j, MlpTraining& t) { read_training(j, t, false); }

void to_json(nlohmann::json& j, const MlpWorkload& w) {
  j = {{"kind", "mlp"}, {"dataset", w.dataset}, {"layers", w.layers}, {"training", w.training}};
}

void from_json(const nlohmann::json& j, MlpWorkload& w) {
  j.at("dataset").get_to(w.dataset);
  j.at("layers").get_to(w.layers);
  j.at("training").get_to(w.training);
}

void to_json(nlohmann::json& j, const GemmWorkload& g) {
  j = {{"kind", kWorkloadGemm}, {"m", g.m}, {"k", g.k}, {"n", g.n}};
}

void from_json(const nlohmann::json& j, GemmWorkload& g) {
  j.at("m").get_to(g.m);
  j.at("k").get_to(g.k);
  j.at("n").get_to(g.n);
}

void to_json(nlohmann::json& j, const QuantOptions& q) {
  j = {{"scheme", q.scheme},
       {"granularity", q.granularity},
       {"activations", q.activations},
       {"calibration", q.calibration},
       {"calibration_samples", q.calibration_samples},
       {"percentile", q.percentile},
       {"group_size", q.group_size}};
}

void from_json(const nlohmann::json& j, QuantOptions& q) { read_quant(j, q, true); }

void update_from_json(const nlohmann::json& j, QuantOptions& q) { read_quant(j, q, false); }

namespace {

nlohmann::json quantization_json(const EvalConfig& c) {
  if (c.precision == "int4") {
    return {{"scheme", c.quant.scheme},
            {"group_size", c.quant.group_size},
            {"calibration_samples", c.quant.calibration_samples}};
  }
  nlohmann::json j = c.quant;
  if (c.precision != "mixed") j.erase("group_size");  // mixed may run int4 layers
  return j;
}

}  // namespace

void to_json(nlohmann::json& j, const PruneOptions& p) {
  j = {{"method", p.method},
       {"ratio", p.ratio},
       {"finetune_epochs", p.finetune_epochs},
       {"schedule", p.schedule}};
  if (p.method == "n:m") j["nm"] = p.nm;
}

void from_json(const nlohmann::json& j, PruneOptions& p) {
  j.at("method").get_to(p.method);
  j.at("ratio").get_to(p.ratio);
  read_field(j, "finetune_epochs", p.finetune_epochs, false);
  read_field(j, "schedule", p.schedule, false);
  read_field(j, "nm", p.nm, false);
}

void to_json(nlohmann::json& j, const DistillOptions& d) {
  j = {{"teacher", d.teacher}, {"temperature", d.temperature}, {"alpha", d.alpha}};
}

void from_json(const nlohmann::json& j, DistillOptions& d) {
  j.at("teacher").get_to(d.teacher);
  read_field(j, "temperature", d.temperature, false);
  read_field(j, "alpha", d.alpha, false);
}

namespace {

// Hash stability: a field at its default stays out of the canonical config, so a new option
// (which starts at the default that reproduces the old behaviour) moves no existing hash. The
// keys in `keep` name what the configuration is (the layers, a pruning ratio) and stay even at
// their defaults, so a config reads as what it measures. A group left empty goes too.
void erase_defaults(nlohmann::json& group, const nlohmann::json& defaults,
                    std::initializer_list<const char*> keep = {}) {
  for (auto it = group.begin(); it != group.end();) {
    const bool kept =
        std::any_of(keep.begin(), keep.end(), [&](const char* key) { return it.key() == key; });
    const auto default_value = defaults.find(it.key());
    if (!kept && default_value != defaults.end() && *default_value == it.value()) {
      it = group.erase(it);
    } else {
      ++it;
    }
  }
}

void erase_if_empty(nlohmann::json& parent, const char* key) {
  const auto it = parent.find(key);
  if (it != parent.end() && it->empty()) parent.erase(it);
}

}  // namespace

void to_json(nlohmann::json& j, const EvalConfig& c) {
  nlohmann::json workload;
  if (c.workload == kWorkloadGemm) {
    workload = c.gemm;
  } else {
    workload = c.mlp;
    erase_defaults(workload["training"], MlpTraining{});
    erase_if_empty(workload, "training");
  }
  j = {{"workload", workload}, {"precision", c.precision}, {"bits", c.bits}};
  if (c.kernel != EvalConfig{}.kernel) j["kernel"] = c.kernel;
  if (c.quantized()) {
    EvalConfig defaults;
    defaults.precision = c.precision;
    j["quantization"] = quantization_json(c);
    erase_defaults(j["quantization"], quantization_json(defaults));
    erase_if_empty(j, "quantization");
  }
  if (c.workload != kWorkloadGemm && c.prune.active()) {
    j["pruning"] = c.prune;
    erase_defaults(j["pruning"], PruneOptions{}, {"method", "ratio", "nm"});
  }
  if (c.workload != kWorkloadGemm && c.distill.active()) {
    j["distillation"] = c.distill;
    erase_defaults(j["distillation"], DistillOptions{}, {"teacher"});
  }
  if (c.precision == "mixed") {
    j["mixed"] = c.mixed.automatic ? nlohmann::json{{"policy", "auto"}, {"budget", c.mixed.budget}}
                                   : nlohmann::json{{"policy", c.mixed.policy}};
  }
}

// Reads a canonical config, where an absent field has its default (to_json left it out).
void from_json(const nlohmann::json& j, EvalConfig& c) {
  c = EvalConfig{};
  const nlohmann::json& workload = j.at("workload");
  c.workload = workload.at("kind").get<std::string>();
  if (c.workload == kWorkloadGemm) {
    workload.get_to(c.gemm);
  } else {
    workload.at("dataset").get_to(c.mlp.dataset);
    workload.at("layers").get_to(c.mlp.layers);
    if (workload.contains("training")) update_from_json(workload.at("training"), c.mlp.training);
  }
  j.at("precision").get_to(c.precision);
  j.at("bits").get_to(c.bits);
  c.kernel = j.value("kernel", c.kernel);
  if (j.contains("quantization")) update_from_json(j.at("quantization"), c.quant);
  if (j.contains("pruning")) j.at("pruning").get_to(c.prune);
  if (j.contains("distillation")) j.at("distillation").get_to(c.distill);
  if (j.contains("mixed")) {
    const nlohmann::json& m = j.at("mixed");
    c.mixed.automatic = m.at("policy").is_string();
    if (!c.mixed.automatic) m.at("policy").get_to(c.mixed.policy);
    c.mixed.budget = m.value("budget", 0.0);
  }
}

std::string config_hash(const EvalConfig& config) {
  const std::string text = nlohmann::json(config).dump();
  return fmt::format("{:016x}", XXH3_64bits(text.data(), text.size()));
}

}  // namespace lowbit::protocol
