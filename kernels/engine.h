#pragma once
// An inference engine is a model bound to one compute path: the weights in
// the form that path wants (reordered, quantized, packed), its scratch
// buffers, and the names of the kernels that run. Engines are chosen from an
// ordered list, fastest first and reference last (engine_registry.h); every
// result records which one ran, and a user can force another.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/mlp.h"

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

// A compute path that cannot run on this machine or library build. what() says why in words a
// user can act on (the ISA found and the one needed, or the library's status); the registry turns
// it into a skip with that reason, never into a silent substitute.
struct EngineUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// y[b][o] += bias[o], then max(0, ·) when `relu`: the epilogue of every float layer.
void add_bias_activation(float* y, int batch, int outputs, const float* bias, bool relu);

}  // namespace lowbit::kernels
