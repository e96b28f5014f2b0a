#pragma once
// Runs one `lowbit eval --json` command line, requires exit 0 and returns the
// schema-valid result document it printed.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

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

}  // namespace lowbit::testing
