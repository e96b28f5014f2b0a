#pragma once
// GET /sweeps/{id}/results?format=csv: the result documents as one table for spreadsheets and
// scripts, one row per (result, batch size); a result without latency (skipped, failed) gets one
// row with the latency columns empty. RFC 4180 quoting. The JSON form stays the complete record.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lowbit::coordinator {

std::string results_csv(const std::vector<nlohmann::json>& results);

}  // namespace lowbit::coordinator
