#pragma once
// The two kinds of job a worker leases, run start to finish on this host:
// a prepare job trains (or loads) its sweep's models and uploads them as
// artifacts; a variant job installs those artifacts in the local model cache
// and evaluates its configuration with them. Transport-free: the caller leases,
// heartbeats and posts; these only compute.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "protocol/prepare_result.h"
#include "protocol/result.h"
#include "worker/artifact_store.h"

namespace lowbit::worker {

// `--inject-slowdown F[:CONFIG_HASH]`, for testing regression detectors and never for users'
// figures: every timed call of every variant job (or of that configuration's only) spins F × its
// own time longer, and the result says so in `context.injected`.
struct InjectedSlowdown {
  double factor = 0.0;
  std::string config_hash;  // empty: every job
};

// Parses "F" or "F:HASH" (F in (0, 10], HASH 16 hex digits); throws std::invalid_argument
// saying which part is wrong.
InjectedSlowdown parse_injected_slowdown(const std::string& text);

// What this worker is: where its data and cache live and the target it measures as.
struct WorkerSettings {
  std::filesystem::path data_dir;
  std::filesystem::path cache_dir;
  int threads = 1;
  std::string isa_cap = "native";
  std::filesystem::path measure_lock;  // empty: none
  std::optional<InjectedSlowdown> injected_slowdown;
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
