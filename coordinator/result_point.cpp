#include "coordinator/result_point.h"

#include "protocol/eval_config.h"
#include "protocol/variant_label.h"

namespace lowbit::coordinator {

namespace {

// A variant's label from its canonical config; a config that is not an EvalConfig (an imported
// benchmark: {kind: "gbench", benchmark}) is named by its benchmark, else by its hash.
std::string label_of(const nlohmann::json& config, const std::string& config_hash) {
  if (config.contains("benchmark")) return config.at("benchmark").get<std::string>();
  try {
    return protocol::variant_label(config.get<protocol::EvalConfig>());
  } catch (const nlohmann::json::exception&) {
    return config_hash;
  }
}

}  // namespace

ResultPoint read_result_point(const nlohmann::json& result) {
  ResultPoint p;
  p.config_hash = result.at("config_hash").get<std::string>();
  const nlohmann::json& config = result.value("config", nlohmann::json::object());
  p.label = label_of(config, p.config_hash);
  const nlohmann::json& target = result.at("target");
  p.target_id = target.at("id").get<std::string>();
  p.target_label = target.value("label", p.target_id);
  p.status = result.at("status").get<std::string>();
  p.reason = result.value("reason", "");
  p.kernel = result.value("kernel", "");
  p.has_top1_series = config.contains("workload") &&
                      config.at("workload").value("kind", "") == protocol::kWorkloadMlp;
  if (const auto it = result.find("latency"); it != result.end()) {
    for (const nlohmann::json& l : *it) {
      LatencyPoint point;
      point.batch = l.at("batch").get<int>();
      point.median_us = l.value("median_us", 0.0);
      point.samples_us = l.value("samples_us", std::vector<double>{});
      point.cpu_samples_us = l.value("cpu_samples_us", std::vector<double>{});
      p.latency.push_back(std::move(point));
    }
  }
  if (const auto it = result.find("accuracy"); it != result.end()) {
    p.accuracy = AccuracyPoint{it->at("top1").get<double>(), it->value("images", 0),
                               it->value("correct", "")};
  }
  if (const auto it = result.find("context"); it != result.end() && it->contains("injected")) {
    p.injected_slowdown = it->at("injected").at("slowdown").get<double>();
  }
  return p;
}

}  // namespace lowbit::coordinator
