#pragma once
// From a config's pruning options to a pruned, fine-tuned model. Checked
// before any training: a bad ratio or pattern is the caller's input error.

#include "kernels/model/dataset.h"
#include "kernels/model/mlp.h"
#include "kernels/prune/prune.h"
#include "kernels/prune/prune_finetune.h"
#include "kernels/train/train.h"
#include "protocol/eval_config.h"

namespace lowbit::worker {

// Throws std::invalid_argument naming the field (method, ratio, nm, schedule,
// finetune epochs, or a structured ratio the layer sizes cannot take). For
// n:m a ratio of 0 means 1 − n/m.
kernels::PruneSpec to_prune_spec(const protocol::MlpWorkload& workload,
                                 const protocol::PruneOptions& options);

struct PrunedVariant {
  kernels::Mlp model;
  double seconds = 0.0;  // pruning and fine-tuning
};

// Prunes `base` (trained with `base_spec`) and fine-tunes it with the mask
// fixed on `train` (the whole training set: the spec's validation split is
// held out again).
PrunedVariant prune_and_finetune(const kernels::Mlp& base, const kernels::TrainSpec& base_spec,
                                 const protocol::MlpWorkload& workload,
                                 const protocol::PruneOptions& options,
                                 const kernels::ImageSet& train);

}  // namespace lowbit::worker
