#pragma once
// The base model of a training spec: loaded from the model cache, or trained,
// evaluated on the test set and stored there. Every variant of a sweep starts
// from it and reports its accuracy against it.

#include <functional>
#include <string>

#include "kernels/dataset.h"
#include "kernels/model_cache.h"
#include "kernels/train.h"
#include "protocol/eval_config.h"

namespace lowbit::worker {

struct BaseModel {
  kernels::ModelArtifact artifact;
  std::string hash;
  std::string cache_key;
  bool cache_hit = false;
  double train_seconds = 0.0;
};

kernels::TrainSpec to_train_spec(const protocol::MlpWorkload& workload);

BaseModel obtain_base_model(const kernels::TrainSpec& spec, const kernels::LabeledData& data,
                            const kernels::ModelCache& cache);

}  // namespace lowbit::worker
