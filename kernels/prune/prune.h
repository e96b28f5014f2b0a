#pragma once
// Pruning a trained Mlp (docs/pruning.md): choose which weights go, as a PruneMask.
// The ratio is the fraction of the original model's weights (every layer's weight matrix, biases
// excluded) that end up removed or zero — the result's `sparsity`. Biases are never pruned.
//
//   magnitude   unstructured, one global threshold on |w| over every layer (Han et al. 2015):
//               exactly round(ratio · weights) weights go, the smallest first; equal magnitudes
//               go in (layer, row, column) order, so the count is exact and the mask
//               deterministic.
//   structured  whole hidden neurons go, the ones whose incoming weight row has the smallest L2
//               norm (ties: lower index first); input and output neurons never. Each hidden layer
//               loses the same fraction of its neurons, f = k / h for some layer width h and
//               k ≤ h (each layer removes round(f · its width)); f is chosen so that the weights
//               removed — the neurons' rows plus the next layer's columns, counted once — come
//               closest to ratio · weights (ties: the smaller removal). A uniform fraction keeps
//               every layer's share of the capacity and needs no per-layer sensitivity study.
//               The model then really shrinks (remove_pruned_neurons).
//   n:m         in every group of m consecutive weights of a row (along the input dimension) the
//               n largest |w| stay (ties: the lower index), NVIDIA ASP's pattern. The ratio must
//               be 1 − n/m. A row whose length is not a multiple of m ends in a short group of
//               len < m weights, treated as a group of m padded with zeros, as sparse hardware
//               pads it: it keeps min(n, len). Such a model is a little less sparse than
//               1 − n/m; the mask's counts, not the ratio, are what a result reports.

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/model/mlp.h"
#include "kernels/model/prune_mask.h"

namespace lowbit::kernels {

enum class PruneMethod : std::uint8_t { kMagnitude, kStructured, kNm };

struct NmPattern {
  int n = 2;  // weights kept per group
  int m = 4;  // group length
};

struct PruneSpec {
  PruneMethod method = PruneMethod::kMagnitude;
  double ratio = 0.0;  // in [0, 1); for n:m, 1 − n/m
  NmPattern nm;        // used by n:m only
};

std::string to_string(PruneMethod method);   // "magnitude", "structured", "n:m"
std::string to_string(const NmPattern& nm);  // "2:4"

// "magnitude", "structured" or "n:m"; throws std::invalid_argument naming the method field.
PruneMethod parse_prune_method(const std::string& text);

// "N:M" with 1 ≤ N ≤ M and M ≥ 2; throws std::invalid_argument naming the nm field.
NmPattern parse_nm(const std::string& text);

// The fraction of weights n:m pruning removes: 1 − n/m.
double nm_ratio(const NmPattern& nm);

// Throws std::invalid_argument naming the field (ratio, nm) when the spec is invalid: a ratio
// outside [0, 1), an n:m pattern out of range, or an n:m ratio other than 1 − n/m (within 1e-6,
// so that 0.666667 matches 1:3).
void check_prune_spec(const PruneSpec& spec);

// The mask `spec` chooses on `model`. `previous` (may be null) is a mask applied earlier, as in
// gradual pruning: everything it pruned stays pruned, so masks only grow (for n:m, whose pattern
// has no intermediate sparsities, it is ignored). Throws std::invalid_argument for an invalid
// spec, a weight that is not finite (magnitudes could not be ranked), a structured ratio that
// would remove every neuron of a hidden layer, or a structured ratio above 0 on a model without
// hidden layers.
PruneMask compute_prune_mask(const Mlp& model, const PruneSpec& spec,
                             const PruneMask* previous = nullptr);

// Structured pruning's choice for `ratio` on a model of these layer sizes: how many neurons each
// hidden layer loses (one entry per hidden layer). Throws as compute_prune_mask does.
std::vector<int> structured_neurons_to_remove(const std::vector<int>& layer_sizes, double ratio);

// A pruned model and the mask that made it.
struct PrunedModel {
  Mlp model;       // masked; for structured, the smaller dense model
  PruneMask mask;  // on the original model's shapes
};

// One-shot pruning without fine-tuning: compute_prune_mask, apply_mask, and for structured
// remove_pruned_neurons.
PrunedModel prune_model(const Mlp& model, const PruneSpec& spec);

// The result's `sparsity` (docs/pruning.md "The ratio and `sparsity`"): 1 − nonzero weights of
// `model` / weights of the original dense model (biases excluded), so neurons that structured
// pruning removed count as zeros.
double sparsity(const Mlp& model, std::int64_t original_weights);

}  // namespace lowbit::kernels
