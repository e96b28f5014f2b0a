#include "kernels/prune/prune_finetune.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace lowbit::kernels {

std::string to_string(PruneSchedule schedule) {
  return schedule == PruneSchedule::kGradual ? "gradual" : "oneshot";
}

PruneSchedule parse_prune_schedule(const std::string& text) {
  if (text == "oneshot") return PruneSchedule::kOneshot;
  if (text == "gradual") return PruneSchedule::kGradual;
  throw std::invalid_argument(
      fmt::format("prune schedule: \"{}\" is not one of oneshot, gradual", text));
}

TrainSpec finetune_train_spec(const TrainSpec& base, int epochs) {
  TrainSpec spec = base;
  spec.epochs = epochs;
  spec.learning_rate = kFineTuneLearningRate;
  return spec;
}

double gradual_ratio(double final_ratio, int epoch, int epochs) {
  if (epochs < 1 || epoch < 1 || epoch > epochs) {
    throw std::invalid_argument(
        fmt::format("gradual pruning: epoch {} is outside 1..{}", epoch, epochs));
  }
  const double remaining = 1.0 - static_cast<double>(epoch) / epochs;
  return final_ratio * (1.0 - remaining * remaining * remaining);
}

FineTuneResult finetune_pruned(const Mlp& base, const PruneSpec& prune, PruneSchedule schedule,
                               const TrainSpec& train_spec, const ImageSet& train,
                               const EpochCallback& on_epoch) {
  const auto start = std::chrono::steady_clock::now();
  TrainSpec spec = train_spec;
  spec.layers = base.layer_sizes();
  const bool gradual =
      schedule == PruneSchedule::kGradual && spec.epochs > 0 && prune.method != PruneMethod::kNm;

  FineTuneResult result;
  PruneMask current;
  EpochMask mask_for_epoch;
  if (!gradual) {
    // Fails here, before any training, on a spec that cannot be pruned.
    current = compute_prune_mask(base, prune);
    mask_for_epoch = [&](int, Mlp&) {
      result.epoch_ratios.push_back(prune.ratio);
      return &current;
    };
  } else {
    check_prune_spec(prune);
    if (prune.method == PruneMethod::kStructured) {
      structured_neurons_to_remove(base.layer_sizes(), prune.ratio);  // throws if impossible
    }
    mask_for_epoch = [&](int epoch, Mlp& model) {
      PruneSpec step = prune;
      step.ratio = gradual_ratio(prune.ratio, epoch, spec.epochs);
      current = compute_prune_mask(model, step, epoch > 1 ? &current : nullptr);
      result.epoch_ratios.push_back(step.ratio);
      return &current;
    };
  }
  TrainResult trained = train_from(base, spec, train, mask_for_epoch, on_epoch);
  // Without epochs the hook never ran. With them, the masked steps keep the zeros by themselves
  // (the tests check it on this result, so the mask is not applied again here).
  if (spec.epochs == 0) apply_mask(current, trained.model);
  result.model = prune.method == PruneMethod::kStructured
                     ? remove_pruned_neurons(trained.model, current)
                     : std::move(trained.model);
  result.mask = std::move(current);
  result.history = std::move(trained.history);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace lowbit::kernels
