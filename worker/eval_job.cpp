#include "worker/eval_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kernels/dataset.h"
#include "kernels/engine_registry.h"
#include "kernels/evaluate.h"
#include "kernels/library_info.h"
#include "kernels/model_cache.h"
#include "worker/base_model.h"
#include "worker/target_detect.h"

namespace lowbit::worker {

std::string repro_command(const EvalRequest& request) {
  const protocol::EvalConfig& c = request.config;
  const protocol::MlpTraining& t = c.mlp.training;
  std::string cmd = fmt::format(
      "lowbit eval --layers {} --epochs {} --train-batch {} --lr {} --lr-schedule {} "
      "--weight-decay {} --validation-images {} --train-images {} --augment-flip {} --seed {} "
      "--train-threads {} --precision {} --bits {} --kernel {} --threads {}",
      kernels::format_layer_sizes(c.mlp.layers), t.epochs, t.batch_size, t.learning_rate,
      t.schedule, t.weight_decay, t.validation_images, t.train_images, t.augment_flip ? "on" : "off",
      t.seed, t.threads, c.precision, c.bits, c.kernel, request.threads);
  if (request.data_dir != kernels::default_fashion_mnist_dir()) {
    cmd += fmt::format(" --data {}", request.data_dir.string());
  }
  return cmd;
}

protocol::Result run_eval(const EvalRequest& request) {
  kernels::set_threads(request.threads);
  protocol::Result result;
  result.config = request.config;
  result.config_hash = protocol::config_hash(request.config);
  result.repro = repro_command(request);
  result.target = detect_target(request.threads, request.isa_cap);
  result.version = detect_versions();

  const kernels::LabeledData data = kernels::load_fashion_mnist(request.data_dir);
  const kernels::TrainSpec spec = to_train_spec(request.config.mlp);
  const kernels::ModelCache cache(request.cache_dir);
  BaseModel base = obtain_base_model(spec, data, cache);

  const kernels::Mlp& model = base.artifact.model;
  kernels::EngineChoice choice = kernels::select_engine(
      model, {request.config.precision, request.config.bits, request.config.kernel});
  if (!choice.engine) {
    result.status = protocol::kStatusSkipped;
    result.reason = choice.skip_reason;
    return result;
  }
  kernels::InferenceEngine& engine = *choice.engine;
  const kernels::Evaluation test = kernels::evaluate(engine, model.normalization, data.test);

  protocol::Accuracy accuracy;
  accuracy.top1 = test.top1;
  accuracy.baseline_top1 = base.artifact.test_top1;
  accuracy.delta = test.top1 - base.artifact.test_top1;
  accuracy.agreement = kernels::agreement(test.predictions, base.artifact.test_predictions);
  accuracy.images = data.test.count;
  accuracy.correct = protocol::encode_bitset(test.correct);
  result.accuracy = accuracy;
  result.base_model = protocol::BaseModel{base.hash, base.cache_key, base.cache_hit,
                                          base.artifact.validation_top1};

  const std::int64_t dense = model.weight_count();
  result.params_nonzero = model.nonzero_weights();
  result.sparsity = dense > 0 ? 1.0 - static_cast<double>(result.params_nonzero) / static_cast<double>(dense) : 0.0;
  result.model_bytes = engine.model_bytes();
  result.weights = engine.weights();
  result.train_seconds = base.train_seconds;
  result.kernel = engine.kernel();
  for (const kernels::LayerKernel& layer : engine.layers()) {
    result.layers.push_back({layer.kernel, layer.impl});
  }
  return result;
}

}  // namespace lowbit::worker
