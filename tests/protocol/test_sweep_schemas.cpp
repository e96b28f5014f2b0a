// The sweep, job and worker schemas agree with each other, with the result schema, and with the
// C++ defaults: a default written in a schema's "default" annotation is the one the code uses.

#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "protocol/eval_config.h"
#include "protocol/json_schema.h"
#include "protocol/sweep.h"
#include "tests/protocol/sweep_fixtures.h"

namespace {

using nlohmann::json;

json schema_document(const std::string& name) {
  return lowbit::testing::read_json_file(std::string(LOWBIT_SCHEMA_DIR) + "/" + name +
                                         ".schema.json");
}

// A schema without its "description" annotations, to compare what it constrains.
json without_descriptions(json schema) {
  if (schema.is_object()) {
    schema.erase("description");
    for (auto& [key, value] : schema.items()) value = without_descriptions(value);
  } else if (schema.is_array()) {
    for (auto& value : schema) value = without_descriptions(value);
  }
  return schema;
}

// Calls `visit(pointer, node)` for every schema of an object with declared fields below
// `node`. Conditions ("if") and overlays without a type (a "then" that only narrows one field)
// describe no document of their own and are left out.
void for_each_object_schema(const json& node, const std::string& pointer,
                            const std::function<void(const std::string&, const json&)>& visit) {
  if (node.is_object()) {
    if (node.contains("properties") && node.value("type", json()) == "object") visit(pointer, node);
    for (const auto& [key, value] : node.items()) {
      if (key == "if") continue;
      for_each_object_schema(value, pointer + "/" + key, visit);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      for_each_object_schema(node[i], pointer + "/" + std::to_string(i), visit);
    }
  }
}

TEST_CASE("the three new schemas load, and reject unknown fields everywhere") {
  for (const std::string name : {"sweep", "job", "worker"}) {
    CAPTURE(name);
    CHECK_NOTHROW(lowbit::protocol::JsonSchema::load(name));
    for_each_object_schema(schema_document(name), "#",
                           [&](const std::string& at, const json& node) {
                             CAPTURE(at);
                             // A node that only dispatches on "kind" (if/then/else) leaves the
                             // check to its branches.
                             if (node.contains("if")) return;
                             CHECK(node.value("additionalProperties", json(true)) == false);
                           });
  }
}

TEST_CASE("every field of the sweep schema says what it is") {
  for_each_object_schema(schema_document("sweep"), "#",
                         [](const std::string& at, const json& node) {
                           for (const auto& [field, schema] : node.at("properties").items()) {
                             CAPTURE(at + "/properties/" + field);
                             CHECK(schema.contains("description"));
                           }
                         });
}

TEST_CASE("the sweep schema's defaults are the C++ defaults") {
  const json defs = schema_document("sweep").at("definitions");
  const json training = defs.at("training").at("properties");
  const json code_training = lowbit::protocol::MlpTraining{};
  for (const auto& [field, schema] : training.items()) {
    CAPTURE(field);
    CHECK(schema.at("default") == code_training.at(field));
  }
  const json props = schema_document("sweep").at("properties");
  const json quantization = props.at("quantization").at("properties");
  const json code_quant = lowbit::protocol::QuantOptions{};
  for (const auto& [field, schema] : quantization.items()) {
    CAPTURE(field);
    CHECK(schema.at("default") == code_quant.at(field));
  }
  const lowbit::protocol::PruneOptions pruning;
  const json pruning_props = props.at("pruning").at("properties");
  CHECK(pruning_props.at("method").at("$ref") == "#/definitions/pruning_method");
  CHECK(defs.at("pruning_method").at("default") == pruning.method);
  CHECK(pruning_props.at("nm").at("default") == pruning.nm);
  CHECK(pruning_props.at("schedule").at("default") == pruning.schedule);
  CHECK(pruning_props.at("finetune_epochs").at("default") == pruning.finetune_epochs);
  const lowbit::protocol::Sweep sweep;
  const json measurement = props.at("measurement").at("properties");
  CHECK(measurement.at("repetitions").at("default") == sweep.measurement.repetitions);
  CHECK(measurement.at("min_time_ms").at("default") == sweep.measurement.min_time_ms);
  CHECK(measurement.at("warmup_ms").at("default") == sweep.measurement.warmup_ms);
  CHECK(props.at("batches").at("default") == json(sweep.measurement.batches));
  const lowbit::protocol::DistillationOptions distillation;
  const json distill = props.at("distillation").at("properties");
  CHECK(distill.at("temperature").at("default") == distillation.temperature);
  CHECK(distill.at("alpha").at("default") == distillation.alpha);
  const lowbit::protocol::MlpWorkload mlp;
  CHECK(defs.at("mlp_workload").at("properties").at("layers").at("default") == json(mlp.layers));
}

TEST_CASE("worker and job schemas repeat the result schema's groups exactly") {
  const json result = schema_document("result");
  const json worker = schema_document("worker");
  CHECK(without_descriptions(worker.at("definitions").at("target")) ==
        without_descriptions(result.at("definitions").at("target")));
  CHECK(without_descriptions(worker.at("definitions").at("version")) ==
        without_descriptions(result.at("properties").at("version")));

  // The job's variant config is the result's config plus the sweep's groups: every field the
  // result config has, the job config has with the same constraints.
  const json job_config = schema_document("job").at("definitions").at("variant_config");
  const json result_config = result.at("definitions").at("config");
  for (const auto& [field, schema] : result_config.at("properties").items()) {
    CAPTURE(field);
    REQUIRE(job_config.at("properties").contains(field));
    CHECK(without_descriptions(job_config.at("properties").at(field)) ==
          without_descriptions(schema));
  }
  CHECK(job_config.at("required") == result_config.at("required"));
  CHECK(without_descriptions(schema_document("job").at("properties").at("measurement")) ==
        without_descriptions(result.at("properties").at("measurement")));
}

}  // namespace
