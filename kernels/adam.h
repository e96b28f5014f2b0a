#pragma once
// Adam (Kingma & Ba 2015) with optional decoupled weight decay (AdamW,
// Loshchilov & Hutter 2019) applied to weights only, never to biases.

#include <vector>

#include "kernels/backprop.h"
#include "kernels/mlp.h"

namespace lowbit::kernels {

struct AdamSettings {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
  float weight_decay = 0.0f;
};

class Adam {
 public:
  Adam(const Mlp& model, AdamSettings settings);
  // One update with learning rate `lr` (the schedule lives with the caller).
  void step(Mlp& model, const Gradients& grads, float lr);

 private:
  AdamSettings settings_;
  long step_count_ = 0;
  Gradients m_;
  Gradients v_;
};

}  // namespace lowbit::kernels
