#include "worker/base_model.h"

#include <spdlog/spdlog.h>

#include "kernels/engine_fp32.h"
#include "kernels/evaluate.h"

namespace lowbit::worker {

kernels::TrainSpec to_train_spec(const protocol::MlpWorkload& workload) {
  const protocol::MlpTraining& t = workload.training;
  kernels::TrainSpec spec;
  spec.layers = workload.layers;
  spec.epochs = t.epochs;
  spec.batch_size = t.batch_size;
  spec.learning_rate = static_cast<float>(t.learning_rate);
  spec.schedule = kernels::parse_lr_schedule(t.schedule);
  spec.weight_decay = static_cast<float>(t.weight_decay);
  spec.validation_images = t.validation_images;
  spec.train_images = t.train_images;
  spec.augment_flip = t.augment_flip;
  spec.seed = t.seed;
  spec.threads = t.threads;
  return spec;
}

BaseModel obtain_base_model(const kernels::TrainSpec& spec, const kernels::LabeledData& data,
                            const kernels::ModelCache& cache) {
  BaseModel base;
  base.cache_key = kernels::model_cache_key(spec, data.hash);
  if (auto cached = cache.load(base.cache_key)) {
    spdlog::info("base model {} loaded from {}", cached->hash, cache.path_for(base.cache_key).string());
    base.artifact = std::move(cached->artifact);
    base.hash = std::move(cached->hash);
    base.cache_hit = true;
    return base;
  }
  spdlog::info("training {} for {} epochs (cache miss: {})",
               kernels::format_layer_sizes(spec.layers), spec.epochs, base.cache_key);
  kernels::TrainResult trained = kernels::train_mlp(spec, data.train, [](const kernels::EpochStats& s) {
    spdlog::info("epoch {:3d}  loss {:.4f}  validation top-1 {:.4f}  {:.2f}s", s.epoch, s.loss,
                 s.validation_top1, s.seconds);
  });
  base.train_seconds = trained.seconds;

  kernels::ModelArtifact& a = base.artifact;
  a.model = std::move(trained.model);
  a.training = kernels::to_json(spec);
  a.data_hash = data.hash;
  a.validation_top1 = trained.history.empty() ? 0.0 : trained.history.back().validation_top1;
  auto engine = kernels::make_fp32_openblas_engine(a.model);
  kernels::Evaluation test = kernels::evaluate(*engine, a.model.normalization, data.test);
  a.test_top1 = test.top1;
  a.test_predictions = std::move(test.predictions);
  base.hash = cache.store(base.cache_key, a);
  spdlog::info("base model {} stored: test top-1 {:.4f}, {:.1f}s", base.hash, a.test_top1,
               base.train_seconds);
  return base;
}

}  // namespace lowbit::worker
