#include "kernels/quant/int4_calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "kernels/base/half.h"

namespace lowbit::kernels {

namespace {

// An input never seen nonzero in calibration still gets a little weight: the test images may
// use it. 10^-3 of the layer's mean importance keeps such groups near their plain least-squares
// fit without letting them outweigh the inputs that matter.
constexpr double kImportanceFloor = 1e-3;

// GPTQ's damping: H + λ · mean(diag H) · I keeps the inverse well conditioned (the paper's 1 %).
constexpr double kDamping = 0.01;
constexpr int kGptqMaxCols = 1024;

LayerInputStats stats_of(const float* values, int count, int width) {
  LayerInputStats s;
  if (gptq_affordable(width)) {
    const auto w = static_cast<std::size_t>(width);
    s.second_moment.assign(w * w, 0.0);
    std::vector<double> row(w);
    for (int i = 0; i < count; ++i) {
      const float* a = values + static_cast<std::size_t>(i) * w;
      for (std::size_t k = 0; k < w; ++k) row[k] = a[k];
      for (std::size_t k = 0; k < w; ++k) {
        if (row[k] == 0.0) continue;  // ReLU outputs: mostly zeros
        double* h = s.second_moment.data() + k * w;
        for (std::size_t j = 0; j <= k; ++j) h[j] += row[k] * row[j];
      }
    }
    for (std::size_t k = 0; k < w; ++k) {
      for (std::size_t j = 0; j <= k; ++j) {
        s.second_moment[k * w + j] /= count;
        s.second_moment[j * w + k] = s.second_moment[k * w + j];
      }
    }
  }
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

std::vector<LayerInputStats> layer_input_stats(const Mlp& model,
                                               const CalibrationSet& calibration) {
  if (calibration.count < 1 || calibration.images == nullptr) {
    throw std::invalid_argument("int4 calibration: no calibration images");
  }
  if (model.layers.empty() || calibration.features != model.layers.front().inputs) {
    throw std::invalid_argument(
        "int4 calibration: images have " + std::to_string(calibration.features) +
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

bool gptq_affordable(int cols) { return cols <= kGptqMaxCols; }

namespace {

// In place: the lower Cholesky factor L of the symmetric positive definite n × n matrix a
// (a = L Lᵀ); the upper triangle is zeroed. False when a pivot is not positive.
bool cholesky_lower(std::vector<double>& a, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (std::size_t i = j + 1; i < n; ++i) {
      double v = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) v -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = v / d;
    }
    for (std::size_t i = 0; i < j; ++i) a[i * n + j] = 0.0;
  }
  return true;
}

// U upper with H⁻¹ = Uᵀ U, from H (damped): what GPTQ's updates use. Empty when H is not
// positive definite even after damping.
std::vector<double> inverse_cholesky_upper(std::vector<double> h, std::size_t n) {
  double mean_diag = 0.0;
  for (std::size_t k = 0; k < n; ++k) mean_diag += h[k * n + k];
  mean_diag /= static_cast<double>(n);
  for (std::size_t k = 0; k < n; ++k) {
    if (h[k * n + k] == 0.0) h[k * n + k] = 1.0;  // a dead input: its weights cannot matter
    h[k * n + k] += kDamping * (mean_diag > 0.0 ? mean_diag : 1.0);
  }
  if (!cholesky_lower(h, n)) return {};
  // L⁻¹ (lower), by forward substitution column by column.
  std::vector<double> inv(n * n, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    inv[j * n + j] = 1.0 / h[j * n + j];
    for (std::size_t i = j + 1; i < n; ++i) {
      double v = 0.0;
      for (std::size_t k = j; k < i; ++k) v -= h[i * n + k] * inv[k * n + j];
      inv[i * n + j] = v / h[i * n + i];
    }
  }
  // H⁻¹ = L⁻ᵀ L⁻¹.
  std::vector<double> hinv(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      double v = 0.0;
      for (std::size_t k = i; k < n; ++k) v += inv[k * n + i] * inv[k * n + j];
      hinv[i * n + j] = v;
      hinv[j * n + i] = v;
    }
  }
  if (!cholesky_lower(hinv, n)) return {};
  // U = L₂ᵀ.
  std::vector<double> u(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j) u[j * n + i] = hinv[i * n + j];
  }
  return u;
}

}  // namespace

BlockQuantMatrix gptq_quantize(std::span<const float> weights, int rows, int cols,
                               const BlockQuantSpec& spec, const LayerInputStats& stats) {
  check_block_quant_spec(spec);
  const auto n = static_cast<std::size_t>(cols);
  const auto r_count = static_cast<std::size_t>(rows);
  if (stats.second_moment.size() != n * n || weights.size() != r_count * n) {
    throw std::invalid_argument("gptq_quantize: statistics or weights do not match " +
                                std::to_string(rows) + " × " + std::to_string(cols));
  }
  const std::vector<double> u = inverse_cholesky_upper(stats.second_moment, n);
  if (u.empty()) {
    return quantize_block_matrix(weights, rows, cols, spec, stats.importance);
  }
  const auto group = static_cast<std::size_t>(spec.group_size);
  const std::size_t groups = (n + group - 1) / group;
  const std::size_t padded = groups * group;
  const int qmax = (1 << spec.bits) - 1;
  std::vector<double> w(weights.begin(), weights.end());
  std::vector<std::uint8_t> codes(r_count * padded, 0);
  std::vector<GroupParams> params(r_count * groups);
  std::vector<float> x(group);
  std::vector<std::uint8_t> scratch(group);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t first = g * group;
    const std::size_t real = std::min(group, n - first);
    for (std::size_t r = 0; r < r_count; ++r) {
      for (std::size_t i = 0; i < real; ++i) {
        // A pruned weight will take the zero code whatever it became: search without it.
        x[i] = weights[r * n + first + i] == 0.0f ? 0.0f : static_cast<float>(w[r * n + first + i]);
      }
      params[r * groups + g] = quantize_group(std::span(x).first(real), spec.bits, spec.scheme,
                                              spec.search, std::span(scratch).first(real),
                                              std::span(stats.importance).subspan(first, real));
      for (std::size_t i = real; i < group; ++i)
        codes[r * padded + first + i] = params[r * groups + g].zero_point;
    }
    for (std::size_t k = first; k < first + real; ++k) {
      const double pivot = u[k * n + k];
      for (std::size_t r = 0; r < r_count; ++r) {
        const GroupParams p = params[r * groups + g];
        const double d = half_to_float(p.scale);
        double* row = w.data() + r * n;
        int code = p.zero_point;
        if (weights[r * n + k] != 0.0f && d != 0.0) {
          code = std::clamp(static_cast<int>(std::lround(row[k] / d)) + p.zero_point, 0, qmax);
        }
        codes[r * padded + k] = static_cast<std::uint8_t>(code);
        const double err = (row[k] - d * (code - p.zero_point)) / pivot;
        const double* u_row = u.data() + k * n;
        for (std::size_t j = k + 1; j < n; ++j) row[j] -= err * u_row[j];
      }
    }
  }
  return pack_block_matrix(rows, cols, spec, codes, params);
}

std::vector<float> corrected_bias(std::span<const float> weights, const BlockQuantMatrix& quantized,
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
