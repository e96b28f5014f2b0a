#pragma once
// The two kinds of job a worker leases, run start to finish on this host:
// a prepare job trains (or loads) its sweep's models and uploads them as
// artifacts; a variant job installs those artifacts in the local model cache
// and evaluates its configuration with them. Transport-free: the caller leases,
// heartbeats and posts; these only compute.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "protocol/prepare_result.h"
#include "protocol/result.h"
#include "worker/artifact_store.h"

namespace lowbit::worker {

// What this worker is: where its data and cache live and the target it measures as.
struct WorkerSettings {
  std::filesystem::path data_dir;
  std::filesystem::path cache_dir;
  int threads = 1;
  std::string isa_cap = "native";
  std::filesystem::path measure_lock;  // empty: none
};

// `config` is a prepare job's {workload, distillation?}. Throws std::invalid_argument for a
// config that cannot be run anywhere, kernels::DataError for missing data, std::runtime_error
// when an upload fails.
protocol::PrepareResult run_prepare_job(const nlohmann::json& config,
                                        const WorkerSettings& settings, ArtifactStore& artifacts);

// `config` is a variant's EvalConfig JSON, `measurement` the sweep's {batches, repetitions,
// min_time_ms, warmup_ms}, `prepared` its prepare job's result (nullptr for a GEMM sweep, which
// has none). A combination this target cannot run is a `skipped` result. Throws
// std::invalid_argument for a config that cannot be run anywhere, std::runtime_error when an
// artifact is missing or corrupt or this worker's data differ from the prepare job's.
protocol::Result run_variant_job(const nlohmann::json& config, const nlohmann::json& measurement,
                                 const protocol::PrepareResult* prepared,
                                 const WorkerSettings& settings, ArtifactStore& artifacts);

}  // namespace lowbit::worker
