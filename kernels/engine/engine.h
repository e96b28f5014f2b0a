#pragma once
// An inference engine is a model bound to one compute path: the weights in
// the form that path wants (reordered, quantized, packed), its scratch
// buffers, and the names of the kernels that run. Engines are chosen from an
// ordered list, fastest first and reference last (engine_registry.h); every
// result records which one ran, and a user can force another.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/base/engine_unavailable.h"
#include "kernels/model/mlp.h"

namespace lowbit::kernels {

struct LayerKernel {
  std::string kernel;  // e.g. "openblas/Cooperlake/sgemm"
  std::string impl;    // the implementation detail the library reports, e.g. "sgemm+bias_relu"
};

class InferenceEngine {
 public:
  virtual ~InferenceEngine() = default;

  // src: batch × inputs normalized images; logits: batch × outputs.
  // Engines keep their scratch between calls: no allocation once warmed up
  // for a batch size.
  virtual void forward(const float* src, int batch, float* logits) = 0;

  virtual int inputs() const = 0;
  virtual int outputs() const = 0;

  virtual std::string kernel() const = 0;  // one summary string for the result
  virtual std::vector<LayerKernel> layers() const = 0;
  virtual std::int64_t model_bytes() const = 0;  // the weight storage this path really uses
  // "real" when the path computes with the weights it reports; "simulated"
  // for quantize-dequantized weights run by a float kernel.
  virtual std::string weights() const { return "real"; }
};

}  // namespace lowbit::kernels
