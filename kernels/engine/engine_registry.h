#pragma once
// The ordered list of compute paths (oneDNN's cpu_matmul_list.cpp pattern):
// each path serves one precision; fastest first, reference last. The first
// path that accepts the request builds the engine, and its name goes into the
// result. `auto` never picks a reference twin: a result measured on plain
// loops would say nothing about the target, so a precision whose fast paths
// all refuse is skipped with their reasons. A forced path (`--kernel NAME`,
// `ref` included) that cannot run the request is a skip with its reason,
// never a silent substitution.
//
// Float precisions (fp32, bf16, fp16) with bits ≤ 8 run their float kernel on
// quantize-dequantized weights and report `weights: "simulated"`.

#include <memory>
#include <string>
#include <vector>

#include "kernels/engine/engine.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

struct EngineRequest {
  std::string precision = "fp32";  // fp32, bf16, fp16, int8, int4, fixed
  int bits = 32;                   // weight bits: 2..8, or 32 (no integer quantization)
  std::string kernel = "auto";     // a path name, or "auto"
  QuantSpec quant;                 // scheme, granularity, activations; `bits` overrides quant.bits
  int group_size = 32;             // int4: weights per group scale (32, 64, 128)
  // Training images for static activation calibration (int8, fixed); may be
  // null when no path needs it (a request that needs it without one is a
  // std::invalid_argument from the builder).
  const CalibrationSet* calibration = nullptr;
  std::string isa_cap = "native";  // the process's ISA cap (worker/isa_cap.h), for our own kernels
  // The smallest batch that will be timed: `auto` takes the sparse fp32 path
  // only when it is expected to beat dense there (engine_sparse.h).
  int batch = 1;
};

struct EngineChoice {
  std::unique_ptr<InferenceEngine> engine;  // null when skipped
  std::string path;                         // the path that accepted
  std::string skip_reason;                  // why nothing ran
};

// Distinct path names in priority order: csr, openblas, onednn, avx512, avx2, portable, ref.
std::vector<std::string> engine_paths();

EngineChoice select_engine(const Mlp& model, const EngineRequest& request);

}  // namespace lowbit::kernels
