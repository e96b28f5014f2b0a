#pragma once
// The accuracy/latency Pareto front of a sweep's results: per batch size, the
// variants no other variant beats on both accuracy and median latency. This is
// the answer to "what is the best trade-off": everything off the front is
// slower for no accuracy gained, or less accurate for no time saved.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/result.h"

namespace lowbit::protocol {

struct ParetoPoint {
  std::string config_hash;
  std::string target;   // target label
  std::string variant;  // variant_label of the config
  double top1 = 0.0;
  double median_us = 0.0;
};

struct ParetoFront {
  int batch = 0;
  std::vector<ParetoPoint> points;  // fastest first (and so least accurate first)
};

// Passed MLP results only: a skipped or failed variant has no trade-off to offer, and a GEMM has
// an error, not a top-1. A point is dominated when another is at least as accurate and at least
// as fast, and strictly better in one; of exact ties the first result is kept. Fronts come in
// ascending batch order.
std::vector<ParetoFront> pareto_fronts(const std::vector<Result>& results);

void to_json(nlohmann::json& j, const ParetoPoint& p);
void to_json(nlohmann::json& j, const ParetoFront& f);

}  // namespace lowbit::protocol
