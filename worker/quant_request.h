#pragma once
// From a config's quantization options to what the engine registry takes:
// the QuantSpec, and for the MLP the calibration images (the first N images
// of the training split the model was fitted on — never validation, never
// test).

#include <vector>

#include "kernels/model/dataset.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"
#include "protocol/eval_config.h"

namespace lowbit::worker {

// Throws std::invalid_argument naming the option for a value outside its set.
kernels::QuantSpec to_quant_spec(const protocol::EvalConfig& config);

// Normalized calibration images, owned.
struct CalibrationImages {
  std::vector<float> values;
  kernels::CalibrationSet set;
};

// The first min(samples, fit.count) images of `fit`, normalized as the model
// expects.
CalibrationImages calibration_images(const kernels::ImageSet& fit,
                                     const kernels::InputNormalization& normalization, int samples);

}  // namespace lowbit::worker
