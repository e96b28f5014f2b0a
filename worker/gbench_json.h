#pragma once
// A result's latency in Google Benchmark's JSON format (context + benchmarks,
// with its field names), so Google Benchmark's tools/compare.py can compare
// lowbit results with each other or with any Google Benchmark output.

#include <nlohmann/json.hpp>

#include "protocol/result.h"

namespace lowbit::worker {

nlohmann::json to_gbench_json(const protocol::Result& result);

}  // namespace lowbit::worker
