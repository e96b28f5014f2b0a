#pragma once
// Affine quantization r = S·(q − Z), as PyTorch's observers and TFLite define
// it: the range always includes zero; symmetric ranges have Z = 0 in a signed
// code (the midpoint, e.g. 128, in an unsigned one, as PyTorch's quint8);
// per-channel parameters are per output row of a [out][in] weight matrix.
// Weights of b bits (2..8) live in an int8 container. Activations are
// calibrated on training images by min-max, a percentile, or an
// error-minimizing search.
//
// Errors: bad arguments (bits outside 2..8, sizes that do not match the shape,
// NaN or infinite values where a range is computed, lo > hi) throw
// std::invalid_argument.

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernels/model/mlp.h"

namespace lowbit::kernels {

enum class QuantScheme : std::uint8_t { kSymmetric, kAsymmetric };
enum class QuantGranularity : std::uint8_t { kPerTensor, kPerChannel };
enum class Calibration : std::uint8_t { kMinMax, kPercentile, kMse };

std::string to_string(QuantScheme s);                               // "sym", "asym"
std::string to_string(QuantGranularity g);                          // "tensor", "channel"
std::string to_string(Calibration c);                               // "minmax", "percentile", "mse"
QuantScheme parse_quant_scheme(const std::string& text);            // throws std::invalid_argument
QuantGranularity parse_quant_granularity(const std::string& text);  // throws std::invalid_argument
Calibration parse_calibration(const std::string& text);             // throws std::invalid_argument

// The integer range of a b-bit code: signed [−2^(b−1), 2^(b−1) − 1] or
// unsigned [0, 2^b − 1]. Symmetric signed weights use [−(2^(b−1) − 1), 2^(b−1) − 1]
// (e.g. [−127, 127] at 8 bits) so that −q is representable; asymmetric weights
// use the full signed range. bits must be in 2..8 (an int8/uint8 container).
struct QuantRange {
  std::int32_t qmin = 0;
  std::int32_t qmax = 0;
};
QuantRange weight_range(int bits, QuantScheme scheme);
QuantRange activation_range(int bits, bool is_unsigned);

// One scale and zero point per channel (or one for the whole tensor).
struct QuantParams {
  std::vector<float> scale;
  std::vector<std::int32_t> zero_point;
  QuantRange range;
  bool per_channel() const { return scale.size() > 1; }
};

// Parameters from a range [lo, hi] (extended to include 0), computed in float
// as PyTorch's observers do, so the results agree with them bit for bit:
// symmetric: S = max(−lo, hi) / ((qmax − qmin) / 2), Z = 0 for a signed code,
//            (qmin + qmax + 1) / 2 for an unsigned one (qmin = 0);
// affine: S = (hi − lo) / (qmax − qmin), Z = clamp(qmin − round(lo / S), qmin, qmax),
//         round with ties to even (torch.round).
// S ≥ machine epsilon (FLT_EPSILON); the all-zero range lo = hi = 0 gives S = 1
// and the scheme's Z (0, or the midpoint for symmetric unsigned). Either way
// 0 is exactly representable: it quantizes to Z. Throws for NaN/inf or lo > hi.
void params_from_range(float lo, float hi, QuantScheme scheme, QuantRange range, float& scale,
                       std::int32_t& zero_point);

// Weight parameters for a rows × cols matrix ([out][in]), from min/max per
// row (per channel) or over the whole matrix.
QuantParams choose_weight_params(std::span<const float> weights, int rows, int cols, int bits,
                                 QuantScheme scheme, QuantGranularity granularity);

// q = clamp(round(x / S) + Z, qmin, qmax), round half away from zero (std::lround),
// x / S in float. Clamping before rounding gives the same code (round is
// monotone and the bounds are integers) and keeps ±inf and huge values out of
// lround: they saturate to qmin/qmax. x must not be NaN.
inline std::int32_t quantize_value(float x, float scale, std::int32_t zero_point,
                                   QuantRange range) {
  const float v = x / scale;
  const auto lo = static_cast<float>(range.qmin - zero_point);
  const auto hi = static_cast<float>(range.qmax - zero_point);
  const float clamped = v < lo ? lo : (v > hi ? hi : v);
  return static_cast<std::int32_t>(std::lround(clamped)) + zero_point;
}

// q = clamp(round(w / S) + Z, qmin, qmax) per element (quantize_value), with the
// row's parameters when per channel. dst has rows · cols elements.
void quantize_weights(std::span<const float> weights, int rows, int cols, const QuantParams& params,
                      std::span<std::int8_t> dst);
// w ≈ S · (q − Z), in float: S · float(q − Z), one rounding.
void dequantize_weights(std::span<const std::int8_t> q, int rows, int cols,
                        const QuantParams& params, std::span<float> dst);

// Quantize-dequantize in one step (the "simulated" weights of a float mode).
std::vector<float> fake_quantize_weights(std::span<const float> weights, int rows, int cols,
                                         int bits, QuantScheme scheme,
                                         QuantGranularity granularity);

// Activation parameters (per tensor) from calibration samples (every value of
// a layer's input over N images). kPercentile clips at the given percentile of
// |x| (symmetric) or of the low and high tails (affine); kMse searches the
// clipping range that minimizes the mean squared quantize-dequantize error.
// Percentiles are numpy's default ("linear") definition; the affine one takes
// the (100 − p)-th and p-th percentiles of x. Every range is then extended to
// include 0. kMse's search is in calibration.cpp; its result never has a
// larger error over the samples than kMinMax's.
// Throws for empty samples, NaN or infinite samples, and (kPercentile) p
// outside [50, 100].
QuantParams calibrate_activation(std::span<const float> samples, int bits, bool is_unsigned,
                                 QuantScheme scheme, Calibration method, double percentile = 99.99);

// Everything a quantized compute path needs to know about the variant.
struct QuantSpec {
  int bits = 8;  // weight bits, 2..8
  QuantScheme scheme = QuantScheme::kSymmetric;
  QuantGranularity granularity = QuantGranularity::kPerChannel;
  bool static_activations = true;  // false: activation ranges from each batch
  Calibration calibration =
      Calibration::kMse;  // never worse than min-max; see calibrate_activation
  int calibration_samples = 1024;
  double percentile = 99.99;
};

// Normalized training images (count × features, row-major) that static
// activation calibration runs the model on. Never test images.
struct CalibrationSet {
  const float* images = nullptr;
  int count = 0;
  int features = 0;
};

// The ReLU outputs of the hidden layers of `model` over `count` images, as the fp32 reference
// computes them (plain loops: no thread-count dependence, so calibration is the same on every
// target): [l] is the output of layer l, the src of layer l + 1. What static calibration
// collects its activation samples from.
std::vector<std::vector<float>> calibration_hidden_outputs(const Mlp& model, const float* images,
                                                           int count);

}  // namespace lowbit::kernels
