// Sweep intake: schema errors with their pointers, the semantic rules, defaults, and the
// example a new user runs first.

#include <doctest/doctest.h>

#include <string>

#include "protocol/sweep.h"
#include "tests/protocol/sweep_fixtures.h"

namespace {

using lowbit::protocol::parse_sweep;
using lowbit::protocol::SchemaError;
using lowbit::protocol::Sweep;
using lowbit::testing::minimal_sweep;
using nlohmann::json;

// The first error's "pointer: message", or "" when the sweep parses.
std::string first_error(const json& document) {
  const auto parse = parse_sweep(document);
  return parse.errors.empty() ? std::string() : parse.errors.front().to_string();
}

TEST_CASE("examples/seed-sweep.json validates and parses to the seed scenario") {
  const auto parse = parse_sweep(lowbit::testing::seed_sweep());
  REQUIRE_MESSAGE(parse.errors.empty(), parse.errors.front().to_string());
  const Sweep& s = *parse.sweep;
  CHECK(s.mlp.layers == std::vector<int>{784, 128, 10});
  CHECK(s.mlp.dataset == "fashion-mnist");
  CHECK(s.pruning.size() == 3);
  CHECK(s.pruning[1].ratio == 0.5);
  CHECK(s.pruning[1].method == "magnitude");
  CHECK(s.bits == std::vector<int>{32, 8, 4});
  CHECK(s.precision ==
        std::vector<std::string>{"fp32", "int8", "fixed", "fp16", "bf16", "int4", "mixed"});
  REQUIRE(s.mixed);
  CHECK(s.mixed->policy == std::vector<std::string>{"int4", "int8"});
  CHECK(s.measurement.batches == std::vector<int>{1, 64});
  CHECK(s.measurement.repetitions == 30);  // a tracked sweep's: docs/regressions.md
  CHECK(s.measurement.min_time_ms == 20.0);
  REQUIRE(s.targets.size() == 1);
  CHECK(s.targets[0].is_any());
}

TEST_CASE("defaults fill every group the sweep leaves out") {
  const auto parse = parse_sweep(minimal_sweep());
  REQUIRE(parse.errors.empty());
  const Sweep& s = *parse.sweep;
  CHECK(s.mlp == lowbit::protocol::MlpWorkload{});
  CHECK(s.quantization == lowbit::protocol::QuantOptions{});
  CHECK(s.pruning_options == lowbit::protocol::PruneOptions{});
  REQUIRE(s.pruning.size() == 1);
  CHECK(s.pruning[0].ratio == 0.0);
  CHECK(s.measurement.batches == std::vector<int>{1, 64});
  CHECK(s.measurement.repetitions == lowbit::protocol::kDefaultRepetitions);
  CHECK_FALSE(s.distillation);
  CHECK_FALSE(s.mixed);
}

TEST_CASE("schema errors carry the JSON pointer and the reason") {
  json doc = minimal_sweep();
  SUBCASE("a bit width outside the enum") {
    doc["axes"]["bits"] = {8, 33};
    CHECK(first_error(doc) == "/axes/bits/1: 33 is not one of [2,3,4,5,6,7,8,32]");
  }
  SUBCASE("an unknown field at the root names the field") {
    doc["colour"] = "blue";
    CHECK(first_error(doc) == "/colour: unknown field \"colour\"");
  }
  SUBCASE("an unknown field inside the workload names the field") {
    doc["workload"]["layer"] = json::array({784, 10});
    CHECK(first_error(doc) == "/workload/layer: unknown field \"layer\"");
  }
  SUBCASE("an unknown training field") {
    doc["workload"]["training"] = {{"epoch", 3}};
    CHECK(first_error(doc) == "/workload/training/epoch: unknown field \"epoch\"");
  }
  SUBCASE("a pruning ratio of 1") {
    doc["axes"]["pruning"] = {0, 1};
    CHECK(first_error(doc).starts_with("/axes/pruning/1: "));
  }
  SUBCASE("an unknown field in a pruning object") {
    doc["axes"]["pruning"] = json::parse(R"([{"method": "magnitude", "ratio": 0.5, "mask": 1}])");
    CHECK(first_error(doc) == "/axes/pruning/0/mask: unknown field \"mask\"");
  }
  SUBCASE("a precision that does not exist") {
    doc["axes"]["precision"] = {"fp32", "fp8"};
    CHECK(first_error(doc).starts_with("/axes/precision/1: \"fp8\" is not one of"));
  }
  SUBCASE("targets that are neither any nor a list") {
    doc["targets"] = "all";
    CHECK(first_error(doc).starts_with("/targets: "));
  }
  SUBCASE("an unknown target field") {
    doc["targets"] = json::parse(R"([{"isa": "avx2", "cores": 1}])");
    CHECK(first_error(doc) == "/targets/0/cores: unknown field \"cores\"");
  }
  SUBCASE("an unknown gemm field") {
    doc["workload"] =
        json::parse(R"({"kind": "gemm", "shapes": [{"m": 1, "k": 2, "n": 3, "z": 4}]})");
    CHECK(first_error(doc) == "/workload/shapes/0/z: unknown field \"z\"");
  }
  SUBCASE("mixed auto without its budget") {
    doc["axes"]["precision"] = {"mixed"};
    doc["axes"]["bits"] = {8};
    doc["mixed"] = {{"policy", "auto"}};
    CHECK(first_error(doc).starts_with("/mixed: "));
  }
}

TEST_CASE("rules the schema cannot say are errors with pointers too") {
  json doc = minimal_sweep();
  SUBCASE("layers that do not fit fashion-mnist") {
    doc["workload"]["layers"] = {100, 10};
    CHECK(first_error(doc).starts_with("/workload/layers: 100-10 has 100 inputs"));
  }
  SUBCASE("precision mixed without the mixed group") {
    doc["axes"]["precision"] = {"fp32", "mixed"};
    CHECK(first_error(doc).starts_with("/axes/precision/1: precision mixed needs"));
  }
  SUBCASE("a mixed policy of the wrong length") {
    doc["axes"]["precision"] = {"mixed"};
    doc["mixed"] = {{"policy", {"int8", "fp32", "fp32"}}};
    CHECK(first_error(doc) == "/mixed/policy: 784-128-10 has 2 weight layers; the policy names 3");
  }
  SUBCASE("an n:m pattern that keeps more than its group") {
    doc["axes"]["pruning"] = json::parse(R"([{"method": "n:m", "nm": "4:2"}])");
    CHECK(first_error(doc).starts_with("/axes/pruning/0/nm: \"4:2\" is not an n:m pattern"));
  }
  SUBCASE("nm on a method that is not n:m") {
    doc["axes"]["pruning"] = json::parse(R"([{"method": "magnitude", "ratio": 0.5, "nm": "2:4"}])");
    CHECK(first_error(doc) == "/axes/pruning/0/nm: only method n:m takes an nm pattern");
  }
  SUBCASE("distillation of a gemm") {
    doc["workload"] = json::parse(R"({"kind": "gemm", "shapes": [{"m": 1, "k": 2, "n": 3}]})");
    doc["distillation"] = {{"teacher", {784, 512, 10}}};
    CHECK(first_error(doc).starts_with("/distillation: "));
  }
  SUBCASE("a teacher with other inputs than the student") {
    doc["distillation"] = {{"teacher", {100, 512, 10}}};
    CHECK(first_error(doc).starts_with("/distillation/teacher: "));
  }
  SUBCASE("more training images than fashion-mnist has") {
    doc["workload"]["training"] = {{"train_images", 60000}, {"validation_images", 5000}};
    CHECK(first_error(doc).starts_with("/workload/training: "));
  }
}

TEST_CASE("pruning points: plain ratios take the sweep's method, objects their own") {
  json doc = minimal_sweep();
  doc["pruning"] = {{"method", "n:m"}, {"nm", "1:4"}};
  doc["axes"]["pruning"] = json::parse(
      R"([0.75, {"method": "structured", "ratio": 0.5}, {"method": "n:m", "nm": "2:4"}])");
  const auto parse = parse_sweep(doc);
  REQUIRE(parse.errors.empty());
  const auto& p = parse.sweep->pruning;
  CHECK(p[0] == lowbit::protocol::PruningPoint{"n:m", 0.75, "1:4"});
  CHECK(p[1] == lowbit::protocol::PruningPoint{"structured", 0.5, ""});
  CHECK(p[2] == lowbit::protocol::PruningPoint{"n:m", 0.5, "2:4"});  // 1 − 2/4 when left out
}

TEST_CASE("target constraints: any, or fields of the fingerprint") {
  json doc = minimal_sweep();
  doc["targets"] = json::parse(R"([{"isa": "avx2", "threads": 1}, {"label": "native-t2"}])");
  const auto parse = parse_sweep(doc);
  REQUIRE(parse.errors.empty());
  const auto& t = parse.sweep->targets;
  REQUIRE(t.size() == 2);
  CHECK(lowbit::protocol::describe(t[0]) == "isa=avx2 threads=1");

  lowbit::protocol::Target avx2;
  avx2.isa_cap = "avx2";
  avx2.threads = 1;
  avx2.label = "avx2-t1";
  CHECK(t[0].satisfied_by(avx2));
  CHECK_FALSE(t[1].satisfied_by(avx2));
  avx2.threads = 2;
  CHECK_FALSE(t[0].satisfied_by(avx2));
  CHECK(lowbit::protocol::TargetConstraint{}.satisfied_by(avx2));
  CHECK(json(lowbit::protocol::TargetConstraint{}) == "any");
  CHECK(json(t[0]).get<lowbit::protocol::TargetConstraint>() == t[0]);
}

}  // namespace

TEST_CASE("a sweep with a branch is tracked: 30 repetitions unless it says otherwise") {
  json doc = minimal_sweep();
  CHECK(parse_sweep(doc).sweep->measurement.repetitions == 10);
  doc["tags"] = {{"branch", "main"}};
  CHECK(parse_sweep(doc).sweep->measurement.repetitions == 30);
  doc["measurement"] = {{"repetitions", 12}};
  CHECK(parse_sweep(doc).sweep->measurement.repetitions == 12);
  doc["measurement"] = {{"min_time_ms", 5}};
  CHECK(parse_sweep(doc).sweep->measurement.repetitions == 30);
}
