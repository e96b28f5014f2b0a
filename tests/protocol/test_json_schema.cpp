// JsonSchema against the official draft-07 JSON-Schema-Test-Suite, then the
// pointers and messages a user sees, which the suite does not check.

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json_schema.h"

namespace {

using lowbit::protocol::JsonSchema;
using lowbit::protocol::SchemaError;
using nlohmann::json;
namespace fs = std::filesystem;

// Installed by Debian's json-schema-test-suite package.
constexpr std::string_view kSuiteDir = "/usr/share/json-schema-test-suite/tests/draft7";

// The suite (2.0.0) has 408 cases outside refRemote.json; fewer than this
// means files went missing, not that a few cases were skipped.
constexpr int kMinCasesRun = 400;

struct SkippedGroup {
  std::string_view file;
  std::string_view group;  // the group's "description"
  std::string_view reason;
};

// Each of these schemas needs another document or $id-based resolution. The
// test also checks that JsonSchema rejects them rather than validating wrongly.
constexpr std::array kSkippedGroups = {
    SkippedGroup{"definitions.json", "valid definition", "$ref to the remote draft-07 meta-schema"},
    SkippedGroup{"definitions.json", "invalid definition",
                 "$ref to the remote draft-07 meta-schema"},
    SkippedGroup{"ref.json", "remote ref, containing refs itself",
                 "$ref to the remote draft-07 meta-schema"},
    SkippedGroup{"ref.json", "Recursive references between schemas",
                 "$ref resolved against $id (\"node\", \"tree\")"},
};

// Whole files left out: remote documents served at localhost:1234.
constexpr std::array<std::string_view, 1> kSkippedFiles = {"refRemote.json"};

const SkippedGroup* find_skip(std::string_view file, std::string_view group) {
  const auto it =
      std::find_if(kSkippedGroups.begin(), kSkippedGroups.end(),
                   [&](const SkippedGroup& s) { return s.file == file && s.group == group; });
  return it == kSkippedGroups.end() ? nullptr : &*it;
}

std::vector<fs::path> suite_files() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(kSuiteDir), ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    if (std::find(kSkippedFiles.begin(), kSkippedFiles.end(), name) != kSkippedFiles.end())
      continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

// Runs every case of one suite group; returns how many ran.
int run_group(const std::string& file, const json& group) {
  INFO(file << " / " << group.at("description").get<std::string>());
  INFO("schema: " << group.at("schema").dump());
  std::optional<JsonSchema> schema;
  try {
    schema.emplace(group.at("schema"));
  } catch (const std::exception& e) {
    FAIL_CHECK("schema rejected: " << e.what());
    return 0;
  }
  int cases = 0;
  for (const json& test : group.at("tests")) {
    INFO("test: " << test.at("description").get<std::string>());
    INFO("data: " << test.at("data").dump());
    const bool expected = test.at("valid").get<bool>();
    const std::vector<SchemaError> errors = schema->validate(test.at("data"));
    std::string listed;
    for (const SchemaError& e : errors) listed += e.to_string() + "\n";
    INFO("errors:\n" << listed);
    // Both entry points: is_valid stops at the first failure, validate does not.
    CHECK(schema->is_valid(test.at("data")) == expected);
    CHECK(errors.empty() == expected);
    ++cases;
  }
  return cases;
}

}  // namespace

TEST_CASE("draft-07 JSON-Schema-Test-Suite") {
  const std::vector<fs::path> files = suite_files();
  REQUIRE_MESSAGE(!files.empty(), "no suite file in " << kSuiteDir);

  int cases_run = 0;
  int cases_skipped = 0;
  std::vector<const SkippedGroup*> skips_used;
  for (const fs::path& path : files) {
    const std::string file = path.filename().string();
    const int seen_before = cases_run + cases_skipped;
    for (const json& group : read_json(path)) {
      const std::string description = group.at("description").get<std::string>();
      const SkippedGroup* skip = find_skip(file, description);
      if (skip == nullptr) {
        cases_run += run_group(file, group);
        continue;
      }
      MESSAGE("skipped " << file << " / " << description << ": " << skip->reason);
      INFO(file << " / " << description << " must be rejected, not validated wrongly");
      CHECK_THROWS_AS(JsonSchema(group.at("schema")), std::invalid_argument);
      skips_used.push_back(skip);
      cases_skipped += static_cast<int>(group.at("tests").size());
    }
    CHECK_MESSAGE(cases_run + cases_skipped > seen_before, file << " holds no case");
  }
  MESSAGE("draft-07 suite: " << cases_run << " cases run, " << cases_skipped << " skipped");
  CHECK(cases_run >= kMinCasesRun);
  // A skip entry that no longer matches anything hides nothing and should go.
  for (const SkippedGroup& skip : kSkippedGroups) {
    INFO("unused skip entry: " << skip.file << " / " << skip.group);
    CHECK(std::find(skips_used.begin(), skips_used.end(), &skip) != skips_used.end());
  }
}

namespace {

// A cut-down job spec: enough nesting to see the pointers.
json job_schema() {
  return json::parse(R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["name", "axes"],
    "additionalProperties": false,
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "repetitions": {"type": "integer", "minimum": 1},
      "axes": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "bits": {"type": "array", "items": {"enum": [2, 3, 4, 5, 6, 7, 8, 32]}},
          "k": {"type": "array", "items": {"type": "integer", "multipleOf": 16}}
        }
      }
    }
  })");
}

std::vector<std::string> rendered(const std::vector<SchemaError>& errors) {
  std::vector<std::string> out;
  for (const SchemaError& e : errors) out.push_back(e.to_string());
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("error pointers and messages") {
  const JsonSchema schema(job_schema());

  SUBCASE("a valid document has no error") {
    const json doc = {{"name", "mlp"}, {"axes", {{"bits", {4, 8}}, {"k", {64, 128}}}}};
    CHECK(schema.validate(doc).empty());
    CHECK(schema.is_valid(doc));
  }
  SUBCASE("enum violation in an array element") {
    const auto errors = schema.validate({{"name", "mlp"}, {"axes", {{"bits", {4, 33}}}}});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].pointer == "/axes/bits/1");
    CHECK(errors[0].message == "33 is not one of [2,3,4,5,6,7,8,32]");
    CHECK(errors[0].to_string() == "/axes/bits/1: 33 is not one of [2,3,4,5,6,7,8,32]");
  }
  SUBCASE("unknown field under additionalProperties: false names the field") {
    const auto errors = schema.validate({{"name", "mlp"}, {"axes", {{"foo", 1}}}});
    CHECK(rendered(errors) == Lines{"/axes/foo: unknown field \"foo\""});
  }
  SUBCASE("missing required field names the object") {
    CHECK(rendered(schema.validate({{"axes", json::object()}})) ==
          Lines{"(root): missing required field \"name\""});
  }
  SUBCASE("wrong type") {
    CHECK(rendered(
              schema.validate({{"name", "mlp"}, {"axes", json::object()}, {"repetitions", "3"}})) ==
          Lines{"/repetitions: expected integer, got string"});
    CHECK(rendered(schema.validate(json::array())) == Lines{"(root): expected object, got array"});
  }
  SUBCASE("several errors come in document order") {
    const json doc = json::parse(R"({"axes": {"k": [16, 17, "x"], "bits": [1]}, "extra": true})");
    CHECK(rendered(schema.validate(doc)) ==
          Lines{"(root): missing required field \"name\"",
                "/axes/bits/0: 1 is not one of [2,3,4,5,6,7,8,32]",
                "/axes/k/1: must be a multiple of 16, got 17",
                "/axes/k/2: expected integer, got string", "/extra: unknown field \"extra\""});
  }
  SUBCASE("keys with / and ~ are escaped in the pointer") {
    const JsonSchema s(json::parse(R"({"additionalProperties": {"type": "integer"}})"));
    CHECK(rendered(s.validate({{"a/b~c", "x"}})) ==
          Lines{"/a~1b~0c: expected integer, got string"});
  }
}

TEST_CASE("messages of the other keywords") {
  const auto first = [](const char* schema_text, const json& instance) {
    const auto errors = JsonSchema(json::parse(schema_text)).validate(instance);
    return errors.empty() ? std::string("(valid)") : errors.front().to_string();
  };
  CHECK(first(R"({"minimum": 1})", 0) == "(root): must be >= 1, got 0");
  CHECK(first(R"({"exclusiveMaximum": 1.5})", 1.5) == "(root): must be < 1.5, got 1.5");
  CHECK(first(R"({"minLength": 2})", "é") == "(root): must be at least 2 characters long, got 1");
  CHECK(first(R"({"maxItems": 1})", json{1, 2}) == "(root): must have at most 1 item, got 2");
  CHECK(first(R"({"uniqueItems": true})", json{1, 2, 1.0}) == "/2: duplicate of item 0");
  CHECK(first(R"({"pattern": "^[a-z]+$"})", "a1") ==
        R"((root): "a1" does not match pattern "^[a-z]+$")");
  CHECK(first(R"({"const": "x"})", "y") == R"((root): must equal "x", got "y")");
  CHECK(first(R"({"items": [true], "additionalItems": false})", json{1, 2}) ==
        "/1: unexpected item; at most 1 item allowed");
  CHECK(first(R"({"dependencies": {"a": ["b"]}})", json{{"a", 1}}) ==
        R"((root): field "a" requires field "b")");
  CHECK(first(R"({"propertyNames": {"maxLength": 2}})", json{{"abc", 1}}) ==
        "/abc: invalid field name: must be at most 2 characters long, got 3");
  CHECK(first(R"({"type": ["integer", "string", "null"]})", 1.5) ==
        "(root): expected integer, string or null, got number");
  CHECK(first(R"({"contains": {"const": 1}})", json::array()) ==
        R"((root): no item matches the "contains" schema)");
  CHECK(first(R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})", 1) ==
        "(root): matches more than one of the allowed shapes (oneOf branches 0 and 1)");
  // The closest branch is the one that failed deepest in the instance.
  CHECK(
      first(R"({"anyOf": [{"type": "string"},
                            {"properties": {"bits": {"items": {"enum": [4, 8]}}}}]})",
            json{{"bits", {4, 5}}}) ==
      "(root): does not match any of the allowed shapes; closest: /bits/1: 5 is not one of [4,8]");
}

TEST_CASE("numbers follow JSON, not nlohmann's integer/float split") {
  const JsonSchema one(json::parse(R"({"enum": [1]})"));
  CHECK(one.is_valid(json(1.0)));
  CHECK(one.is_valid(json(1U)));
  // 2^53 + 1 has no double; rounding through double would call these equal.
  const JsonSchema big(json::parse(R"({"const": 9007199254740993})"));
  CHECK_FALSE(big.is_valid(json::parse("9007199254740992.0")));
  CHECK(big.is_valid(json::parse("9007199254740993")));
  CHECK_FALSE(JsonSchema(json::parse(R"({"maximum": 9007199254740992})"))
                  .is_valid(json::parse("9007199254740993")));
  CHECK_FALSE(JsonSchema(json::parse(R"({"uniqueItems": true})"))
                  .is_valid(json::parse("[[1, {\"a\": 2}], [1.0, {\"a\": 2.0}]]")));
  CHECK(JsonSchema(json::parse(R"({"type": "integer"})")).is_valid(json(3.0)));

  // multipleOf on decimals: exact on the written digits, no tolerance.
  const JsonSchema cents(json::parse(R"({"multipleOf": 0.01})"));
  CHECK(cents.is_valid(json::parse("19.99")));
  CHECK(cents.is_valid(json::parse("0.07")));
  CHECK(cents.is_valid(json::parse("1e300")));
  CHECK_FALSE(cents.is_valid(json::parse("0.075")));
  const json int64_min = std::numeric_limits<std::int64_t>::min();  // -2^63: no positive int64
  CHECK(JsonSchema(json::parse(R"({"multipleOf": 2})")).is_valid(int64_min));
  CHECK_FALSE(JsonSchema(json::parse(R"({"multipleOf": 3})")).is_valid(int64_min));
  CHECK_FALSE(JsonSchema(json::parse(R"({"multipleOf": 0.123456789})")).is_valid(json(1e308)));
}

TEST_CASE("strings are measured and matched in code points") {
  const JsonSchema two(json::parse(R"({"maxLength": 2, "pattern": "^..$"})"));
  CHECK(two.is_valid(json("é😀")));  // 6 bytes, 2 code points
  CHECK_FALSE(two.is_valid(json("éé😀")));
  // libstdc++'s default regex executor overflows the stack on long inputs.
  const JsonSchema word(json::parse(R"({"pattern": "^(a|b)*$"})"));
  CHECK(word.is_valid(json(std::string(200000, 'a'))));
  CHECK_FALSE(word.is_valid(json(std::string(200000, 'a') + "c")));
}

TEST_CASE("recursion is bounded") {
  const JsonSchema nested(json::parse(R"({"items": {"$ref": "#"}})"));
  json deep = json::array();
  for (int i = 0; i < 5000; ++i) deep = json::array({std::move(deep)});
  const auto errors = nested.validate(deep);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message.find("nested more than") == 0);
  CHECK_FALSE(nested.is_valid(deep));
  // A ref through an applicator recurses on the same value: stopped by the same limit.
  CHECK_FALSE(JsonSchema(json::parse(R"({"allOf": [{"$ref": "#"}]})")).is_valid(1));
}

TEST_CASE("schemas we cannot honour are rejected when built") {
  const auto rejection = [](const char* schema_text) -> std::string {
    try {
      JsonSchema schema(json::parse(schema_text));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(accepted)";
  };
  CHECK(rejection(R"({"properties": {"x": {"maxlength": 3}}})") ==
        R"(schema #/properties/x: unsupported keyword "maxlength")");
  CHECK(
      rejection(R"({"$ref": "http://example.com/s.json"})") ==
      R"(schema #: $ref "http://example.com/s.json": only refs within the same document ("#/...") are supported)");
  CHECK(rejection(R"({"$ref": "#/definitions/missing"})") ==
        R"(schema #: $ref "#/definitions/missing" does not resolve)");
  CHECK(rejection(R"({"$ref": "#node"})").find("$id anchors are not supported") !=
        std::string::npos);
  CHECK(rejection(R"({"items": {"$id": "http://x/y", "type": "integer"}})")
            .find("$id below the root") != std::string::npos);
  CHECK(rejection(R"({"$schema": "https://json-schema.org/draft/2020-12/schema"})")
            .find("not draft-07") != std::string::npos);
  CHECK(
      rejection(
          R"({"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}})")
          .find("$ref cycle") != std::string::npos);
  CHECK(rejection(R"({"minLength": -1})") ==
        "schema #/minLength: expected a non-negative integer, got -1");
  CHECK(rejection(R"({"multipleOf": 0})") == "schema #/multipleOf: expected a number > 0, got 0");
  CHECK(rejection(R"({"pattern": "("})").find("schema #/pattern: bad regex") == 0);
  CHECK(rejection(R"({"exclusiveMinimum": true})").find("expected a number") != std::string::npos);
  CHECK(rejection(R"({"type": "int"})") == R"(schema #/type: unknown type "int")");
  CHECK(rejection(R"({"definitions": {"unused": {"minimum": "0"}}})") ==
        R"(schema #/definitions/unused/minimum: expected a number, got "0")");
  // Annotations and unknown keys that only hold $ref targets are fine.
  CHECK(rejection(R"({"title": "t", "format": "date-time", "$comment": "c", "examples": [1]})") ==
        "(accepted)");
  CHECK(rejection(R"({"lib": {"int": {"type": "integer"}}, "items": {"$ref": "#/lib/int"}})") ==
        "(accepted)");
}

TEST_CASE("load reads <dir>/<name>.schema.json") {
  // One folder per process, so concurrent test runs do not collide.
  const fs::path dir =
      fs::temp_directory_path() / ("lowbit_test_json_schema_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "good.schema.json") << R"({"type": "integer"})";
  std::ofstream(dir / "broken.schema.json") << R"({"type": )";
  std::ofstream(dir / "odd.schema.json") << R"({"typo": 1})";

  CHECK(JsonSchema::load("good", dir.string()).is_valid(3));
  const auto message_of = [&](const char* name) -> std::string {
    try {
      JsonSchema::load(name, dir.string());
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(loaded)";
  };
  CHECK_THROWS_AS(JsonSchema::load("missing", dir.string()), std::runtime_error);
  CHECK(message_of("missing").find("missing.schema.json") != std::string::npos);
  CHECK_THROWS_AS(JsonSchema::load("broken", dir.string()), std::runtime_error);
  CHECK(message_of("broken").find("broken.schema.json: not valid JSON") != std::string::npos);
  CHECK_THROWS_AS(JsonSchema::load("odd", dir.string()), std::invalid_argument);
  CHECK(message_of("odd").find("odd.schema.json: schema #: unsupported keyword \"typo\"") !=
        std::string::npos);
  fs::remove_all(dir);
}
