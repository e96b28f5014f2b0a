#pragma once
// Small sweep documents for the sweep tests: the smallest valid one, and the seed example.

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace lowbit::testing {

// One grid point: unpruned fp32 on 784-128-10.
inline nlohmann::json minimal_sweep() {
  return nlohmann::json::parse(R"({
    "name": "minimal",
    "workload": {"kind": "mlp"},
    "axes": {"bits": [32], "precision": ["fp32"]}
  })");
}

inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

inline nlohmann::json seed_sweep() {
  return read_json_file(std::string(LOWBIT_SOURCE_DIR) + "/examples/seed-sweep.json");
}

}  // namespace lowbit::testing
