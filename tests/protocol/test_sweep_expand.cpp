// Sweep expansion: how many jobs a grid makes, which points it skips and why, and the canonical
// configs (and hashes) the jobs carry.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "protocol/eval_config.h"
#include "protocol/json_schema.h"
#include "protocol/sweep.h"
#include "protocol/sweep_expand.h"
#include "tests/protocol/sweep_fixtures.h"

namespace {

using lowbit::protocol::expand_sweep;
using lowbit::protocol::Expansion;
using lowbit::protocol::JobKind;
using lowbit::protocol::parse_sweep;
using lowbit::protocol::Sweep;
using lowbit::testing::minimal_sweep;
using nlohmann::json;

Sweep parsed(const json& document) {
  auto parse = parse_sweep(document);
  REQUIRE_MESSAGE(parse.errors.empty(), parse.errors.front().to_string());
  return *parse.sweep;
}

Expansion expanded(const json& document) {
  auto outcome = expand_sweep(parsed(document));
  REQUIRE(outcome.expansion);
  return *outcome.expansion;
}

std::size_t count_reason(const Expansion& e, const std::string& prefix) {
  return static_cast<std::size_t>(
      std::count_if(e.skipped.begin(), e.skipped.end(),
                    [&](const auto& s) { return s.reason.starts_with(prefix); }));
}

// The job document a worker would get, to check configs against schemas/job.schema.json.
json job_document(const lowbit::protocol::PlannedJob& job, const Sweep& sweep) {
  json doc = {{"id", 1},
              {"sweep_id", 1},
              {"kind", lowbit::protocol::to_string(job.kind)},
              {"attempt", 1},
              {"config", job.config},
              {"config_hash", job.config_hash},
              {"target", job.target},
              {"measurement", sweep.measurement},
              {"lease", {{"id", 1}, {"ttl_s", 30}, {"timeout_s", 3600}}}};
  if (job.kind == JobKind::kVariant && sweep.workload == "mlp") doc["prepare_job_id"] = 1;
  return doc;
}

TEST_CASE("the seed sweep: 63 grid points, 45 jobs, what the bits table excludes skipped") {
  const Expansion e = expanded(lowbit::testing::seed_sweep());
  REQUIRE(e.prepare);
  CHECK(e.prepare->kind == JobKind::kPrepare);
  CHECK(e.variants.size() + e.skipped.size() == 3 * 3 * 7);
  CHECK(e.variants.size() == 45);
  // For each of 3 pruning ratios: int8, fixed, int4 and mixed at 32 bits; int4 at 8 bits, and
  // mixed at 8 bits (its policy has an int4 layer).
  REQUIRE(e.skipped.size() == 18);
  CHECK(count_reason(e, "int8 needs bits ≤ 8") == 3);
  CHECK(count_reason(e, "fixed needs bits ≤ 8") == 3);
  CHECK(count_reason(e, "int4 needs bits ≤ 4") == 6);
  CHECK(count_reason(e, "mixed needs bits ≤ 8") == 3);
  CHECK(count_reason(e, "the mixed policy runs int4 layers") == 3);
  for (const auto& v : e.variants) {
    if (v.config.at("precision") == "int4") {
      CHECK(v.config.at("bits") == 4);
      CHECK(v.config.get<lowbit::protocol::EvalConfig>().quant.group_size == 32);
    }
    if (v.config.at("precision") == "mixed")
      CHECK(v.config.at("mixed").at("policy") == json({"int4", "int8"}));
  }
}

TEST_CASE("grid order is target, pruning, bits, precision, and every config is canonical") {
  json doc = minimal_sweep();
  doc["axes"] = {{"pruning", {0, 0.5}}, {"bits", {32, 8}}, {"precision", {"fp32", "fp16"}}};
  doc["targets"] = json::parse(R"([{"isa": "avx2"}, {"isa": "native"}])");
  const Expansion e = expanded(doc);
  REQUIRE(e.variants.size() == 16);
  CHECK(e.skipped.empty());
  CHECK(e.variants[0].target.isa == "avx2");
  CHECK(e.variants[8].target.isa == "native");
  CHECK_FALSE(e.variants[0].config.contains("pruning"));  // unpruned: no pruning group
  CHECK(e.variants[4].config.at("pruning").at("ratio") == 0.5);
  CHECK(e.variants[2].config.at("bits") == 8);
  CHECK(e.variants[1].config.at("precision") == "fp16");
  // The same configuration on two targets is one series: same hash.
  CHECK(e.variants[0].config_hash == e.variants[8].config_hash);
  CHECK(e.variants[0].config_hash != e.variants[1].config_hash);
}

TEST_CASE("an unpruned fp32 variant hashes exactly as lowbit eval hashes its config") {
  const Expansion e = expanded(minimal_sweep());
  REQUIRE(e.variants.size() == 1);
  lowbit::protocol::EvalConfig eval;
  CHECK(e.variants[0].config == json(eval));
  CHECK(e.variants[0].config_hash == lowbit::protocol::config_hash(eval));
}

TEST_CASE("a pruned, quantized variant is the EvalConfig lowbit eval would build") {
  json doc = minimal_sweep();
  doc["axes"] = json::parse(
      R"({"pruning": [{"method": "n:m", "nm": "2:4"}], "bits": [4], "precision": ["int8"]})");
  doc["pruning"] = {{"finetune_epochs", 1}, {"schedule", "gradual"}};
  doc["quantization"] = {{"scheme", "asym"}};
  const Expansion e = expanded(doc);
  REQUIRE(e.variants.size() == 1);
  lowbit::protocol::EvalConfig eval;
  eval.precision = "int8";
  eval.bits = 4;
  eval.quant.scheme = "asym";
  eval.prune.method = "n:m";
  eval.prune.nm = "2:4";
  eval.prune.ratio = 0.5;
  eval.prune.finetune_epochs = 1;
  eval.prune.schedule = "gradual";
  CHECK(e.variants[0].config == json(eval));
  CHECK(e.variants[0].config_hash == lowbit::protocol::config_hash(eval));
}

TEST_CASE("skip reasons beyond the bits × precision table") {
  json doc = minimal_sweep();
  SUBCASE("an n:m ratio other than 1 − n/m") {
    doc["pruning"] = {{"method", "n:m"}};
    doc["axes"]["pruning"] = {0.5, 0.9};
    const Expansion e = expanded(doc);
    CHECK(e.variants.size() == 1);
    REQUIRE(e.skipped.size() == 1);
    CHECK(e.skipped[0].reason == "n:m 2:4 removes 0.5 of the weights, not 0.9");
  }
  SUBCASE("int4 above 4 bits") {
    doc["axes"] = {{"bits", {4, 8}}, {"precision", {"int4"}}};
    const Expansion e = expanded(doc);
    CHECK(e.variants.size() == 1);
    REQUIRE(e.skipped.size() == 1);
    CHECK(e.skipped[0].reason.starts_with("int4 needs bits ≤ 4"));
  }
  SUBCASE("fixed with dynamic activations") {
    doc["axes"] = {{"bits", {8}}, {"precision", {"fixed", "int8"}}};
    doc["quantization"] = {{"activations", "dynamic"}};
    const Expansion e = expanded(doc);
    CHECK(e.variants.size() == 1);
    REQUIRE(e.skipped.size() == 1);
    CHECK(e.skipped[0].reason.starts_with("fixed runs static activations only"));
  }
  SUBCASE("pruning and mixed precision of a gemm") {
    doc["workload"] = json::parse(R"({"kind": "gemm", "shapes": [{"m": 1, "k": 64, "n": 64}]})");
    doc["axes"] = json::parse(
        R"({"pruning": [{"method": "structured", "ratio": 0.5}], "bits": [8], "precision": ["mixed", "int8"]})");
    doc["mixed"] = {{"policy", "auto"}, {"budget", 0.01}};
    const Expansion e = expanded(doc);
    CHECK_FALSE(e.prepare);  // nothing to train
    CHECK(e.variants.empty());
    REQUIRE(e.skipped.size() == 2);
    CHECK(e.skipped[0].reason.starts_with("mixed needs an mlp workload"));
    CHECK(e.skipped[1].reason.starts_with("pruning applies to an mlp's weight layers"));
  }
  SUBCASE("a mixed policy with int4 layers above 4 bits") {
    doc["axes"] = {{"bits", {4, 8}}, {"precision", {"mixed"}}};
    doc["mixed"] = {{"policy", {"int4", "fp32"}}};
    const Expansion e = expanded(doc);
    CHECK(e.variants.size() == 1);
    REQUIRE(e.skipped.size() == 1);
    CHECK(e.skipped[0].reason.starts_with("the mixed policy runs int4 layers"));
  }
  SUBCASE("the same configuration twice") {
    doc["axes"]["pruning"] = json::parse(R"([0, {"method": "structured", "ratio": 0}])");
    const Expansion e = expanded(doc);
    CHECK(e.variants.size() == 1);
    REQUIRE(e.skipped.size() == 1);
    CHECK(e.skipped[0].reason == "the same configuration as an earlier grid point");
  }
}

TEST_CASE("a grid over the maximum is an error naming its factors, and nothing is built") {
  json doc = minimal_sweep();
  doc["axes"] = {{"pruning", {0, 0.25, 0.5, 0.75}},
                 {"bits", {2, 3, 4, 5, 6, 7, 8, 32}},
                 {"precision", {"fp32", "bf16", "fp16"}}};
  const Sweep sweep = parsed(doc);
  CHECK(lowbit::protocol::count_grid_points(sweep) == 96);
  const auto outcome = expand_sweep(sweep, {.max_grid_points = 95});
  CHECK_FALSE(outcome.expansion);
  REQUIRE(outcome.error);
  CHECK(outcome.error->to_string() ==
        "/axes: the grid has 96 points (pruning 4 × bits 8 × precision 3 × shapes 1 × targets 1); "
        "the maximum is 95");
  CHECK(expand_sweep(sweep, {.max_grid_points = 96}).expansion);
}

TEST_CASE("the prepare job is keyed by the training spec alone") {
  json a = minimal_sweep();
  json b = minimal_sweep();
  b["axes"]["bits"] = {8};
  b["axes"]["precision"] = {"int8"};
  const Expansion ea = expanded(a);
  const Expansion eb = expanded(b);
  CHECK(ea.prepare->config_hash == eb.prepare->config_hash);
  b["workload"]["training"] = {{"epochs", 3}};
  CHECK(expanded(b).prepare->config_hash != ea.prepare->config_hash);
  b["distillation"] = {{"teacher", {784, 512, 10}}};
  const Expansion distilled = expanded(b);
  CHECK(distilled.prepare->config.at("distillation").at("temperature") == 1.0);
  CHECK(distilled.variants[0].config.contains("distillation"));
}

TEST_CASE("every job of a rich sweep matches schemas/job.schema.json") {
  const auto schema = lowbit::protocol::JsonSchema::load("job");
  json doc = minimal_sweep();
  doc["axes"] = json::parse(R"({
    "pruning": [0, 0.5, {"method": "n:m", "nm": "2:4"}, {"method": "structured", "ratio": 0.25}],
    "bits": [32, 8, 4],
    "precision": ["fp32", "bf16", "fp16", "int8", "int4", "fixed", "mixed"]})");
  doc["mixed"] = {{"policy", {"int8", "fp32"}}};
  doc["distillation"] = {{"teacher", {784, 256, 10}}, {"alpha", 0.7}};
  doc["targets"] = json::parse(R"([{"isa": "avx2", "threads": 1}, {"label": "native-t2"}])");
  const Sweep sweep = parsed(doc);
  const Expansion e = *expand_sweep(sweep).expansion;
  CHECK(e.variants.size() > 50);
  for (const auto& job : e.variants) {
    const auto errors = schema.validate(job_document(job, sweep));
    REQUIRE_MESSAGE(errors.empty(), errors.front().to_string(), " in ", job.config.dump());
  }
  const auto errors = schema.validate(job_document(*e.prepare, sweep));
  CHECK_MESSAGE(errors.empty(), errors.front().to_string());
}

}  // namespace

TEST_CASE(
    "every file in examples/ validates and expands to jobs, the variants' configs as eval reads "
    "them") {
  const std::map<std::string, std::size_t> expected_jobs{
      // 3 pruning × (fp32 32, fp16 32, bf16 32, fp32/fp16/bf16 8 and 4 simulated, int8 and fixed 8
      // and 4, int4 4, mixed 8 and 4): 3 × (3 + 6 + 4 + 1 + 1)
      {"seed-sweep.json", 3 * 15},
      // 3 shapes × (5 precisions at 8 bits + 3 float precisions at 32)
      {"gemm-sweep.json", 3 * 8},
      // 2 targets × 2 pruning × (fp32 32, fp32 8, int8 8, fixed 8)
      {"targets-sweep.json", 2 * 2 * 4},
  };
  std::size_t files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(LOWBIT_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const std::string name = entry.path().filename().string();
    CAPTURE(name);
    const auto parse = parse_sweep(lowbit::testing::read_json_file(entry.path().string()));
    REQUIRE_MESSAGE(parse.errors.empty(), parse.errors.front().to_string());
    const auto outcome = expand_sweep(*parse.sweep);
    REQUIRE(outcome.expansion);
    REQUIRE(expected_jobs.count(name) == 1);
    CHECK(outcome.expansion->variants.size() == expected_jobs.at(name));
    for (const auto& job : outcome.expansion->variants) {
      const lowbit::protocol::EvalConfig config = job.config.get<lowbit::protocol::EvalConfig>();
      CHECK(nlohmann::json(config) ==
            job.config);  // the worker reads back exactly what was planned
    }
  }
  CHECK(files == expected_jobs.size());
}
