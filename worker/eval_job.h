#pragma once
// One evaluation, start to finish: the base model (cache or training), the
// variant's compute path, accuracy on the test set, and the result document
// with its target and versions. `lowbit eval` calls it directly; the worker's
// job loop will call it for each leased job.

#include <filesystem>

#include "protocol/eval_config.h"
#include "protocol/result.h"

namespace lowbit::worker {

struct EvalRequest {
  protocol::EvalConfig config;
  std::filesystem::path data_dir;
  std::filesystem::path cache_dir;
  int threads = 1;
  std::string isa_cap = "native";
};

// Throws kernels::DataError for bad data files and std::invalid_argument for
// a config that cannot be evaluated at all (the caller's input error). A
// combination the target cannot run is a `skipped` result, not an exception.
protocol::Result run_eval(const EvalRequest& request);

// The `lowbit eval` command line that reproduces the request on its own.
std::string repro_command(const EvalRequest& request);

}  // namespace lowbit::worker
