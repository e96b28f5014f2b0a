#pragma once
// Adam (Kingma & Ba 2015) with optional decoupled weight decay (AdamW,
// Loshchilov & Hutter 2019) applied to weights only, never to biases.

#include <vector>

#include "kernels/model/mlp.h"
#include "kernels/model/prune_mask.h"
#include "kernels/train/backprop.h"

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
  // The same update for a pruned model: every weight the mask prunes ends the step at exactly
  // zero with zero first and second moments, as if its gradient were zero and it had never
  // been trained, so neither momentum nor weight decay can bring it back.
  void step(Mlp& model, const Gradients& grads, float lr, const PruneMask& mask);

 private:
  template <bool kMasked>
  void step_impl(Mlp& model, const Gradients& grads, float lr, const PruneMask* mask);

  AdamSettings settings_;
  long step_count_ = 0;
  Gradients m_;
  Gradients v_;
};

}  // namespace lowbit::kernels
