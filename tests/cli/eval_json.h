#pragma once
// Runs one `lowbit eval --json` command line, requires exit 0 and returns the
// schema-valid result document it printed.
#include <doctest/doctest.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "protocol/json_schema.h"
#include "tests/support/subprocess.h"

namespace lowbit::testing {

inline nlohmann::json eval_json_ok(const std::string& command) {
  const auto r = run_command(command);
  INFO(command);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json result = nlohmann::json::parse(r.out);
  static const auto schema = lowbit::protocol::JsonSchema::load("result");
  for (const auto& e : schema.validate(result)) FAIL_CHECK(e.to_string());
  return result;
}

// Each {flags, what the message must name} is `lowbit eval` exit 2 with that message, nothing on
// stdout, and nothing trained: bad input is refused before any work.
inline void expect_eval_usage_errors(
    const std::string& cache_dir,
    std::initializer_list<std::pair<const char*, const char*>> cases) {
  for (const auto& [flags, named] : cases) {
    CAPTURE(std::string(flags));
    const auto r = run_command(std::string(LOWBIT_BINARY) + " eval --cache " + cache_dir +
                               " --epochs 1 " + flags);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(named) != std::string::npos);
    CHECK(r.out.empty());
    CHECK(r.err.find("epoch 1") == std::string::npos);  // nothing was trained
  }
}

}  // namespace lowbit::testing
