#include "kernels/prune/prune.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "kernels/base/sizes.h"

namespace lowbit::kernels {

namespace {

// How far a given ratio may sit from 1 − n/m: enough for a decimal written to six places.
constexpr double kNmRatioTolerance = 1e-6;

// Magnitudes are compared with <, which NaN breaks: refuse it up front, naming the weight.
void check_finite(const Mlp& model) {
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& layer = model.layers[l];
    for (std::size_t i = 0; i < layer.weights.size(); ++i) {
      if (!std::isfinite(layer.weights[i])) {
        throw std::invalid_argument(
            fmt::format("model: weight ({}, {}) of layer {} is {}: magnitudes cannot be ranked",
                        i / static_cast<std::size_t>(layer.inputs),
                        i % static_cast<std::size_t>(layer.inputs), l, layer.weights[i]));
      }
    }
  }
}

bool previously_pruned(const PruneMask* previous, std::size_t layer, std::size_t index) {
  return previous != nullptr && previous->keep[layer][index] == 0;
}

PruneMask magnitude_mask(const Mlp& model, double ratio, const PruneMask* previous) {
  struct Candidate {
    float magnitude;     // −1 for weights an earlier mask pruned: they go first
    std::int64_t index;  // position in (layer, row, column) order: the tie-break
  };
  std::vector<Candidate> candidates;
  candidates.reserve(static_cast<std::size_t>(model.weight_count()));
  std::int64_t index = 0;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const auto& weights = model.layers[l].weights;
    for (std::size_t i = 0; i < weights.size(); ++i, ++index) {
      candidates.push_back(
          {previously_pruned(previous, l, i) ? -1.0f : std::fabs(weights[i]), index});
    }
  }
  const auto total = static_cast<std::int64_t>(candidates.size());
  auto remove = static_cast<std::int64_t>(std::llround(ratio * static_cast<double>(total)));
  if (previous != nullptr) remove = std::max(remove, previous->pruned_count());
  remove = std::min(remove, total);
  const auto before = [](const Candidate& a, const Candidate& b) {
    return a.magnitude < b.magnitude || (a.magnitude == b.magnitude && a.index < b.index);
  };
  if (remove > 0 && remove < total) {
    std::nth_element(candidates.begin(), candidates.begin() + remove, candidates.end(), before);
  }
  // Flat positions back to (layer, index).
  std::vector<std::int64_t> layer_start{0};
  for (const DenseLayer& layer : model.layers) {
    layer_start.push_back(layer_start.back() + static_cast<std::int64_t>(layer.weights.size()));
  }
  PruneMask mask = PruneMask::keep_all(model);
  for (std::int64_t c = 0; c < remove; ++c) {
    const std::int64_t flat = candidates[static_cast<std::size_t>(c)].index;
    const auto layer = static_cast<std::size_t>(
        std::upper_bound(layer_start.begin(), layer_start.end(), flat) - layer_start.begin() - 1);
    mask.keep[layer][static_cast<std::size_t>(flat - layer_start[layer])] = 0;
  }
  return mask;
}

// Weights left when each hidden layer h loses removed[h] neurons: Σ kept inputs · kept outputs.
std::int64_t kept_weights(const std::vector<int>& sizes, const std::vector<int>& removed) {
  std::int64_t kept = 0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const std::int64_t in = sizes[l] - (l > 0 ? removed[l - 1] : 0);
    const std::int64_t out = sizes[l + 1] - (l + 2 < sizes.size() ? removed[l] : 0);
    kept += in * out;
  }
  return kept;
}

PruneMask nm_mask(const Mlp& model, const NmPattern& nm) {
  PruneMask mask = PruneMask::keep_all(model);
  std::vector<int> order(static_cast<std::size_t>(nm.m));
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const DenseLayer& layer = model.layers[l];
    for (int row = 0; row < layer.outputs; ++row) {
      const float* w = layer.weights.data() + element_count(row, layer.inputs);
      std::uint8_t* keep = mask.keep[l].data() + element_count(row, layer.inputs);
      for (int first = 0; first < layer.inputs; first += nm.m) {
        const int len = std::min(nm.m, layer.inputs - first);
        // A short tail group is a group of m padded with zeros: it keeps min(n, len).
        const int kept = std::min(nm.n, len);
        std::iota(order.begin(), order.begin() + len, first);
        std::partial_sort(order.begin(), order.begin() + kept, order.begin() + len,
                          [w](int a, int b) {
                            const float ma = std::fabs(w[a]);
                            const float mb = std::fabs(w[b]);
                            return ma > mb || (ma == mb && a < b);
                          });
        for (int i = kept; i < len; ++i) keep[order[static_cast<std::size_t>(i)]] = 0;
      }
    }
  }
  return mask;
}

PruneMask structured_mask(const Mlp& model, double ratio, const PruneMask* previous) {
  const std::vector<int> sizes = model.layer_sizes();
  const std::vector<int> to_remove = structured_neurons_to_remove(sizes, ratio);
  PruneMask mask = PruneMask::keep_all(model);
  const std::size_t hidden_layers = model.layers.size() - 1;
  for (std::size_t h = 0; h < hidden_layers; ++h) {
    const DenseLayer& layer = model.layers[h];
    std::vector<std::uint8_t> removed_before(static_cast<std::size_t>(layer.outputs), 0);
    if (previous != nullptr && !previous->kept_neurons.empty()) {
      std::fill(removed_before.begin(), removed_before.end(), std::uint8_t{1});
      for (int kept : previous->kept_neurons[h]) removed_before[static_cast<std::size_t>(kept)] = 0;
    }
    // Rank neurons: those removed before first, then by the L2 norm of their incoming row
    // (compared squared, in double), then by index.
    std::vector<double> norm_sq(static_cast<std::size_t>(layer.outputs), 0.0);
    for (int row = 0; row < layer.outputs; ++row) {
      const float* w = layer.weights.data() + element_count(row, layer.inputs);
      double sum = 0.0;
      for (int i = 0; i < layer.inputs; ++i) sum += static_cast<double>(w[i]) * w[i];
      norm_sq[static_cast<std::size_t>(row)] =
          removed_before[static_cast<std::size_t>(row)] != 0 ? -1.0 : sum;
    }
    std::vector<int> order(static_cast<std::size_t>(layer.outputs));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&norm_sq](int a, int b) {
      return norm_sq[static_cast<std::size_t>(a)] < norm_sq[static_cast<std::size_t>(b)];
    });
    const auto earlier =
        static_cast<int>(std::count(removed_before.begin(), removed_before.end(), std::uint8_t{1}));
    // A mask never shrinks: what an earlier step removed stays removed.
    const int remove = std::min(std::max(to_remove[h], earlier), layer.outputs - 1);
    std::vector<std::uint8_t> gone(static_cast<std::size_t>(layer.outputs), 0);
    for (int i = 0; i < remove; ++i)
      gone[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = 1;
    std::vector<int> kept;
    for (int neuron = 0; neuron < layer.outputs; ++neuron) {
      if (gone[static_cast<std::size_t>(neuron)] != 0) {
        // Its row in this layer and its column in the next.
        std::fill_n(
            mask.keep[h].begin() + static_cast<std::ptrdiff_t>(element_count(neuron, layer.inputs)),
            layer.inputs, std::uint8_t{0});
        const DenseLayer& next = model.layers[h + 1];
        for (int row = 0; row < next.outputs; ++row) {
          mask.keep[h + 1][element_count(row, next.inputs) + static_cast<std::size_t>(neuron)] = 0;
        }
      } else {
        kept.push_back(neuron);
      }
    }
    mask.kept_neurons.push_back(std::move(kept));
  }
  return mask;
}

}  // namespace

std::string to_string(PruneMethod method) {
  switch (method) {
    case PruneMethod::kMagnitude:
      return "magnitude";
    case PruneMethod::kStructured:
      return "structured";
    case PruneMethod::kNm:
      return "n:m";
  }
  return "unknown";
}

std::string to_string(const NmPattern& nm) { return fmt::format("{}:{}", nm.n, nm.m); }

PruneMethod parse_prune_method(const std::string& text) {
  if (text == "magnitude") return PruneMethod::kMagnitude;
  if (text == "structured") return PruneMethod::kStructured;
  if (text == "n:m") return PruneMethod::kNm;
  throw std::invalid_argument(
      fmt::format("prune method: \"{}\" is not one of magnitude, structured, n:m", text));
}

NmPattern parse_nm(const std::string& text) {
  const auto colon = text.find(':');
  NmPattern nm;
  const auto parse = [&text](std::string_view part, int& value) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) {
      throw std::invalid_argument(fmt::format("nm: \"{}\" is not of the form N:M, e.g. 2:4", text));
    }
  };
  if (colon == std::string::npos) {
    throw std::invalid_argument(fmt::format("nm: \"{}\" is not of the form N:M, e.g. 2:4", text));
  }
  const std::string_view all(text);
  parse(all.substr(0, colon), nm.n);
  parse(all.substr(colon + 1), nm.m);
  if (nm.m < 2) throw std::invalid_argument(fmt::format("nm: m must be ≥ 2 in \"{}\"", text));
  if (nm.n < 1) throw std::invalid_argument(fmt::format("nm: n must be ≥ 1 in \"{}\"", text));
  if (nm.n > nm.m) {
    throw std::invalid_argument(fmt::format("nm: n must not exceed m in \"{}\"", text));
  }
  return nm;
}

double nm_ratio(const NmPattern& nm) { return 1.0 - static_cast<double>(nm.n) / nm.m; }

void check_prune_spec(const PruneSpec& spec) {
  if (!(spec.ratio >= 0.0 && spec.ratio < 1.0)) {
    throw std::invalid_argument(fmt::format("prune ratio: must be in [0, 1), got {}", spec.ratio));
  }
  if (spec.method != PruneMethod::kNm) return;
  // Re-check through the parser so that a pattern built in code gets the same messages.
  parse_nm(to_string(spec.nm));
  if (std::fabs(spec.ratio - nm_ratio(spec.nm)) > kNmRatioTolerance) {
    throw std::invalid_argument(
        fmt::format("prune ratio: n:m {} prunes 1 − n/m = {:.6g} of the weights, not {}",
                    to_string(spec.nm), nm_ratio(spec.nm), spec.ratio));
  }
}

std::vector<int> structured_neurons_to_remove(const std::vector<int>& layer_sizes, double ratio) {
  check_layer_sizes(layer_sizes);
  if (!(ratio >= 0.0 && ratio < 1.0)) {
    throw std::invalid_argument(fmt::format("prune ratio: must be in [0, 1), got {}", ratio));
  }
  const std::vector<int> hidden(layer_sizes.begin() + 1, layer_sizes.end() - 1);
  if (hidden.empty()) {
    if (ratio > 0.0) {
      throw std::invalid_argument(fmt::format(
          "prune ratio: structured pruning removes hidden neurons, and the model {} has none",
          format_layer_sizes(layer_sizes)));
    }
    return {};
  }
  const std::vector<int> none(hidden.size(), 0);
  const auto total = static_cast<double>(kept_weights(layer_sizes, none));
  const double target = ratio * total;
  std::vector<int> best = none;
  double best_miss = target;  // removing nothing misses by the whole target
  double best_removed = 0.0;
  // Candidate fractions k / h for every hidden width h: each candidate is exact for one layer
  // and rounded for the others.
  for (int width : hidden) {
    for (int k = 1; k <= width; ++k) {
      const double fraction = static_cast<double>(k) / width;
      std::vector<int> removed(hidden.size());
      for (std::size_t h = 0; h < hidden.size(); ++h) {
        removed[h] = static_cast<int>(std::lround(fraction * hidden[h]));
      }
      const double removed_weights =
          total - static_cast<double>(kept_weights(layer_sizes, removed));
      const double miss = std::fabs(removed_weights - target);
      if (miss < best_miss || (miss == best_miss && removed_weights < best_removed)) {
        best = removed;
        best_miss = miss;
        best_removed = removed_weights;
      }
    }
  }
  for (std::size_t h = 0; h < hidden.size(); ++h) {
    if (best[h] >= hidden[h]) {
      std::vector<int> one_left = hidden;
      for (int& width : one_left) width -= 1;
      const double largest = 1.0 - static_cast<double>(kept_weights(layer_sizes, one_left)) / total;
      throw std::invalid_argument(fmt::format(
          "prune ratio: structured pruning at {} would remove every neuron of hidden layer {} "
          "({} neurons) of {}; the largest ratio that keeps one neuron per layer is {:.4f}",
          ratio, h + 1, hidden[h], format_layer_sizes(layer_sizes), largest));
    }
  }
  return best;
}

PruneMask compute_prune_mask(const Mlp& model, const PruneSpec& spec, const PruneMask* previous) {
  check_prune_spec(spec);
  if (model.layers.empty()) throw std::invalid_argument("model: has no layers");
  if (previous != nullptr) check_mask_shape(*previous, model);
  check_finite(model);
  switch (spec.method) {
    case PruneMethod::kMagnitude:
      return magnitude_mask(model, spec.ratio, previous);
    case PruneMethod::kStructured:
      return structured_mask(model, spec.ratio, previous);
    case PruneMethod::kNm:
      return nm_mask(model, spec.nm);
  }
  throw std::invalid_argument("prune method: unknown");
}

PrunedModel prune_model(const Mlp& model, const PruneSpec& spec) {
  PrunedModel pruned;
  pruned.mask = compute_prune_mask(model, spec);
  pruned.model = model;
  apply_mask(pruned.mask, pruned.model);
  if (spec.method == PruneMethod::kStructured) {
    pruned.model = remove_pruned_neurons(pruned.model, pruned.mask);
  }
  return pruned;
}

double sparsity(const Mlp& model, std::int64_t original_weights) {
  if (original_weights <= 0) throw std::invalid_argument("original weights: must be ≥ 1");
  return 1.0 - static_cast<double>(model.nonzero_weights()) / static_cast<double>(original_weights);
}

}  // namespace lowbit::kernels
