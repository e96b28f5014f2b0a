#pragma once
// The forward skeleton that every layer-by-layer engine shares: layer l reads what layer l − 1
// wrote (the engine's input for l = 0); hidden layers write into two scratch buffers used in
// turn (ping-pong: no layer reads and writes the same buffer), and the last layer writes the
// caller's logits. Engines differ only in how one layer computes — which is what their files
// should show, not the loop around it.

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "kernels/base/aligned_vector.h"
#include "kernels/base/epilogue.h"

namespace lowbit::kernels {

// Two scratch buffers of T that only grow: once warmed up for a batch size, forward() allocates
// nothing.
template <class T>
class PingPong {
 public:
  // Makes both buffers hold at least `count` elements.
  void reserve(std::size_t count) {
    if (ping_.size() < count) {
      ping_.resize(count);
      pong_.resize(count);
    }
  }

  // Where hidden layer l writes (and layer l + 1 reads).
  T* hidden(std::size_t l) { return l % 2 == 0 ? ping_.data() : pong_.data(); }

 private:
  AlignedVector<T> ping_;  // aligned: the next layer's kernel reads them
  AlignedVector<T> pong_;
};

// The chain of float layers: `gemm(layer, in, out)` overwrites out (batch × layer.outputs) with
// in · Wᵀ for one layer; the chain then adds layer.bias and, on every layer but the last, ReLU —
// the epilogue every float path shares. A Layer has `int outputs` and a `bias` vector.
template <class Layer, class Gemm>
void forward_float_layers(std::span<const Layer> layers, const float* src, int batch, float* logits,
                          PingPong<float>& scratch, Gemm&& gemm) {
  std::size_t widest = 0;
  for (const Layer& layer : layers) {
    widest = std::max(widest, static_cast<std::size_t>(layer.outputs));
  }
  scratch.reserve(static_cast<std::size_t>(batch) * widest);
  const float* in = src;
  const std::size_t last = layers.size() - 1;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const Layer& layer = layers[l];
    float* out = l == last ? logits : scratch.hidden(l);
    gemm(layer, in, out);
    add_bias_activation(out, batch, layer.outputs, layer.bias.data(), l != last);
    in = out;
  }
}

}  // namespace lowbit::kernels
