#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "kernels/base/library_info.h"
#include "kernels/base/precision_modes.h"
#include "kernels/engine/engine_registry.h"
#include "kernels/model/dataset.h"
#include "kernels/train/evaluate.h"
#include "kernels/train/model_cache.h"
#include "worker/base_model.h"
#include "worker/eval_steps.h"
#include "worker/mixed_policy.h"
#include "worker/prune_request.h"
#include "worker/quant_request.h"

namespace lowbit::worker {

namespace {

// The base model every variant is derived from and compared against: trained (or loaded from the
// cache), or with distillation the distilled student, reported beside its teacher.
struct BaseAndTraining {
  BaseModel base;
  double train_seconds = 0.0;  // what this run trained
};

BaseAndTraining obtain_base(const EvalRequest& request, const kernels::TrainSpec& spec,
                            const kernels::LabeledData& data, const kernels::ModelCache& cache,
                            protocol::Result& result) {
  const OnMiss on_miss = request.models_must_be_cached ? OnMiss::kFail : OnMiss::kTrain;
  if (!request.config.distill.active()) {
    BaseModel base = obtain_base_model(spec, data, cache, on_miss);
    const double seconds = base.train_seconds;
    return {std::move(base), seconds};
  }
  DistilledModel distilled =
      obtain_distilled_model(spec, request.config.distill, data, cache, on_miss);
  result.distillation = protocol::Distillation{distilled.teacher.artifact.test_top1,
                                               distilled.scratch.artifact.test_top1,
                                               distilled.teacher.hash, distilled.scratch.hash};
  const double seconds = distilled.train_seconds();
  return {std::move(distilled.student), seconds};
}

// The variant's engine: the registry's choice, or for mixed the policy (given, or chosen on the
// validation split of the training set, never the test set) with its candidates in `result`.
kernels::EngineChoice choose_engine(const EvalRequest& request, const kernels::Mlp& model,
                                    const kernels::TrainSpec& spec,
                                    const kernels::LabeledData& data,
                                    const kernels::CalibrationSet& calibration,
                                    protocol::Result& result) {
  kernels::EngineRequest engine_req = engine_request(request, &calibration);
  const std::vector<int>& batches = request.measurement.batches;
  engine_req.batch = *std::min_element(batches.begin(), batches.end());
  if (request.config.precision != "mixed") return kernels::select_engine(model, engine_req);
  kernels::EngineChoice choice;
  if (std::string reason =
          kernels::unsupported_combination(request.config.precision, request.config.bits);
      !reason.empty()) {
    choice.skip_reason = reason;
    return choice;
  }
  const kernels::ImageSet validation =
      kernels::split_validation(data.train, spec.validation_images).validation;
  const int ranked_batch = *std::max_element(batches.begin(), batches.end());
  MixedChoice mixed =
      choose_mixed(model, engine_req, &calibration, request.config, validation, ranked_batch);
  choice.engine = std::move(mixed.engine);
  choice.skip_reason = mixed.skip_reason;
  if (choice.engine) {
    result.policy = std::move(mixed.policy);
    result.candidates = std::move(mixed.candidates);
  }
  return choice;
}

// Accuracy on the test set against the base model, and what the variant is: sparsity (against
// the base model's dense weights: neurons removed by structured pruning count as zeros), storage,
// kernels.
void record_variant(kernels::InferenceEngine& engine, const kernels::Mlp& model,
                    const BaseModel& base, const kernels::ImageSet& test_images,
                    protocol::Result& result) {
  const kernels::Evaluation test = kernels::evaluate(engine, model.normalization, test_images);
  protocol::Accuracy accuracy;
  accuracy.top1 = test.top1;
  accuracy.baseline_top1 = base.artifact.test_top1;
  accuracy.delta = test.top1 - base.artifact.test_top1;
  accuracy.agreement = kernels::agreement(test.predictions, base.artifact.test_predictions);
  accuracy.images = test_images.count;
  accuracy.correct = protocol::encode_bitset(test.correct);
  result.accuracy = accuracy;
  result.base_model =
      protocol::BaseModel{base.hash, base.cache_key, base.cache_hit, base.artifact.validation_top1};
  result.params_nonzero = model.nonzero_weights();
  result.sparsity = kernels::sparsity(model, base.artifact.model.weight_count());
  result.model_bytes = engine.model_bytes();
  result.weights = engine.weights();
  result.kernel = engine.kernel();
  for (const kernels::LayerKernel& layer : engine.layers()) {
    result.layers.push_back({layer.kernel, layer.impl});
  }
}

// Latency: each batch size rotates through normalized test images, more of them than the last
// level cache holds, so no call finds its input already cached. The batch sizes share one
// rotation buffer (the cases run one after another): slot s of batch b is images [s·b, (s+1)·b).
// One buffer per batch size would hold the same images several times over, which costs gigabytes
// where a machine reports a large last-level cache.
void measure_latency(const EvalRequest& request, kernels::InferenceEngine& engine,
                     const kernels::Mlp& model, const kernels::ImageSet& test_images,
                     protocol::Result& result) {
  const auto features = static_cast<std::size_t>(engine.inputs());
  const auto classes = static_cast<std::size_t>(engine.outputs());
  const std::int64_t llc = kernels::last_level_cache_bytes();
  const std::vector<int>& batches = request.measurement.batches;
  std::vector<int> slots(batches.size());
  std::size_t images = 0;
  int largest_batch = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const auto batch = static_cast<std::size_t>(batches[i]);
    slots[i] =
        kernels::rotation_slots(static_cast<std::int64_t>(batch * features * sizeof(float)), llc);
    images = std::max(images, static_cast<std::size_t>(slots[i]) * batch);
    largest_batch = std::max(largest_batch, batches[i]);
  }
  // Not cache-line aligned, on purpose for now: where the inputs start moves fp32 and int8 in
  // opposite directions here (aligned: fp32 −20 %, int8 +20 % at batch 16; 4K aliasing between
  // the input and a path's own buffers is the likely cause). A buffer this size is mmapped, so
  // its start is the same in every run, and so are the timings; the weights, whose place in the
  // heap did vary, are aligned (kernels/base/aligned_vector.h).
  std::vector<float> inputs(images * features);
  for (std::size_t image = 0; image < images; ++image) {
    const int source = static_cast<int>(image % static_cast<std::size_t>(test_images.count));
    kernels::normalize_images(model.normalization, test_images.image(source), 1,
                              static_cast<int>(features), inputs.data() + image * features);
  }
  std::vector<float> logits(static_cast<std::size_t>(largest_batch) * classes);

  std::vector<kernels::TimedCase> cases;
  const std::string family =
      fmt::format("mlp_{}/{}", fmt::join(model.layer_sizes(), "_"), request.config.precision);
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const int batch = batches[i];
    const std::size_t per_slot = static_cast<std::size_t>(batch) * features;
    kernels::TimedCase c;
    c.name = fmt::format("{}/batch:{}", family, batch);
    c.batch = batch;
    c.threads = request.threads;
    c.slots = slots[i];
    c.ops_per_call = 2.0 * static_cast<double>(model.multiply_adds_per_image()) * batch;
    c.bytes_per_call =
        static_cast<double>(engine.model_bytes()) +
        static_cast<double>(per_slot + static_cast<std::size_t>(batch) * classes) * sizeof(float);
    c.call = [&engine, &inputs, &logits, per_slot, batch](int slot) {
      engine.forward(inputs.data() + per_slot * static_cast<std::size_t>(slot), batch,
                     logits.data());
    };
    cases.push_back(std::move(c));
  }
  measure(request, cases, result);
}

}  // namespace

void run_mlp(const EvalRequest& request, protocol::Result& result) {
  const kernels::LabeledData data = kernels::load_fashion_mnist(request.data_dir);
  const kernels::TrainSpec spec = to_train_spec(request.config.mlp);
  const kernels::ModelCache cache(request.cache_dir);
  BaseAndTraining base = obtain_base(request, spec, data, cache, result);

  // The variant's float model: the base, or the base pruned and fine-tuned.
  kernels::Mlp pruned;
  double prune_seconds = 0.0;
  if (request.config.prune.active()) {
    PrunedVariant variant = prune_and_finetune(base.base.artifact.model, spec, request.config.mlp,
                                               request.config.prune, data.train);
    pruned = std::move(variant.model);
    prune_seconds = variant.seconds;
  }
  const kernels::Mlp& model = request.config.prune.active() ? pruned : base.base.artifact.model;

  const CalibrationImages calibration =
      calibration_images(kernels::split_validation(data.train, spec.validation_images).fit,
                         model.normalization, request.config.quant.calibration_samples);
  kernels::EngineChoice choice = choose_engine(request, model, spec, data, calibration.set, result);
  if (!choice.engine) {
    result.status = protocol::kStatusSkipped;
    result.reason = choice.skip_reason;
    return;
  }
  record_variant(*choice.engine, model, base.base, data.test, result);
  result.train_seconds = base.train_seconds + prune_seconds;
  measure_latency(request, *choice.engine, model, data.test, result);
}

}  // namespace lowbit::worker
