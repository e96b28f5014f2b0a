#include "kernels/int4_calibration.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace lowbit::kernels {

namespace {

// An input never seen nonzero in calibration still gets a little weight: the test images may
// use it. 10^-3 of the layer's mean importance keeps such groups near their plain least-squares
// fit without letting them outweigh the inputs that matter.
constexpr double kImportanceFloor = 1e-3;

LayerInputStats stats_of(const float* values, int count, int width) {
  LayerInputStats s;
  std::vector<double> square(static_cast<std::size_t>(width), 0.0);
  s.mean.assign(static_cast<std::size_t>(width), 0.0);
  for (int i = 0; i < count; ++i) {
    const float* row = values + static_cast<std::size_t>(i) * static_cast<std::size_t>(width);
    for (std::size_t k = 0; k < static_cast<std::size_t>(width); ++k) {
      s.mean[k] += row[k];
      square[k] += static_cast<double>(row[k]) * row[k];
    }
  }
  double total = 0.0;
  for (std::size_t k = 0; k < square.size(); ++k) {
    s.mean[k] /= count;
    square[k] /= count;
    total += square[k];
  }
  const double floor = kImportanceFloor * total / static_cast<double>(width);
  s.importance.resize(square.size());
  for (std::size_t k = 0; k < square.size(); ++k) {
    s.importance[k] = static_cast<float>(square[k] + floor);
  }
  return s;
}

}  // namespace

std::vector<LayerInputStats> layer_input_stats(const Mlp& model, const CalibrationSet& calibration) {
  if (calibration.count < 1 || calibration.images == nullptr) {
    throw std::invalid_argument("int4 calibration: no calibration images");
  }
  if (model.layers.empty() || calibration.features != model.layers.front().inputs) {
    throw std::invalid_argument("int4 calibration: images have " + std::to_string(calibration.features) +
                                " features, the model takes " +
                                std::to_string(model.layers.empty() ? 0 : model.layers.front().inputs));
  }
  const std::vector<std::vector<float>> hidden =
      calibration_hidden_outputs(model, calibration.images, calibration.count);
  std::vector<LayerInputStats> out;
  for (std::size_t l = 0; l < model.layers.size(); ++l) {
    const float* src = l == 0 ? calibration.images : hidden[l - 1].data();
    out.push_back(stats_of(src, calibration.count, model.layers[l].inputs));
  }
  return out;
}

std::vector<float> corrected_bias(const std::vector<float>& weights, const BlockQuantMatrix& quantized,
                                  const std::vector<float>& bias, const std::vector<double>& mean) {
  const std::vector<float> w_hat = dequantize_block_matrix(quantized);
  const auto cols = static_cast<std::size_t>(quantized.cols);
  std::vector<float> out(bias);
  for (std::size_t n = 0; n < static_cast<std::size_t>(quantized.rows); ++n) {
    double shift = 0.0;
    for (std::size_t k = 0; k < cols; ++k) {
      shift += (static_cast<double>(weights[n * cols + k]) - w_hat[n * cols + k]) * mean[k];
    }
    out[n] = static_cast<float>(bias[n] + shift);
  }
  return out;
}

}  // namespace lowbit::kernels
