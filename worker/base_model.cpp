#include "worker/base_model.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kernels/engine/engine_fp32.h"
#include "kernels/train/distill.h"
#include "kernels/train/evaluate.h"

namespace lowbit::worker {
namespace {

void log_epoch(const kernels::EpochStats& s) {
  spdlog::info("epoch {:3d}  loss {:.4f}  validation top-1 {:.4f}  {:.2f}s", s.epoch, s.loss,
               s.validation_top1, s.seconds);
}

// The model cached under `training` (everything that determines it), or `train()` run, its
// result evaluated on the test set and stored.
BaseModel obtain_model(const nlohmann::json& training, const std::string& what,
                       const kernels::LabeledData& data, const kernels::ModelCache& cache,
                       OnMiss on_miss, const std::function<kernels::TrainResult()>& train) {
  BaseModel base;
  base.cache_key = kernels::model_cache_key(training, data.hash);
  if (auto cached = cache.load(base.cache_key)) {
    spdlog::info("{} {} loaded from {}", what, cached->hash,
                 cache.path_for(base.cache_key).string());
    base.artifact = std::move(cached->artifact);
    base.hash = std::move(cached->hash);
    base.cache_hit = true;
    return base;
  }
  if (on_miss == OnMiss::kFail) {
    throw ModelNotCached(fmt::format(
        "{} is not in the model cache under {}: this worker's data set ({}) or model format "
        "differs from the one the prepare job trained on",
        what, base.cache_key, data.hash));
  }
  spdlog::info("training {} (cache miss: {})", what, base.cache_key);
  kernels::TrainResult trained = train();
  base.train_seconds = trained.seconds;

  kernels::ModelArtifact& a = base.artifact;
  a.model = std::move(trained.model);
  a.training = training;
  a.data_hash = data.hash;
  a.validation_top1 = trained.history.empty() ? 0.0 : trained.history.back().validation_top1;
  auto engine = kernels::make_fp32_openblas_engine(a.model);
  kernels::Evaluation test = kernels::evaluate(*engine, a.model.normalization, data.test);
  a.test_top1 = test.top1;
  a.test_predictions = std::move(test.predictions);
  base.hash = cache.store(base.cache_key, a);
  spdlog::info("{} {} stored: test top-1 {:.4f}, {:.1f}s", what, base.hash, a.test_top1,
               base.train_seconds);
  return base;
}

std::string model_name(const kernels::TrainSpec& spec) {
  return fmt::format("{} ({} epochs)", kernels::format_layer_sizes(spec.layers), spec.epochs);
}

}  // namespace

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
                            const kernels::ModelCache& cache, OnMiss on_miss) {
  return obtain_model(kernels::to_json(spec), "base model " + model_name(spec), data, cache,
                      on_miss, [&] { return kernels::train_mlp(spec, data.train, log_epoch); });
}

DistilledModel obtain_distilled_model(const kernels::TrainSpec& spec,
                                      const protocol::DistillOptions& distill,
                                      const kernels::LabeledData& data,
                                      const kernels::ModelCache& cache, OnMiss on_miss) {
  const kernels::DistillSpec distill_spec{distill.temperature, distill.alpha};
  kernels::check_distill_spec(distill_spec);
  kernels::TrainSpec teacher_spec = spec;
  teacher_spec.layers = distill.teacher;
  kernels::check_distill_layers(spec.layers, teacher_spec.layers);

  DistilledModel out;
  out.teacher = obtain_model(
      kernels::to_json(teacher_spec), "teacher " + model_name(teacher_spec), data, cache, on_miss,
      [&] { return kernels::train_mlp(teacher_spec, data.train, log_epoch); });
  out.scratch = obtain_base_model(spec, data, cache, on_miss);
  // The student's key names its teacher by the teacher's own key: a retrained or different
  // teacher gives a different student.
  nlohmann::json training = kernels::to_json(spec);
  training["distillation"] = {{"teacher_cache_key", out.teacher.cache_key},
                              {"temperature", distill.temperature},
                              {"alpha", distill.alpha}};
  const kernels::Mlp& teacher = out.teacher.artifact.model;
  out.student = obtain_model(
      training, "distilled student " + model_name(spec), data, cache, on_miss,
      [&] { return kernels::train_distilled(spec, teacher, distill_spec, data.train, log_epoch); });
  return out;
}

}  // namespace lowbit::worker
