#pragma once
// The base model of a training spec: loaded from the model cache, or trained,
// evaluated on the test set and stored there. Every variant of a sweep starts
// from it and reports its accuracy against it. With distillation the base model
// is the student trained on a teacher's soft targets; the teacher and the same
// student trained from scratch come from the cache too, so a sweep trains each
// of the three once.

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "kernels/model/dataset.h"
#include "kernels/train/model_cache.h"
#include "kernels/train/train.h"
#include "protocol/eval_config.h"

namespace lowbit::worker {

struct BaseModel {
  kernels::ModelArtifact artifact;
  std::string hash;
  std::string cache_key;
  bool cache_hit = false;
  double train_seconds = 0.0;  // 0 on a cache hit
};

kernels::TrainSpec to_train_spec(const protocol::MlpWorkload& workload);

// Whether a cache miss trains the model, or is an error: a variant job's worker must use the
// models its sweep's prepare job trained, never train its own.
enum class OnMiss { kTrain, kFail };

// Thrown on a cache miss under OnMiss::kFail.
struct ModelNotCached : std::runtime_error {
  using std::runtime_error::runtime_error;
};

BaseModel obtain_base_model(const kernels::TrainSpec& spec, const kernels::LabeledData& data,
                            const kernels::ModelCache& cache, OnMiss on_miss = OnMiss::kTrain);

// A distilled base model with the two models it is judged against.
struct DistilledModel {
  BaseModel student;  // distilled
  BaseModel teacher;
  BaseModel scratch;  // the student's spec trained on labels alone
  double train_seconds() const {
    return student.train_seconds + teacher.train_seconds + scratch.train_seconds;
  }
};

// The teacher is trained with `spec` but the teacher's layers. Throws std::invalid_argument for
// bad distillation options ("temperature: ...", "alpha: ...", "distill-from: ...").
DistilledModel obtain_distilled_model(const kernels::TrainSpec& spec,
                                      const protocol::DistillOptions& distill,
                                      const kernels::LabeledData& data,
                                      const kernels::ModelCache& cache,
                                      OnMiss on_miss = OnMiss::kTrain);

}  // namespace lowbit::worker
