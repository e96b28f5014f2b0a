#include "kernels/train/distill.h"

#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "kernels/engine/engine_fp32.h"
#include "kernels/train/loss.h"

namespace lowbit::kernels {

void check_distill_layers(const std::vector<int>& student, const std::vector<int>& teacher) {
  check_layer_sizes(student);
  if (teacher.size() < 2)
    throw std::invalid_argument(
        "distill-from: the teacher needs at least an input and an output size");
  for (int size : teacher) {
    if (size < 1)
      throw std::invalid_argument(
          fmt::format("distill-from: layer sizes must be ≥ 1, got {}", size));
  }
  // The teacher must read the student's images and score the same classes.
  if (teacher.front() != student.front()) {
    throw std::invalid_argument(
        fmt::format("distill-from: the teacher takes {} inputs but the student {}", teacher.front(),
                    student.front()));
  }
  if (teacher.back() != student.back()) {
    throw std::invalid_argument(
        fmt::format("distill-from: the teacher has {} outputs but the student {}", teacher.back(),
                    student.back()));
  }
}

void check_distill_spec(const DistillSpec& spec) {
  if (!(std::isfinite(spec.temperature) && spec.temperature > 0.0)) {
    throw std::invalid_argument(
        fmt::format("temperature: must be a finite number > 0, got {}", spec.temperature));
  }
  if (!(spec.alpha >= 0.0 && spec.alpha <= 1.0)) {  // also refuses NaN
    throw std::invalid_argument(fmt::format("alpha: must be in [0, 1], got {}", spec.alpha));
  }
}

TrainResult train_distilled(const TrainSpec& student, const Mlp& teacher,
                            const DistillSpec& distill, const ImageSet& train,
                            const EpochCallback& on_epoch) {
  check_distill_spec(distill);
  check_distill_layers(student.layers, teacher.layer_sizes());
  const std::unique_ptr<InferenceEngine> teacher_engine = make_fp32_openblas_engine(teacher);
  std::vector<float> teacher_src;
  std::vector<float> teacher_logits;
  const BatchLoss loss = [&](const MiniBatch& batch, const float* logits, int classes,
                             float* dlogits) {
    teacher_src.resize(static_cast<std::size_t>(batch.count) *
                       static_cast<std::size_t>(batch.features));
    teacher_logits.resize(static_cast<std::size_t>(batch.count) *
                          static_cast<std::size_t>(classes));
    // The teacher's own normalization: it may have been fitted on other images than the student's.
    normalize_images(teacher.normalization, batch.pixels, batch.count, batch.features,
                     teacher_src.data());
    teacher_engine->forward(teacher_src.data(), batch.count, teacher_logits.data());
    return distillation_loss(logits, teacher_logits.data(), batch.labels, batch.count, classes,
                             distill.temperature, distill.alpha, dlogits);
  };
  return train_mlp_with_loss(student, train, loss, on_epoch);
}

}  // namespace lowbit::kernels
