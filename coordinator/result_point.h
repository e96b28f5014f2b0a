#pragma once
// What a comparison reads of one stored result document: the series it belongs to and the
// measurements that decide them. Read once per document, so a comparison of hundreds of
// results does not walk JSON per series.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lowbit::coordinator {

struct LatencyPoint {
  int batch = 1;
  double median_us = 0.0;
  std::vector<double> samples_us;      // one per repetition
  std::vector<double> cpu_samples_us;  // CPU time per call of each repetition; may be empty
};

struct AccuracyPoint {
  double top1 = 0.0;
  int images = 0;
  std::string correct;  // base64 bitset of per-image correctness; empty when not kept
};

struct ResultPoint {
  std::string config_hash;
  std::string label;  // the variant in a few words ("int8 b8 · magnitude 0.5")
  std::string target_id;
  std::string target_label;
  std::string status;  // passed | skipped | failed | mistrusted
  std::string reason;
  std::string kernel;
  bool has_top1_series = false;  // an mlp: its accuracy is a series even when it failed
  std::vector<LatencyPoint> latency;
  std::optional<AccuracyPoint> accuracy;
  std::optional<double> injected_slowdown;  // context.injected: not a real measurement
};

// Throws nlohmann::json::exception for a document without the fields every result has
// (config_hash, status, target.id): the store only holds validated results.
ResultPoint read_result_point(const nlohmann::json& result);

}  // namespace lowbit::coordinator
