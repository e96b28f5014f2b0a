#include "worker/prune_request.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace lowbit::worker {

kernels::PruneSpec to_prune_spec(const protocol::MlpWorkload& workload,
                                 const protocol::PruneOptions& options) {
  kernels::PruneSpec spec;
  spec.method = kernels::parse_prune_method(options.method);
  spec.ratio = options.ratio;
  if (spec.method == kernels::PruneMethod::kNm) {
    spec.nm = kernels::parse_nm(options.nm);
    if (spec.ratio == 0.0) spec.ratio = kernels::nm_ratio(spec.nm);
  }
  kernels::check_prune_spec(spec);
  kernels::parse_prune_schedule(options.schedule);
  if (options.finetune_epochs < 0) {
    throw std::invalid_argument(
        fmt::format("finetune epochs: must be at least 0, not {}", options.finetune_epochs));
  }
  if (spec.method == kernels::PruneMethod::kStructured && spec.ratio > 0.0) {
    kernels::structured_neurons_to_remove(workload.layers, spec.ratio);  // throws when impossible
  }
  return spec;
}

PrunedVariant prune_and_finetune(const kernels::Mlp& base, const kernels::TrainSpec& base_spec,
                                 const protocol::MlpWorkload& workload,
                                 const protocol::PruneOptions& options,
                                 const kernels::ImageSet& train) {
  const kernels::PruneSpec spec = to_prune_spec(workload, options);
  const kernels::TrainSpec finetune =
      kernels::finetune_train_spec(base_spec, options.finetune_epochs);
  spdlog::info("pruning: {} {:.4f}, fine-tuning {} epoch(s), {}", options.method, spec.ratio,
               options.finetune_epochs, options.schedule);
  kernels::FineTuneResult tuned = kernels::finetune_pruned(
      base, spec, kernels::parse_prune_schedule(options.schedule), finetune, train,
      [](const kernels::EpochStats& e) {
        spdlog::info("fine-tune epoch {}: loss {:.4f}, validation top-1 {:.4f}", e.epoch, e.loss,
                     e.validation_top1);
      });
  return {std::move(tuned.model), tuned.seconds};
}

}  // namespace lowbit::worker
