#pragma once
// A pruning mask: which weights of an Mlp stay and which are held at zero. Kept apart from the
// methods that choose it (kernels/prune/prune.h) because training needs only this: fine-tuning with
// a fixed mask (kernels/train/train.h) zeroes the masked weights and their Adam state after every
// step.
//
// Structured pruning also records which hidden neurons survive, because its result is not a
// masked model but a smaller dense one (remove_pruned_neurons): the rows of the removed neurons
// and the matching columns of the next layer are masked while fine-tuning, then cut out.

#include <cstdint>
#include <vector>

#include "kernels/model/mlp.h"

namespace lowbit::kernels {

struct PruneMask {
  // keep[l][o · inputs + i] is 1 where weight (o, i) of layer l stays and 0 where it is pruned:
  // the shape of DenseLayer::weights.
  std::vector<std::vector<std::uint8_t>> keep;
  // Structured pruning only: for each hidden layer (the outputs of layers 0 .. L−2), the neurons
  // it keeps, ascending. Empty for unstructured masks.
  std::vector<std::vector<int>> kept_neurons;

  // Every weight kept.
  static PruneMask keep_all(const Mlp& model);

  std::int64_t kept_count() const;
  std::int64_t pruned_count() const;
};

// Throws std::invalid_argument when the mask does not have the model's layer shapes.
void check_mask_shape(const PruneMask& mask, const Mlp& model);

// Sets every pruned weight to zero (+0.0f); biases are never touched.
void apply_mask(const PruneMask& mask, Mlp& model);

// The smaller dense model a structured mask describes: layer l keeps the rows of its kept
// neurons and the columns of the previous layer's kept neurons; biases follow their rows. The
// outputs equal those of the masked dense model in exact arithmetic, since every weight cut out
// is one the mask holds at zero. A mask without kept_neurons returns the model as it is.
// Throws std::invalid_argument on a mask of another shape or a neuron index out of range.
Mlp remove_pruned_neurons(const Mlp& model, const PruneMask& mask);

}  // namespace lowbit::kernels
