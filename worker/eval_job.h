#pragma once
// One evaluation, start to finish: for an MLP the base model (cache or
// training), the variant's compute path and its accuracy on the test set; for
// a GEMM the error against fp64; then latency per batch size with its machine
// context, and the result document with target and versions. `lowbit eval`
// calls it directly; the worker's job loop will call it for each leased job.

#include <filesystem>
#include <string>
#include <vector>

#include "kernels/measure/latency.h"
#include "protocol/eval_config.h"
#include "protocol/result.h"

namespace lowbit::worker {

struct MeasurementSettings {
  std::vector<int> batches{1, 64, 1024};  // ignored by the gemm workload (its batch is M)
  kernels::LatencySettings latency;
};

struct EvalRequest {
  protocol::EvalConfig config;
  MeasurementSettings measurement;
  std::filesystem::path data_dir;
  std::filesystem::path cache_dir;
  int threads = 1;
  std::string isa_cap = "native";
  // The host-wide lock the latency phase holds (measure_lock.h); empty: none.
  std::filesystem::path measure_lock;
  // A sweep's variant: its models must already be in the cache (installed from the prepare
  // job's artifacts); a miss is an error, never a retrain.
  bool models_must_be_cached = false;
};

// Throws kernels::DataError for bad data files and std::invalid_argument for
// a config that cannot be evaluated at all (the caller's input error). A
// combination the target cannot run is a `skipped` result, not an exception.
protocol::Result run_eval(const EvalRequest& request);

// The `lowbit eval` command line that reproduces the request on its own.
std::string repro_command(const EvalRequest& request);

}  // namespace lowbit::worker
