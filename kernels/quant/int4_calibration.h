#pragma once
// What the int4 path learns from calibration images (training images, never validation or
// test) before it quantizes a model: per layer, the statistics of the inputs that layer sees in
// the fp32 model.
//
// Why: a group's weights matter in proportion to the inputs they multiply. The expected squared
// error that quantizing row n adds to output n is E[(Σ_k e_k a_k)²] = eᵀ E[a aᵀ] e with e = w − ŵ;
// its diagonal part Σ_k E[a_k²] e_k² is what the group search minimizes when given
// importance_k = E[a_k²] (kernels/quant/block_quant.h) — so an input that is always 0 (a dead ReLU)
// costs nothing and a large, busy one costs more. And the mean part, (Σ_k e_k E[a_k])², is a
// shift of the output that the bias can take back exactly: b'_n = b_n + Σ_k e_nk · E[a_k]
// ("bias correction", Nagel et al. 2019, arXiv:1906.04721). Both matter most at 2 bits, where e
// is large.

#include <vector>

#include "kernels/model/mlp.h"
#include "kernels/quant/block_quant.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

struct LayerInputStats {
  std::vector<float> importance;      // per input: E[a_k²], floored (see .cpp)
  std::vector<double> mean;           // per input: E[a_k]
  std::vector<double> second_moment;  // inputs × inputs, E[a aᵀ]; empty when not affordable
};

// One entry per layer of `model`: layer 0's inputs are the calibration images, layer l's the
// fp32 ReLU outputs of layer l − 1. Throws std::invalid_argument when the images do not have
// the model's input width or there are none.
std::vector<LayerInputStats> layer_input_stats(const Mlp& model, const CalibrationSet& calibration);

// GPTQ (Frantar et al. 2022, arXiv:2210.17323) with groups: the columns are quantized in order,
// and each column's rounding error, scaled by the inverse of the inputs' second-moment matrix
// H = E[a aᵀ], is pushed onto the columns not yet quantized, so later weights make up for
// earlier rounding — the off-diagonal part of the output error that the diagonal weighting
// ignores. A group's scale and zero point are searched (importance-weighted) on its weights as
// updated when the group is reached. Weights that are exactly 0 (pruned) keep the zero code, so
// they stay exactly 0; their error is propagated like any other (as SparseGPT does).
// Costs O(cols³ + rows · cols²): gptq_affordable says when stats carry H (cols ≤ 1024).
bool gptq_affordable(int cols);
BlockQuantMatrix gptq_quantize(std::span<const float> weights, int rows, int cols,
                               const BlockQuantSpec& spec, const LayerInputStats& stats);

// bias + (W − Ŵ) · mean: the bias that keeps the layer's mean output where the fp32 layer has
// it. `weights` rows × cols as quantized into `quantized`.
std::vector<float> corrected_bias(std::span<const float> weights, const BlockQuantMatrix& quantized,
                                  const std::vector<float>& bias, const std::vector<double>& mean);

}  // namespace lowbit::kernels
