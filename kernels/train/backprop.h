#pragma once
// Forward pass that keeps the activations, and the backward pass, for
// training. The GEMM is a parameter so tests can run the same code on the
// reference GEMM; training uses OpenBLAS.

#include <cstdint>
#include <vector>

#include "kernels/gemm/gemm.h"
#include "kernels/model/mlp.h"

namespace lowbit::kernels {

struct Gradients {
  std::vector<std::vector<float>> weights;  // per layer, same shape as DenseLayer::weights
  std::vector<std::vector<float>> bias;

  static Gradients zeros_like(const Mlp& model);
};

// Activations of one mini-batch; buffers grow to the largest batch seen.
class TrainingWorkspace {
 public:
  // Runs the model on src (batch × inputs, normalized); returns the logits
  // (batch × outputs), valid until the next call.
  const float* forward(const Mlp& model, const float* src, int batch, GemmFn gemm);

  // Given d(loss)/d(logits) of the last forward(), writes the parameter
  // gradients into grads (overwriting them).
  void backward(const Mlp& model, const float* dlogits, Gradients& grads, GemmFn gemm);

 private:
  const float* src_ = nullptr;
  int batch_ = 0;
  std::vector<std::vector<float>> activations_;  // output of each layer (post-ReLU for hidden)
  std::vector<float> delta_;
  std::vector<float> delta_prev_;
};

}  // namespace lowbit::kernels
