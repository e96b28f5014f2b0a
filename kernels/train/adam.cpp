#include "kernels/train/adam.h"

#include <cmath>
#include <cstdint>
#include <span>

namespace lowbit::kernels {

namespace {

// `keep` is null for an unmasked update; a template parameter rather than a test per element,
// so the unmasked loop stays the one the compiler vectorized before masks existed.
template <bool kMasked>
void update(std::span<float> param, std::span<const float> grad, std::span<float> m,
            std::span<float> v, const AdamSettings& s, float step_size, float bias2_sqrt,
            float decay, const std::uint8_t* keep) {
  const float b1 = s.beta1;
  const float b2 = s.beta2;
  const std::size_t n = param.size();
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (kMasked) {
      if (keep[i] == 0) {
        param[i] = 0.0f;
        m[i] = 0.0f;
        v[i] = 0.0f;
        continue;
      }
    }
    const float g = grad[i];
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    // Bias corrections folded into step_size and bias2_sqrt, as PyTorch does.
    param[i] -= step_size * m[i] / (std::sqrt(v[i]) / bias2_sqrt + s.epsilon) + decay * param[i];
  }
}

}  // namespace

Adam::Adam(const Mlp& model, AdamSettings settings)
    : settings_(settings), m_(Gradients::zeros_like(model)), v_(Gradients::zeros_like(model)) {}

void Adam::step(Mlp& model, const Gradients& grads, float lr) {
  step_impl<false>(model, grads, lr, nullptr);
}

void Adam::step(Mlp& model, const Gradients& grads, float lr, const PruneMask& mask) {
  check_mask_shape(mask, model);
  step_impl<true>(model, grads, lr, &mask);
}

template <bool kMasked>
void Adam::step_impl(Mlp& model, const Gradients& grads, float lr, const PruneMask* mask) {
  ++step_count_;
  const auto t = static_cast<double>(step_count_);
  const auto bias1 = static_cast<float>(1.0 - std::pow(settings_.beta1, t));
  const auto bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(settings_.beta2, t)));
  const float step_size = lr / bias1;
  const float decay = lr * settings_.weight_decay;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    DenseLayer& layer = model.layers[l];
    const std::uint8_t* keep = kMasked ? mask->keep[l].data() : nullptr;
    update<kMasked>(layer.weights, grads.weights[l], m_.weights[l], v_.weights[l], settings_,
                    step_size, bias2_sqrt, decay, keep);
    // Biases are never pruned.
    update<false>(layer.bias, grads.bias[l], m_.bias[l], v_.bias[l], settings_, step_size,
                  bias2_sqrt, 0.0f, nullptr);
  }
}

}  // namespace lowbit::kernels
