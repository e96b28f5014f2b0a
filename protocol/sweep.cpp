#include "protocol/sweep.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstddef>

#include "stats/sample_size.h"

namespace lowbit::protocol {

namespace {

using nlohmann::json;

// Fashion-MNIST's images and classes: the first and last layer sizes every model of it has.
constexpr int kFashionMnistInputs = 28 * 28;
constexpr int kFashionMnistClasses = 10;
constexpr int kFashionMnistTrainImages = 60000;

struct NmNumbers {
  int n = 0;
  int m = 0;
};

// The schema's pattern already guarantees "digits:digits".
NmNumbers split_nm(const std::string& text) {
  const std::size_t colon = text.find(':');
  return {std::stoi(text.substr(0, colon)), std::stoi(text.substr(colon + 1))};
}

std::string layers_text(const std::vector<int>& layers) {
  return fmt::format("{}", fmt::join(layers, "-"));
}

// Reads a schema-valid document into a Sweep and collects the errors the schema cannot see.
class SweepReader {
 public:
  explicit SweepReader(const json& document) : doc_(document) {}

  SweepParse read() {
    sweep_.name = doc_.at("name").get<std::string>();
    read_workload(doc_.at("workload"));
    read_pruning_options();
    read_axes(doc_.at("axes"));
    read_quantization();
    read_distillation();
    read_mixed();
    read_measurement();
    read_targets();
    read_tags();
    track_by_default();
    SweepParse parse;
    if (errors_.empty()) {
      parse.sweep = std::move(sweep_);
    } else {
      parse.errors = std::move(errors_);
    }
    return parse;
  }

 private:
  void error(std::string pointer, std::string message) {
    errors_.push_back({std::move(pointer), std::move(message)});
  }

  void read_workload(const json& w) {
    sweep_.workload = w.at("kind").get<std::string>();
    if (sweep_.workload == kWorkloadGemm) {
      for (const json& shape : w.at("shapes")) sweep_.shapes.push_back(shape.get<GemmWorkload>());
      return;
    }
    MlpWorkload& mlp = sweep_.mlp;
    mlp.dataset = w.value("dataset", mlp.dataset);
    mlp.layers = w.value("layers", mlp.layers);
    if (mlp.layers.front() != kFashionMnistInputs || mlp.layers.back() != kFashionMnistClasses) {
      error("/workload/layers",
            fmt::format("{} has {} inputs and {} outputs; fashion-mnist needs {} (28×28 pixels) "
                        "and {} (classes)",
                        layers_text(mlp.layers), mlp.layers.front(), mlp.layers.back(),
                        kFashionMnistInputs, kFashionMnistClasses));
    }
    if (!w.contains("training")) return;
    const json& t = w.at("training");
    MlpTraining& training = mlp.training;
    update_from_json(t, training);
    if (training.validation_images + training.train_images > kFashionMnistTrainImages) {
      error("/workload/training",
            fmt::format("validation_images + train_images = {} is more than the {} training "
                        "images of fashion-mnist",
                        training.validation_images + training.train_images,
                        kFashionMnistTrainImages));
    }
  }

  void read_pruning_options() {
    if (!doc_.contains("pruning")) return;
    const json& p = doc_.at("pruning");
    PruneOptions& o = sweep_.pruning_options;
    o.method = p.value("method", o.method);
    o.nm = p.value("nm", o.nm);
    o.schedule = p.value("schedule", o.schedule);
    o.finetune_epochs = p.value("finetune_epochs", o.finetune_epochs);
    check_nm(o.nm, "/pruning/nm");
  }

  // 1 ≤ n ≤ m, m ≥ 2: what kernels/prune/prune.h's parse_nm accepts.
  bool check_nm(const std::string& nm, const std::string& pointer) {
    const NmNumbers v = split_nm(nm);
    if (v.m < 2 || v.n > v.m) {
      error(pointer, fmt::format("\"{}\" is not an n:m pattern: needs 1 ≤ n ≤ m and m ≥ 2", nm));
      return false;
    }
    return true;
  }

  void read_axes(const json& axes) {
    sweep_.bits = axes.at("bits").get<std::vector<int>>();
    sweep_.precision = axes.at("precision").get<std::vector<std::string>>();
    if (!axes.contains("pruning")) return;
    sweep_.pruning.clear();
    const json& points = axes.at("pruning");
    for (std::size_t i = 0; i < points.size(); ++i) {
      sweep_.pruning.push_back(read_pruning_point(points[i], fmt::format("/axes/pruning/{}", i)));
    }
  }

  PruningPoint read_pruning_point(const json& item, const std::string& pointer) {
    PruningPoint point;
    if (item.is_number()) {
      point.method = sweep_.pruning_options.method;
      point.ratio = item.get<double>();
      if (point.method == kPruneNm) point.nm = sweep_.pruning_options.nm;
      return point;
    }
    point.method = item.at("method").get<std::string>();
    if (point.method != kPruneNm) {
      point.ratio = item.at("ratio").get<double>();
      if (item.contains("nm")) error(pointer + "/nm", "only method n:m takes an nm pattern");
      return point;
    }
    point.nm = item.at("nm").get<std::string>();
    if (!check_nm(point.nm, pointer + "/nm")) return point;
    const NmNumbers v = split_nm(point.nm);
    point.ratio = item.contains("ratio") ? item.at("ratio").get<double>()
                                         : 1.0 - static_cast<double>(v.n) / v.m;
    return point;
  }

  void read_quantization() {
    if (!doc_.contains("quantization")) return;
    const json& q = doc_.at("quantization");
    update_from_json(q, sweep_.quantization);
  }

  void read_distillation() {
    if (!doc_.contains("distillation")) return;
    const json& d = doc_.at("distillation");
    DistillationOptions o;
    o.teacher = d.at("teacher").get<std::vector<int>>();
    o.temperature = d.value("temperature", o.temperature);
    o.alpha = d.value("alpha", o.alpha);
    if (sweep_.workload != kWorkloadMlp) {
      error("/distillation", "distillation trains an mlp student; a gemm workload has no model");
    } else if (o.teacher.front() != sweep_.mlp.layers.front() ||
               o.teacher.back() != sweep_.mlp.layers.back()) {
      error("/distillation/teacher",
            fmt::format("the teacher {} must have the student's inputs and outputs ({})",
                        layers_text(o.teacher), layers_text(sweep_.mlp.layers)));
    }
    sweep_.distillation = std::move(o);
  }

  void read_mixed() {
    const auto& precisions = sweep_.precision;
    const auto mixed_at = std::find(precisions.begin(), precisions.end(), "mixed");
    if (!doc_.contains("mixed")) {
      if (mixed_at != precisions.end()) {
        error(fmt::format("/axes/precision/{}", mixed_at - precisions.begin()),
              "precision mixed needs the sweep's mixed group (a per-layer policy, or auto with "
              "a budget)");
      }
      return;
    }
    const json& m = doc_.at("mixed");
    MixedOptions o;
    const json& policy = m.at("policy");
    o.automatic = policy.is_string();
    if (!o.automatic) o.policy = policy.get<std::vector<std::string>>();
    o.budget = m.value("budget", o.budget);
    if (m.contains("budget") && !o.automatic) {
      error("/mixed/budget", "a budget goes with policy auto; a given policy has none");
    }
    const std::size_t weight_layers = sweep_.mlp.layers.size() - 1;
    if (sweep_.workload == kWorkloadMlp && !o.automatic && o.policy.size() != weight_layers) {
      error("/mixed/policy",
            fmt::format("{} has {} weight layers; the policy names {}",
                        layers_text(sweep_.mlp.layers), weight_layers, o.policy.size()));
    }
    sweep_.mixed = std::move(o);
  }

  void read_measurement() {
    Measurement& m = sweep_.measurement;
    m.batches = doc_.value("batches", m.batches);
    if (!doc_.contains("measurement")) return;
    const json& j = doc_.at("measurement");
    m.repetitions = j.value("repetitions", m.repetitions);
    m.min_time_ms = j.value("min_time_ms", m.min_time_ms);
    m.warmup_ms = j.value("warmup_ms", m.warmup_ms);
  }

  // A sweep with a branch is tracked: it will be compared with its baseline, and the default
  // repetitions of an untracked sweep cannot catch one regressed series among hundreds
  // (stats/sample_size.h). Repetitions the sweep gives itself are kept.
  void track_by_default() {
    if (sweep_.tags.branch.empty()) return;
    if (doc_.contains("measurement") && doc_.at("measurement").contains("repetitions")) return;
    sweep_.measurement.repetitions = stats::kTrackedRepetitions;
  }

  void read_targets() {
    if (!doc_.contains("targets") || doc_.at("targets").is_string()) return;
    sweep_.targets = doc_.at("targets").get<std::vector<TargetConstraint>>();
  }

  void read_tags() {
    if (!doc_.contains("tags")) return;
    const json& t = doc_.at("tags");
    sweep_.tags.commit = t.value("commit", "");
    sweep_.tags.branch = t.value("branch", "");
    sweep_.tags.text = t.value("text", "");
  }

  const json& doc_;
  Sweep sweep_;
  std::vector<SchemaError> errors_;
};

}  // namespace

const JsonSchema& sweep_schema() {
  static const JsonSchema schema = JsonSchema::load("sweep");
  return schema;
}

SweepParse parse_sweep(const nlohmann::json& document) {
  return parse_sweep(document, sweep_schema());
}

SweepParse parse_sweep(const nlohmann::json& document, const JsonSchema& schema) {
  SweepParse parse;
  parse.errors = schema.validate(document);
  if (!parse.errors.empty()) return parse;
  return SweepReader(document).read();
}

void to_json(nlohmann::json& j, const SweepTags& tags) {
  j = nlohmann::json::object();
  if (!tags.commit.empty()) j["commit"] = tags.commit;
  if (!tags.branch.empty()) j["branch"] = tags.branch;
  if (!tags.text.empty()) j["text"] = tags.text;
}

}  // namespace lowbit::protocol
