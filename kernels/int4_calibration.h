#pragma once
// What the int4 path learns from calibration images (training images, never validation or
// test) before it quantizes a model: per layer, the statistics of the inputs that layer sees in
// the fp32 model.
//
// Why: a group's weights matter in proportion to the inputs they multiply. The expected squared
// error that quantizing row n adds to output n is E[(Σ_k e_k a_k)²] = eᵀ E[a aᵀ] e with e = w − ŵ;
// its diagonal part Σ_k E[a_k²] e_k² is what the group search minimizes when given
// importance_k = E[a_k²] (kernels/block_quant.h) — so an input that is always 0 (a dead ReLU)
// costs nothing and a large, busy one costs more. And the mean part, (Σ_k e_k E[a_k])², is a
// shift of the output that the bias can take back exactly: b'_n = b_n + Σ_k e_nk · E[a_k]
// ("bias correction", Nagel et al. 2019, arXiv:1906.04721). Both matter most at 2 bits, where e
// is large.

#include <vector>

#include "kernels/block_quant.h"
#include "kernels/mlp.h"
#include "kernels/quantize.h"

namespace lowbit::kernels {

struct LayerInputStats {
  std::vector<float> importance;  // per input: E[a_k²], floored (see .cpp)
  std::vector<double> mean;       // per input: E[a_k]
};

// One entry per layer of `model`: layer 0's inputs are the calibration images, layer l's the
// fp32 ReLU outputs of layer l − 1. Throws std::invalid_argument when the images do not have
// the model's input width or there are none.
std::vector<LayerInputStats> layer_input_stats(const Mlp& model, const CalibrationSet& calibration);

// bias + (W − Ŵ) · mean: the bias that keeps the layer's mean output where the fp32 layer has
// it. `weights` rows × cols as quantized into `quantized`.
std::vector<float> corrected_bias(const std::vector<float>& weights, const BlockQuantMatrix& quantized,
                                  const std::vector<float>& bias, const std::vector<double>& mean);

}  // namespace lowbit::kernels
