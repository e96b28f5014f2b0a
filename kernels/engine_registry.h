#pragma once
// The ordered list of compute paths (oneDNN's cpu_matmul_list.cpp pattern):
// fastest first, reference last. The first path that accepts the request
// builds the engine, and its name goes into the result. A forced path
// (`--kernel NAME`) that cannot run the request is a skip with its reason,
// never a silent substitution.

#include <memory>
#include <string>
#include <vector>

#include "kernels/engine.h"
#include "kernels/mlp.h"

namespace lowbit::kernels {

struct EngineRequest {
  std::string precision = "fp32";
  int bits = 32;
  std::string kernel = "auto";  // a path name, or "auto"
};

struct EngineChoice {
  std::unique_ptr<InferenceEngine> engine;  // null when skipped
  std::string path;                         // the path that accepted
  std::string skip_reason;                  // why nothing ran
};

// Path names in priority order, e.g. {"openblas", "ref"}.
std::vector<std::string> engine_paths();

EngineChoice select_engine(const Mlp& model, const EngineRequest& request);

}  // namespace lowbit::kernels
