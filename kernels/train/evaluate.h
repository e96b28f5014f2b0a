#pragma once
// Accuracy of an engine on a labeled image set, with the per-image record
// that paired comparisons need (agreement with a baseline, McNemar's test).

#include <cstdint>
#include <vector>

#include "kernels/engine/engine.h"
#include "kernels/model/dataset.h"

namespace lowbit::kernels {

struct Evaluation {
  double top1 = 0.0;
  std::vector<std::uint8_t> predictions;  // class per image
  std::vector<bool> correct;              // per image
};

inline constexpr int kEvaluationBatch = 1000;

Evaluation evaluate(InferenceEngine& engine, const InputNormalization& norm, const ImageSet& images,
                    int batch = kEvaluationBatch);

// Fraction of images on which the two prediction lists agree (same length).
double agreement(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b);

}  // namespace lowbit::kernels
