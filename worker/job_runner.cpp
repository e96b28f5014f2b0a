#include "worker/job_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "kernels/model/dataset.h"
#include "kernels/model/model_file.h"
#include "kernels/train/distill.h"
#include "kernels/train/model_cache.h"
#include "protocol/sweep_expand.h"
#include "worker/base_model.h"
#include "worker/eval_job.h"
#include "worker/target_detect.h"

namespace lowbit::worker {
namespace {

protocol::PreparedModel prepared(const char* role, const BaseModel& model) {
  return {role, model.cache_key, model.hash, model.artifact.test_top1,
          model.artifact.validation_top1};
}

void upload(const kernels::ModelCache& cache, const protocol::PreparedModel& model,
            ArtifactStore& artifacts) {
  const auto bytes = cache.bytes(model.cache_key);
  if (!bytes)
    throw std::runtime_error(
        fmt::format("{} model {} vanished from the cache", model.role, model.hash));
  artifacts.put(model.hash, *bytes);
}

// Puts every prepared model in the local cache under its key, fetching those it lacks (or holds
// under another hash: an older file under the same key is replaced by the sweep's).
void install(const protocol::PrepareResult& prepared, const kernels::ModelCache& cache,
             ArtifactStore& artifacts) {
  for (const protocol::PreparedModel& m : prepared.models) {
    const auto cached = cache.load(m.cache_key);
    if (cached && cached->hash == m.hash) continue;
    const auto bytes = artifacts.get(m.hash);
    if (!bytes)
      throw std::runtime_error(fmt::format("the coordinator has no {} model {}", m.role, m.hash));
    try {
      cache.install(m.cache_key, m.hash, *bytes);
    } catch (const kernels::FileError& e) {  // not a model (ModelFileError), or unwritable
      throw std::runtime_error(fmt::format("{} model {}: {}", m.role, m.hash, e.what()));
    }
    spdlog::info("{} model {} fetched ({} bytes)", m.role, m.hash, bytes->size());
  }
}

}  // namespace

InjectedSlowdown parse_injected_slowdown(const std::string& text) {
  InjectedSlowdown inject;
  const std::size_t colon = text.find(':');
  const std::string factor = text.substr(0, colon);
  std::size_t used = 0;
  try {
    inject.factor = std::stod(factor, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != factor.size() || !(inject.factor > 0) || inject.factor > 10) {
    throw std::invalid_argument(
        fmt::format("\"{}\": the factor must be a number in (0, 10], e.g. 0.15", factor));
  }
  if (colon != std::string::npos) {
    inject.config_hash = text.substr(colon + 1);
    const bool hex = std::all_of(inject.config_hash.begin(), inject.config_hash.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
    if (inject.config_hash.size() != 16 || !hex) {
      throw std::invalid_argument(
          fmt::format("\"{}\": a config hash is 16 lower-case hex digits", inject.config_hash));
    }
  }
  return inject;
}

protocol::PrepareResult run_prepare_job(const nlohmann::json& config,
                                        const WorkerSettings& settings, ArtifactStore& artifacts) {
  protocol::MlpWorkload workload;
  protocol::DistillOptions distill;
  try {
    config.at("workload").get_to(workload);
    if (config.contains("distillation")) config.at("distillation").get_to(distill);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("prepare job config: {}", e.what()));
  }
  const kernels::TrainSpec spec = to_train_spec(workload);
  if (distill.active()) {
    kernels::check_distill_spec({distill.temperature, distill.alpha});
    kernels::check_distill_layers(workload.layers, distill.teacher);
  }
  const kernels::LabeledData data = kernels::load_fashion_mnist(settings.data_dir);
  const kernels::ModelCache cache(settings.cache_dir);

  protocol::PrepareResult result;
  result.data_hash = data.hash;
  if (distill.active()) {
    const DistilledModel models = obtain_distilled_model(spec, distill, data, cache);
    result.models = {prepared(protocol::kRoleBase, models.student),
                     prepared(protocol::kRoleTeacher, models.teacher),
                     prepared(protocol::kRoleScratch, models.scratch)};
    result.train_seconds = models.train_seconds();
  } else {
    const BaseModel base = obtain_base_model(spec, data, cache);
    result.models = {prepared(protocol::kRoleBase, base)};
    result.train_seconds = base.train_seconds;
  }
  for (const protocol::PreparedModel& m : result.models) upload(cache, m, artifacts);
  result.target = detect_target(settings.threads, settings.isa_cap);
  result.version = detect_versions();
  return result;
}

protocol::Result run_variant_job(const nlohmann::json& config, const nlohmann::json& measurement,
                                 const protocol::PrepareResult* prepared,
                                 const WorkerSettings& settings, ArtifactStore& artifacts) {
  EvalRequest request;
  protocol::Measurement m;
  try {
    config.get_to(request.config);
    measurement.get_to(m);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("variant job: {}", e.what()));
  }
  request.measurement.batches = m.batches;
  request.measurement.latency.repetitions = m.repetitions;
  request.measurement.latency.min_time_ms = m.min_time_ms;
  request.measurement.latency.warmup_ms = m.warmup_ms;
  request.data_dir = settings.data_dir;
  request.cache_dir = settings.cache_dir;
  request.threads = settings.threads;
  request.isa_cap = settings.isa_cap;
  request.measure_lock = settings.measure_lock;
  if (const auto& inject = settings.injected_slowdown;
      inject &&
      (inject->config_hash.empty() || inject->config_hash == protocol::hash_config(config))) {
    request.measurement.latency.injected_slowdown = inject->factor;
    spdlog::warn("injecting a {:.0f} % slowdown into every timed call (--inject-slowdown)",
                 inject->factor * 100);
  }
  if (request.config.workload == protocol::kWorkloadMlp) {
    if (prepared == nullptr)
      throw std::invalid_argument("an mlp variant needs its prepare job's result");
    install(*prepared, kernels::ModelCache(settings.cache_dir), artifacts);
    request.models_must_be_cached = true;
  }
  try {
    return run_eval(request);
  } catch (const ModelNotCached& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace lowbit::worker
