#pragma once
// An Mlp converted, once, into what integer-only inference (gemmlowp / TFLite; Jacob et al. 2018,
// arXiv:1712.05877; docs/precision.md "fixed") computes with: int8 weights at b bits,
// uint8 activation parameters calibrated statically on training images, int32 biases with the
// zero-point cross term folded in, and a Q31 multiplier per output channel. The engine
// (engine_fixed.h) only runs it; keeping the conversion here lets tests look at the parameters.
//
// Scheme: weights symmetric (Z_w = 0, which is what makes the Z_w·Σq_x cross terms vanish), per
// output channel or per tensor (spec.granularity); QuantSpec::scheme and static_activations are
// not read — the registry refuses asymmetric weights and dynamic activations for this path;
// activations uint8 affine per tensor, static (an integer-only path cannot measure ranges per
// batch).

#include <cstdint>
#include <vector>

#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

struct FixedLayer {
  int inputs = 0;
  int outputs = 0;
  std::vector<std::int8_t> weights;  // outputs × inputs, in weight_range(bits, kSymmetric)
  // q_b[c] − Z_x·Σ_k q_w[c][k], q_b[c] = round(b[c] / (S_x·S_w[c])); clamped so that
  // acc + bias stays inside int32 for every possible accumulator.
  std::vector<std::int32_t> bias;
  float src_scale = 1.0f;  // S_x
  std::int32_t src_zero_point = 0;
  std::vector<float> weight_scale;  // S_w[c]

  // Hidden layers: the uint8 output, which is the next layer's src.
  std::vector<std::int32_t> multiplier;  // M0[c] for M[c] = S_x·S_w[c] / S_y
  std::vector<std::int32_t> exponent;
  float dst_scale = 1.0f;  // S_y
  std::int32_t dst_zero_point = 0;
  std::int32_t act_min = 0;  // max(0, Z_y): ReLU is the clamp
  std::int32_t act_max = 255;

  // The last layer: logits[c] = (acc + bias[c]) · logit_scale[c], logit_scale = S_x·S_w[c].
  std::vector<double> logit_scale;
};

struct FixedModel {
  int bits = 8;
  std::vector<FixedLayer> layers;  // layers[0].src_* quantize the normalized images

  int inputs() const { return layers.front().inputs; }
  int outputs() const { return layers.back().outputs; }
  // The bytes the arrays above occupy: int8 weights, int32 biases, per-channel multipliers and
  // exponents (hidden) or logit scales (last); the per-tensor scalars are not counted.
  std::int64_t bytes() const;
};

// Calibrates on the first min(calibration.count, spec.calibration_samples) images (all of them
// when calibration_samples ≤ 0) by running the fp32 model with the reference GEMM (so the
// parameters depend on the model and the images only, not on a thread count), then quantizes.
// Throws std::invalid_argument naming the problem: bits outside 2..8, an empty calibration set,
// images whose width is not the model's input, a layer deeper than int32 accumulation allows.
FixedModel quantize_fixed_model(const Mlp& model, const QuantSpec& spec,
                                const CalibrationSet& calibration);

}  // namespace lowbit::kernels
