#include "coordinator/results_csv.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace lowbit::coordinator {

namespace {

// Per-result columns, by JSON pointer into the result document.
constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kResultColumns = {{
    {"config_hash", "/config_hash"},
    {"status", "/status"},
    {"reason", "/reason"},
    {"workload", "/config/workload/kind"},
    {"precision", "/config/precision"},
    {"bits", "/config/bits"},
    {"pruning_method", "/config/pruning/method"},
    {"pruning_ratio", "/config/pruning/ratio"},
    {"target_id", "/target/id"},
    {"target_label", "/target/label"},
    {"top1", "/accuracy/top1"},
    {"delta", "/accuracy/delta"},
    {"agreement", "/accuracy/agreement"},
    {"sparsity", "/sparsity"},
    {"model_bytes", "/model_bytes"},
    {"kernel", "/kernel"},
}};

// Per-batch columns, from each entry of `latency`.
constexpr std::array<std::string_view, 9> kLatencyColumns = {
    "batch",     "median_us", "p90_us",           "p99_us", "mean_us",
    "stddev_us", "cv",        "throughput_per_s", "noisy"};

std::string cell(const nlohmann::json& value) {
  if (value.is_null()) return "";
  std::string text = value.is_string()
                         ? value.get<std::string>()
                         : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

nlohmann::json at(const nlohmann::json& doc, std::string_view pointer) {
  const nlohmann::json::json_pointer p{std::string(pointer)};
  return doc.contains(p) ? doc.at(p) : nlohmann::json();
}

}  // namespace

std::string results_csv(const std::vector<nlohmann::json>& results) {
  std::string out;
  for (const auto& [name, pointer] : kResultColumns) out += fmt::format("{},", name);
  for (std::size_t i = 0; i < kLatencyColumns.size(); ++i) {
    out += kLatencyColumns[i];
    out += i + 1 < kLatencyColumns.size() ? "," : "\r\n";
  }
  for (const nlohmann::json& result : results) {
    std::string prefix;
    for (const auto& [name, pointer] : kResultColumns) prefix += cell(at(result, pointer)) + ",";
    const nlohmann::json latency = at(result, "/latency");
    const nlohmann::json rows =
        latency.is_array() && !latency.empty() ? latency : nlohmann::json::array({nullptr});
    for (const nlohmann::json& row : rows) {
      out += prefix;
      for (std::size_t i = 0; i < kLatencyColumns.size(); ++i) {
        const std::string key(kLatencyColumns[i]);
        out += row.is_object() && row.contains(key) ? cell(row[key]) : "";
        out += i + 1 < kLatencyColumns.size() ? "," : "\r\n";
      }
    }
  }
  return out;
}

}  // namespace lowbit::coordinator
