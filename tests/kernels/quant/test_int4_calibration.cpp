// What the int4 path learns from calibration images (kernels/quant/int4_calibration.h): GPTQ lowers
// the layer's output error on the data it was fitted on, keeps pruned weights exactly 0, and
// bias correction puts the mean output back where the fp32 layer has it.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <vector>

#include "kernels/base/random.h"
#include "kernels/quant/block_quant.h"
#include "kernels/quant/int4_calibration.h"
#include "tests/kernels/engine_test_support.h"

using namespace lowbit::kernels;
using namespace lowbit::kernels::testing;

namespace {

// Inputs with structure, as a layer sees them: a few shared factors plus noise, and a mean
// away from 0, so that H = E[a aᵀ] has large off-diagonal terms for GPTQ to use.
std::vector<float> correlated_inputs(std::uint64_t seed, int count, int width) {
  Rng rng(seed);
  constexpr int kFactors = 4;
  std::vector<float> mix(static_cast<std::size_t>(kFactors) * static_cast<std::size_t>(width));
  for (float& v : mix) v = static_cast<float>(rng.normal());
  std::vector<float> a(element_count(count, width));
  for (int i = 0; i < count; ++i) {
    double f[kFactors];
    for (double& v : f) v = rng.normal();
    for (int k = 0; k < width; ++k) {
      double v = 0.5 + 0.1 * rng.normal();
      for (int j = 0; j < kFactors; ++j)
        v += f[j] * mix[element_count(j, width) + static_cast<std::size_t>(k)];
      a[element_count(i, width) + static_cast<std::size_t>(k)] = static_cast<float>(v);
    }
  }
  return a;
}

// Mean over the inputs of Σ_n ((W − Ŵ) a)_n².
double output_error(std::span<const float> w, const std::vector<float>& w_hat,
                    const std::vector<float>& a, int rows, int cols, int count) {
  double total = 0.0;
  for (int i = 0; i < count; ++i) {
    for (int n = 0; n < rows; ++n) {
      double e = 0.0;
      for (int k = 0; k < cols; ++k) {
        const std::size_t at = element_count(n, cols) + static_cast<std::size_t>(k);
        e += (static_cast<double>(w[at]) - w_hat[at]) *
             a[element_count(i, cols) + static_cast<std::size_t>(k)];
      }
      total += e * e;
    }
  }
  return total / count;
}

}  // namespace

TEST_CASE("int4 calibration: GPTQ lowers the output error on its data and keeps pruned zeros") {
  const int rows = 12;
  const int cols = 100;  // not a multiple of any group
  const int count = 400;
  const std::vector<float> a = correlated_inputs(5, count, cols);
  Mlp model = random_model({cols, rows}, 6);
  auto& w = model.layers[0].weights;
  for (std::size_t i = 0; i < w.size(); i += 3) w[i] = 0.0f;  // a third pruned
  const std::vector<LayerInputStats> stats = layer_input_stats(model, {a.data(), count, cols});
  REQUIRE(stats.size() == 1);
  REQUIRE(stats[0].second_moment.size() == static_cast<std::size_t>(cols * cols));
  for (const int bits : {2, 3, 4}) {
    for (const int group : {32, 64}) {
      CAPTURE(bits);
      CAPTURE(group);
      const BlockQuantSpec spec{bits, group, QuantScheme::kAsymmetric, ScaleSearch::kSearch};
      const std::vector<float> plain =
          dequantize_block_matrix(quantize_block_matrix(w, rows, cols, spec));
      const std::vector<float> gptq =
          dequantize_block_matrix(gptq_quantize(w, rows, cols, spec, stats[0]));
      for (std::size_t i = 0; i < w.size(); ++i) {
        if (w[i] == 0.0f) CHECK(gptq[i] == 0.0f);
      }
      const double e_plain = output_error(w, plain, a, rows, cols, count);
      const double e_gptq = output_error(w, gptq, a, rows, cols, count);
      MESSAGE("bits " << bits << " G " << group << ": output error plain " << e_plain << ", GPTQ "
                      << e_gptq);
      CHECK(e_gptq < e_plain);
    }
  }
}

TEST_CASE("int4 calibration: bias correction restores the fp32 layer's mean output") {
  const int rows = 7;
  const int cols = 70;
  const int count = 300;
  const std::vector<float> a = correlated_inputs(9, count, cols);
  const Mlp model = random_model({cols, rows}, 10);
  const DenseLayer& layer = model.layers[0];
  const std::vector<LayerInputStats> stats = layer_input_stats(model, {a.data(), count, cols});
  const BlockQuantMatrix q = quantize_block_matrix(
      layer.weights, rows, cols, {2, 32, QuantScheme::kAsymmetric, ScaleSearch::kSearch});
  const std::vector<float> w_hat = dequantize_block_matrix(q);
  const std::vector<float> bias = corrected_bias(layer.weights, q, layer.bias, stats[0].mean);
  for (int n = 0; n < rows; ++n) {
    double fp32 = 0.0;
    double quantized = 0.0;
    double scale = 0.0;
    for (int i = 0; i < count; ++i) {
      for (int k = 0; k < cols; ++k) {
        const std::size_t at = element_count(n, cols) + static_cast<std::size_t>(k);
        const double x = a[element_count(i, cols) + static_cast<std::size_t>(k)];
        fp32 += layer.weights[at] * x;
        quantized += w_hat[at] * x;
        scale += std::fabs(layer.weights[at] * x);
      }
    }
    fp32 = fp32 / count + layer.bias[static_cast<std::size_t>(n)];
    quantized = quantized / count + bias[static_cast<std::size_t>(n)];
    // The correction is exact in real arithmetic; what is left is the float rounding of the
    // new bias and of the stats (a few ulps of the terms summed).
    CHECK(std::fabs(quantized - fp32) <= 1e-5 * (1.0 + scale / count));
  }
  CHECK_THROWS_AS(layer_input_stats(model, {a.data(), count, cols + 1}), std::invalid_argument);
}
