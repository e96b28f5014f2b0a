// Prepare and variant jobs as two workers run them: one trains and uploads, the other (an empty
// cache) fetches the artifacts and measures the same weights; corrupt or missing artifacts and a
// cache miss on the variant side are errors, never a silent retrain.
#include <doctest/doctest.h>

#include <map>

#include "kernels/model/dataset.h"
#include "tests/support/subprocess.h"
#include "worker/job_runner.h"

using namespace lowbit;

namespace {

class MapArtifacts : public worker::ArtifactStore {
 public:
  void put(const std::string& hash, std::span<const std::uint8_t> bytes) override {
    files[hash].assign(bytes.begin(), bytes.end());
  }
  std::optional<std::vector<std::uint8_t>> get(const std::string& hash) override {
    ++gets;
    const auto it = files.find(hash);
    if (it == files.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, std::vector<std::uint8_t>> files;
  int gets = 0;
};

protocol::MlpWorkload tiny_workload() {
  protocol::MlpWorkload w;
  w.layers = {784, 16, 10};
  w.training.epochs = 1;
  w.training.train_images = 1000;
  w.training.validation_images = 500;
  return w;
}

worker::WorkerSettings settings_in(const testing::TempDir& cache) {
  worker::WorkerSettings s;
  s.data_dir = kernels::default_fashion_mnist_dir();
  s.cache_dir = cache.path();
  return s;
}

const nlohmann::json kMeasurement = {
    {"batches", {1}}, {"repetitions", 2}, {"min_time_ms", 1}, {"warmup_ms", 0}};

nlohmann::json variant(const std::string& precision, int bits) {
  protocol::EvalConfig c;
  c.mlp = tiny_workload();
  c.precision = precision;
  c.bits = bits;
  return c;
}

}  // namespace

TEST_CASE(
    "job runner: a prepare job uploads its model; another worker measures exactly those weights") {
  testing::TempDir cache_a("lowbit-cache-a"), cache_b("lowbit-cache-b");
  MapArtifacts artifacts;
  const protocol::PrepareResult prepared =
      worker::run_prepare_job({{"workload", tiny_workload()}}, settings_in(cache_a), artifacts);
  REQUIRE(prepared.models.size() == 1);
  CHECK(prepared.models[0].role == "base");
  CHECK(artifacts.files.count(prepared.models[0].hash) == 1);
  CHECK(prepared.train_seconds > 0.0);
  CHECK(nlohmann::json(prepared).get<protocol::PrepareResult>().models == prepared.models);

  const protocol::Result r = worker::run_variant_job(variant("int8", 8), kMeasurement, &prepared,
                                                     settings_in(cache_b), artifacts);
  CHECK(r.status == "passed");
  CHECK(r.base_model->hash == prepared.models[0].hash);
  CHECK(r.accuracy->baseline_top1 == prepared.models[0].test_top1);
  CHECK(r.train_seconds == 0.0);
  CHECK(artifacts.gets == 1);
  // Installed once: the next variant on that worker fetches nothing.
  worker::run_variant_job(variant("fp32", 32), kMeasurement, &prepared, settings_in(cache_b),
                          artifacts);
  CHECK(artifacts.gets == 1);
}

TEST_CASE(
    "job runner: a missing or corrupt artifact, or other data, fails the variant without "
    "training") {
  testing::TempDir cache_a("lowbit-cache-a"), cache_b("lowbit-cache-b");
  MapArtifacts artifacts;
  protocol::PrepareResult prepared =
      worker::run_prepare_job({{"workload", tiny_workload()}}, settings_in(cache_a), artifacts);
  const std::string hash = prepared.models[0].hash;

  SUBCASE("missing") {
    artifacts.files.clear();
    CHECK_THROWS_WITH_AS(worker::run_variant_job(variant("fp32", 32), kMeasurement, &prepared,
                                                 settings_in(cache_b), artifacts),
                         doctest::Contains("has no base model"), std::runtime_error);
  }
  SUBCASE("corrupt") {
    artifacts.files[hash][100] ^= 0xFF;
    CHECK_THROWS_WITH_AS(worker::run_variant_job(variant("fp32", 32), kMeasurement, &prepared,
                                                 settings_in(cache_b), artifacts),
                         doctest::Contains("hash to"), std::runtime_error);
  }
  SUBCASE("trained on other data: the cache key differs, and the variant refuses to retrain") {
    prepared.models[0].cache_key = "0123456789abcdef";
    CHECK_THROWS_WITH_AS(worker::run_variant_job(variant("fp32", 32), kMeasurement, &prepared,
                                                 settings_in(cache_b), artifacts),
                         doctest::Contains("not in the model cache"), std::runtime_error);
  }
}

TEST_CASE("job runner: a distilled sweep prepares three models; the variant reports all three") {
  testing::TempDir cache_a("lowbit-cache-a"), cache_b("lowbit-cache-b");
  MapArtifacts artifacts;
  const protocol::DistillOptions distill{{784, 32, 10}, 1.0, 0.5};
  const protocol::PrepareResult prepared = worker::run_prepare_job(
      {{"workload", tiny_workload()}, {"distillation", distill}}, settings_in(cache_a), artifacts);
  REQUIRE(prepared.models.size() == 3);
  CHECK(artifacts.files.size() == 3);
  nlohmann::json config = variant("fp32", 32);
  config["distillation"] = distill;
  const protocol::Result r =
      worker::run_variant_job(config, kMeasurement, &prepared, settings_in(cache_b), artifacts);
  CHECK(r.status == "passed");
  CHECK(r.base_model->hash == prepared.models[0].hash);
  CHECK(r.distillation->teacher_hash == prepared.models[1].hash);
  CHECK(r.distillation->scratch_hash == prepared.models[2].hash);
}

TEST_CASE("job runner: bad job configs are input errors") {
  testing::TempDir cache("lowbit-cache");
  MapArtifacts artifacts;
  CHECK_THROWS_AS(worker::run_prepare_job({{"nope", 1}}, settings_in(cache), artifacts),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      worker::run_variant_job({{"nope", 1}}, kMeasurement, nullptr, settings_in(cache), artifacts),
      std::invalid_argument);
  CHECK_THROWS_AS(worker::run_variant_job(variant("fp32", 32), kMeasurement, nullptr,
                                          settings_in(cache), artifacts),
                  std::invalid_argument);
}
