// `lowbit eval` as a user runs it: a real process, real data, a temp cache.
// Training is cut to a 2,000-image subset and 2 epochs to keep the test fast;
// the full-size figures come from `lowbit eval` itself, not from tests.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "protocol/json_schema.h"
#include "tests/support/subprocess.h"

using lowbit::testing::run_command;
using lowbit::testing::TempDir;

namespace {

const std::string kLowbit = LOWBIT_BINARY;
const std::string kSmall =
    " --layers 784,32,10 --epochs 2 --train-images 2000 --validation-images 1000 --threads 1"
    " --repetitions 2 --min-time-ms 1 --warmup-ms 0";

std::string eval_command(const TempDir& cache, const std::string& extra) {
  return kLowbit + " eval --json --cache " + cache.path() + kSmall + extra;
}

}  // namespace

TEST_CASE("cli eval: --json prints one schema-valid result; the second run hits the cache") {
  TempDir cache("lowbit-cache");
  const auto schema = lowbit::protocol::JsonSchema::load("result");

  const auto first = run_command(eval_command(cache, ""));
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const nlohmann::json r1 = nlohmann::json::parse(first.out);  // stdout is one document
  for (const auto& e : schema.validate(r1)) FAIL_CHECK(e.to_string());
  CHECK(r1["status"] == "passed");
  CHECK(r1["accuracy"]["top1"].get<double>() > 0.6);
  CHECK(r1["accuracy"]["baseline_top1"] == r1["accuracy"]["top1"]);
  CHECK(r1["accuracy"]["delta"].get<double>() == 0.0);
  CHECK(r1["accuracy"]["agreement"].get<double>() == 1.0);
  CHECK(r1["accuracy"]["images"] == 10000);
  CHECK(r1["base_model"]["cache_hit"] == false);
  CHECK(r1["train_seconds"].get<double>() > 0.0);
  CHECK(r1["kernel"].get<std::string>().rfind("openblas/", 0) == 0);
  CHECK(r1["target"]["threads"] == 1);
  CHECK(r1["model_bytes"] == (784 * 32 + 32 + 32 * 10 + 10) * 4);
  CHECK(r1["repro"].get<std::string>().find("--layers 784,32,10") != std::string::npos);

  const auto second = run_command(eval_command(cache, ""));
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  const nlohmann::json r2 = nlohmann::json::parse(second.out);
  CHECK(r2["base_model"]["cache_hit"] == true);
  CHECK(r2["train_seconds"].get<double>() == 0.0);
  CHECK(r2["base_model"]["hash"] == r1["base_model"]["hash"]);
  CHECK(r2["accuracy"]["top1"] == r1["accuracy"]["top1"]);
  CHECK(r2["config_hash"] == r1["config_hash"]);

  // A different spec misses the cache; so does a different seed.
  const auto other = run_command(eval_command(cache, " --seed 2"));
  REQUIRE(other.exit_code == 0);
  const nlohmann::json r3 = nlohmann::json::parse(other.out);
  CHECK(r3["base_model"]["cache_hit"] == false);
  CHECK(r3["config_hash"] != r1["config_hash"]);
  CHECK(r3["base_model"]["cache_key"] != r1["base_model"]["cache_key"]);
}

TEST_CASE("cli eval: the repro line reproduces the result") {
  TempDir cache("lowbit-cache");
  const auto first = run_command(eval_command(cache, " --kernel ref"));
  REQUIRE(first.exit_code == 0);
  const nlohmann::json r1 = nlohmann::json::parse(first.out);
  CHECK(r1["kernel"] == "ref/sgemm");
  std::string repro = r1["repro"].get<std::string>();
  REQUIRE(repro.rfind("lowbit ", 0) == 0);
  repro.replace(0, 6, kLowbit);
  const auto again = run_command(repro + " --json --cache " + cache.path());
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  const nlohmann::json r2 = nlohmann::json::parse(again.out);
  CHECK(r2["config"] == r1["config"]);
  CHECK(r2["accuracy"]["correct"] == r1["accuracy"]["correct"]);
}

TEST_CASE("cli eval: a missing or corrupt data file is exit 2 naming the file") {
  TempDir cache("lowbit-cache");
  TempDir data("lowbit-data");
  const auto missing = run_command(eval_command(cache, " --data " + data.path()));
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("train-images-idx3-ubyte.gz") != std::string::npos);
  CHECK(missing.err.find("no such file") != std::string::npos);
  CHECK(missing.out.empty());

  // Real files, with the training images cut short.
  const std::filesystem::path src = "/usr/share/datasets/fashion-mnist";
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    std::filesystem::copy_file(src / name, std::filesystem::path(data.path()) / name);
  }
  const auto truncated_file = std::filesystem::path(data.path()) / "t10k-labels-idx1-ubyte.gz";
  std::filesystem::resize_file(truncated_file, std::filesystem::file_size(truncated_file) / 2);
  const auto corrupt = run_command(eval_command(cache, " --data " + data.path()));
  CHECK(corrupt.exit_code == 2);
  CHECK(corrupt.err.find("t10k-labels-idx1-ubyte.gz") != std::string::npos);
  CHECK(corrupt.out.empty());
}

TEST_CASE("cli eval: bad flags are exit 2 with the field named") {
  TempDir cache("lowbit-cache");
  const auto layers = run_command(kLowbit + " eval --layers 784,x,10 --cache " + cache.path());
  CHECK(layers.exit_code == 2);
  CHECK(layers.err.find("--layers") != std::string::npos);
  const auto first_layer =
      run_command(kLowbit + " eval --layers 100,10 --epochs 1 --cache " + cache.path());
  CHECK(first_layer.exit_code == 2);
  CHECK(first_layer.err.find("784") != std::string::npos);
  const auto precision = run_command(kLowbit + " eval --precision fp64");
  CHECK(precision.exit_code == 2);
  CHECK(precision.err.find("--precision") != std::string::npos);
  const auto bits = run_command(kLowbit + " eval --bits 33");
  CHECK(bits.exit_code == 2);
  CHECK(bits.err.find("--bits") != std::string::npos);
  const auto unknown = run_command(kLowbit + " eval --frobnicate");
  CHECK(unknown.exit_code == 2);
}

TEST_CASE("cli eval: a combination the path cannot run is skipped with its reason, exit 0") {
  TempDir cache("lowbit-cache");
  const auto skipped = run_command(eval_command(cache, " --precision int8 --bits 32"));
  INFO(skipped.err);
  REQUIRE(skipped.exit_code == 0);
  const nlohmann::json r = nlohmann::json::parse(skipped.out);
  CHECK(r["status"] == "skipped");
  CHECK(r["reason"] == "int8 needs bits ≤ 8 (32 means no integer quantization)");
  CHECK_FALSE(r.contains("accuracy"));
  const auto schema = lowbit::protocol::JsonSchema::load("result");
  for (const auto& e : schema.validate(r)) FAIL_CHECK(e.to_string());
}
