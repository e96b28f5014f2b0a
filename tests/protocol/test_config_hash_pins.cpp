// Hash stability: a series is keyed by config_hash, so the hashes of a tracked sweep must not
// move when the code changes. These pins are the hashes of examples/seed-sweep.json's variants;
// a change that moves one has changed what every stored history of that sweep is called. If the
// change is deliberate (the configuration really means something else now), update the pins
// and say so in the commit; if it only added an option, give the option a default that keeps
// it out of the canonical config instead.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/eval_config.h"
#include "protocol/sweep.h"
#include "protocol/sweep_expand.h"
#include "tests/protocol/sweep_fixtures.h"

namespace {

using lowbit::protocol::EvalConfig;
using lowbit::protocol::hash_config_text;
using nlohmann::json;

std::vector<lowbit::protocol::PlannedJob> seed_variants() {
  auto parse = lowbit::protocol::parse_sweep(lowbit::testing::seed_sweep());
  REQUIRE(parse.sweep);
  auto outcome = lowbit::protocol::expand_sweep(*parse.sweep);
  REQUIRE(outcome.expansion);
  return outcome.expansion->variants;
}

const lowbit::protocol::PlannedJob* find_variant(
    const std::vector<lowbit::protocol::PlannedJob>& variants, const std::string& precision,
    int bits, double ratio) {
  for (const auto& v : variants) {
    const double r = v.config.contains("pruning") ? v.config["pruning"]["ratio"].get<double>() : 0;
    if (v.config["precision"] == precision && v.config["bits"] == bits && r == ratio) return &v;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the seed sweep's config hashes are pinned") {
  const auto variants = seed_variants();
  REQUIRE(variants.size() == 45);
  struct Pin {
    const char* precision;
    int bits;
    double ratio;
    const char* text;
    const char* hash;
  };
  const Pin pins[] = {
      {"fp32", 32, 0.0,
       R"({"bits":32,"precision":"fp32","workload":{"dataset":"fashion-mnist","kind":"mlp",)"
       R"("layers":[784,128,10]}})",
       "95e34cd290ed8a6f"},
      {"int8", 8, 0.5,
       R"({"bits":8,"precision":"int8","pruning":{"method":"magnitude","ratio":0.5},)"
       R"("workload":{"dataset":"fashion-mnist","kind":"mlp","layers":[784,128,10]}})",
       "afa542ec6d7130ca"},
      {"int4", 4, 0.9,
       R"({"bits":4,"precision":"int4","pruning":{"method":"magnitude","ratio":0.9},)"
       R"("workload":{"dataset":"fashion-mnist","kind":"mlp","layers":[784,128,10]}})",
       "f70e15ba1046be26"},
      {"mixed", 4, 0.0,
       R"({"bits":4,"mixed":{"policy":["int4","int8"]},"precision":"mixed",)"
       R"("workload":{"dataset":"fashion-mnist","kind":"mlp","layers":[784,128,10]}})",
       "4a172cc340d6b77c"},
  };
  for (const Pin& pin : pins) {
    CAPTURE(pin.precision);
    CAPTURE(pin.bits);
    CAPTURE(pin.ratio);
    const auto* v = find_variant(variants, pin.precision, pin.bits, pin.ratio);
    REQUIRE(v != nullptr);
    CHECK(v->config_text == pin.text);
    CHECK(v->config_hash == pin.hash);
  }
  // Every variant: the sorted hashes, hashed once more, so any moved hash fails here.
  std::vector<std::string> hashes;
  for (const auto& v : variants) hashes.push_back(v.config_hash);
  std::sort(hashes.begin(), hashes.end());
  std::string all;
  for (const auto& h : hashes) all += h;
  CHECK(hash_config_text(all) == "ac79d552c020876d");
}

TEST_CASE("a canonical config leaves out what is at its default, and reads back the same") {
  EvalConfig config;
  config.precision = "int8";
  config.bits = 8;
  const json canonical = config;
  CHECK(canonical == json::parse(R"({"workload": {"kind": "mlp", "dataset": "fashion-mnist",
      "layers": [784, 128, 10]}, "precision": "int8", "bits": 8})"));
  CHECK(canonical.get<EvalConfig>() == config);

  config.mlp.training.epochs = 3;
  config.quant.calibration = "minmax";
  config.kernel = "onednn";
  config.prune.ratio = 0.5;
  const json changed = config;
  CHECK(changed.at("workload").at("training") == json{{"epochs", 3}});
  CHECK(changed.at("quantization") == json{{"calibration", "minmax"}});
  CHECK(changed.at("kernel") == "onednn");
  CHECK(changed.at("pruning") == json{{"method", "magnitude"}, {"ratio", 0.5}});
  CHECK(changed.get<EvalConfig>() == config);
}

TEST_CASE("a new option at its default moves no hash: the canonical JSON of a default is absent") {
  // The mlp's training defaults, the kernel's "auto" and a default quantization are all absent, so
  // a config written by hand with only the axes hashes as the expanded one does.
  EvalConfig config;
  config.precision = "fp16";
  CHECK(lowbit::protocol::config_hash(config) ==
        hash_config_text(R"({"bits":32,"precision":"fp16","workload":{"dataset":"fashion-mnist",)"
                         R"("kind":"mlp","layers":[784,128,10]}})"));
}
