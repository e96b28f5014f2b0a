#include "kernels/model/prune_mask.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "kernels/base/sizes.h"

namespace lowbit::kernels {

namespace {

// All of 0 .. count−1: the neurons of an input or output layer, which are never removed.
std::vector<int> every_index(int count) {
  std::vector<int> all(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) all[static_cast<std::size_t>(i)] = i;
  return all;
}

void check_neuron_list(const std::vector<int>& kept, int neurons, std::size_t hidden) {
  if (kept.empty()) {
    throw std::invalid_argument(fmt::format(
        "mask: hidden layer {} keeps no neuron, which would disconnect the model", hidden));
  }
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (kept[i] < 0 || kept[i] >= neurons || (i > 0 && kept[i] <= kept[i - 1])) {
      throw std::invalid_argument(
          fmt::format("mask: kept neurons of hidden layer {} must be ascending indices below {}",
                      hidden, neurons));
    }
  }
}

}  // namespace

PruneMask PruneMask::keep_all(const Mlp& model) {
  PruneMask mask;
  for (const DenseLayer& layer : model.layers) mask.keep.emplace_back(layer.weights.size(), 1);
  return mask;
}

std::int64_t PruneMask::kept_count() const {
  std::int64_t n = 0;
  for (const auto& layer : keep) n += std::count(layer.begin(), layer.end(), std::uint8_t{1});
  return n;
}

std::int64_t PruneMask::pruned_count() const {
  std::int64_t n = 0;
  for (const auto& layer : keep) n += std::count(layer.begin(), layer.end(), std::uint8_t{0});
  return n;
}

void check_mask_shape(const PruneMask& mask, const Mlp& model) {
  if (mask.keep.size() != model.layers.size()) {
    throw std::invalid_argument(
        fmt::format("mask: has {} layers, the model {}", mask.keep.size(), model.layers.size()));
  }
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    if (mask.keep[l].size() != model.layers[l].weights.size()) {
      throw std::invalid_argument(fmt::format("mask: layer {} has {} entries for {} weights", l,
                                              mask.keep[l].size(), model.layers[l].weights.size()));
    }
  }
  if (!mask.kept_neurons.empty() && mask.kept_neurons.size() + 1 != model.layers.size()) {
    throw std::invalid_argument(
        fmt::format("mask: has neuron lists for {} hidden layers, the model {}",
                    mask.kept_neurons.size(), model.layers.size() - 1));
  }
}

void apply_mask(const PruneMask& mask, Mlp& model) {
  check_mask_shape(mask, model);
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    auto& weights = model.layers[l].weights;
    const std::vector<std::uint8_t>& keep = mask.keep[l];
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (keep[i] == 0) weights[i] = 0.0f;
    }
  }
}

Mlp remove_pruned_neurons(const Mlp& model, const PruneMask& mask) {
  check_mask_shape(mask, model);
  if (mask.kept_neurons.empty()) return model;
  const std::size_t count = model.layers.size();
  for (std::size_t h = 0; h + 1 < count; ++h) {
    check_neuron_list(mask.kept_neurons[h], model.layers[h].outputs, h);
  }
  Mlp smaller;
  smaller.normalization = model.normalization;
  for (std::size_t l = 0; l < count; ++l) {
    const DenseLayer& layer = model.layers[l];
    const std::vector<int> rows = l + 1 < count ? mask.kept_neurons[l] : every_index(layer.outputs);
    const std::vector<int> cols = l > 0 ? mask.kept_neurons[l - 1] : every_index(layer.inputs);
    DenseLayer cut;
    cut.inputs = static_cast<int>(cols.size());
    cut.outputs = static_cast<int>(rows.size());
    cut.weights.reserve(element_count(cut.outputs, cut.inputs));
    for (int row : rows) {
      const float* src = layer.weights.data() + element_count(row, layer.inputs);
      for (int col : cols) cut.weights.push_back(src[col]);
      cut.bias.push_back(layer.bias[static_cast<std::size_t>(row)]);
    }
    smaller.layers.push_back(std::move(cut));
  }
  return smaller;
}

}  // namespace lowbit::kernels
