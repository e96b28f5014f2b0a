// One group of kernels/quant/block_quant.h: min-max parameters, the clipping-grid search with least
// squares refinement, and the error both are scored by.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/base/half.h"
#include "kernels/quant/block_quant.h"

namespace lowbit::kernels {

namespace {

constexpr int kMaxGroup = 128;
constexpr float kHalfMax = 65504.0f;

// Round half to even for |v| < 2^22: adding 1.5 · 2^23 pushes the fraction bits out of the
// float, and IEEE addition rounds them to even. Plain float arithmetic, so the loop vectorizes
// (std::nearbyint is a libm call without SSE4.1, and this runs for every weight and candidate).
float round_half_even(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 · 2^23
  return (v + kMagic) - kMagic;
}

std::uint16_t to_half_clamped(double d) {
  const double clamped =
      std::clamp(d, -static_cast<double>(kHalfMax), static_cast<double>(kHalfMax));
  return float_to_half(static_cast<float>(clamped));
}

// The clipping factors the search tries, widest first (1 = the min-max range).
constexpr std::array<float, 11> kClip = {1.0f, 0.95f, 0.9f, 0.85f, 0.8f, 0.75f,
                                         0.7f, 0.65f, 0.6f, 0.55f, 0.5f};

// The finer grid of clipping factors for the scale of one end: 1 down to 0.3.
constexpr int kFineSteps = 29;
double fine_clip(int i) { return 1.0 - 0.025 * i; }

// Keeps the best (scale, z, codes) seen; every candidate is scored with its half-rounded scale,
// exactly as dequantize_code will reconstruct it.
class GroupSearch {
 public:
  // `importance`: one weight ≥ 0 per element, or empty for all 1.
  GroupSearch(std::span<const float> x, int bits, std::span<const float> importance)
      : x_(x), h_(importance), qmax_((1 << bits) - 1) {}

  // Encodes with scale `d` (rounded to half) and zero point z; keeps it if it is the best so
  // far. Returns the squared error.
  double try_scale(double d, int z) {
    z = std::clamp(z, 0, qmax_);
    const std::uint16_t half = to_half_clamped(d);
    const double error = encode(half_to_float(half), z, trial_.data());
    if (error < best_error_) {
      best_error_ = error;
      best_ = {half, static_cast<std::uint8_t>(z)};
      std::memcpy(best_codes_.data(), trial_.data(), x_.size());
    }
    return error;
  }

  // Least squares for the best candidate's codes: the d minimizing Σ (x − d·(u − z))² with u
  // and z fixed, then re-encoded. Repeats while it helps (each round can only lower the error
  // of the kept candidate, so it terminates; the cap keeps the cost bounded).
  void refine_scale() {
    for (int round = 0; round < 3; ++round) {
      const double before = best_error_;
      double num = 0.0;
      double den = 0.0;
      for (std::size_t i = 0; i < x_.size(); ++i) {
        const double q = static_cast<double>(best_codes_[i]) - best_.zero_point;
        num += h(i) * static_cast<double>(x_[i]) * q;
        den += h(i) * q * q;
      }
      if (den == 0.0) return;
      try_scale(num / den, best_.zero_point);
      if (!(best_error_ < before)) return;
    }
  }

  // For the best codes, the affine fit x ≈ d·u + m (both free), then z = round(−m / d) and d
  // refit for that z: lets the asymmetric zero point move off the one min-max chose.
  void refine_zero_point() {
    double n = 0, su = 0, sx = 0, suu = 0, sux = 0;
    for (std::size_t i = 0; i < x_.size(); ++i) {
      const double u = best_codes_[i];
      n += h(i);
      su += h(i) * u;
      sx += h(i) * x_[i];
      suu += h(i) * u * u;
      sux += h(i) * u * static_cast<double>(x_[i]);
    }
    if (n == 0.0) return;
    const double det = n * suu - su * su;
    if (det <= 0.0) return;
    const double d = (n * sux - su * sx) / det;
    const double m = (sx - d * su) / n;
    if (!(d > 0.0)) return;
    const int z =
        static_cast<int>(std::lround(std::clamp(-m / d, 0.0, static_cast<double>(qmax_))));
    // The scale of that z for the current codes, then encode.
    double num = 0.0;
    double den = 0.0;
    for (std::size_t i = 0; i < x_.size(); ++i) {
      const double q = static_cast<double>(best_codes_[i]) - z;
      num += h(i) * static_cast<double>(x_[i]) * q;
      den += h(i) * q * q;
    }
    if (den > 0.0) try_scale(num / den, z);
  }

  double best_error() const { return best_error_; }
  GroupParams best() const { return best_; }
  void copy_codes(std::span<std::uint8_t> codes) const {
    std::memcpy(codes.data(), best_codes_.data(), x_.size());
  }

 private:
  double encode(float d, int z, std::uint8_t* codes) const {
    double error = 0.0;
    if (d == 0.0f) {  // a scale that rounds to 0: every weight reconstructs as 0
      for (std::size_t i = 0; i < x_.size(); ++i) {
        codes[i] = static_cast<std::uint8_t>(z);
        error += h(i) * static_cast<double>(x_[i]) * x_[i];
      }
      return error;
    }
    const float inverse = 1.0f / d;
    const auto lo = static_cast<float>(-z);
    const auto hi = static_cast<float>(qmax_ - z);
    for (std::size_t i = 0; i < x_.size(); ++i) {
      // 0 · inverse = ±0 rounds to 0: a zero weight always gets the code z.
      const float q = round_half_even(std::clamp(x_[i] * inverse, lo, hi));
      codes[i] = static_cast<std::uint8_t>(static_cast<int>(q) + z);
      const float reconstructed = d * q;  // dequantize_code's arithmetic
      const double diff = static_cast<double>(x_[i]) - reconstructed;
      error += h(i) * diff * diff;
    }
    return error;
  }

  double h(std::size_t i) const { return h_.empty() ? 1.0 : static_cast<double>(h_[i]); }

  std::span<const float> x_;
  std::span<const float> h_;
  int qmax_;
  double best_error_ = INFINITY;
  GroupParams best_;
  std::array<std::uint8_t, kMaxGroup> trial_{};
  std::array<std::uint8_t, kMaxGroup> best_codes_{};
};

// Symmetric: the element m of largest |x| goes to the extreme code −2^(b−1) (d = m / −2^(b−1),
// negative when m > 0: Q4_0 uses the extra negative code for the larger side); the search also
// tries putting it at +(2^(b−1) − 1), and clipped versions of both.
void search_symmetric(GroupSearch& search, std::span<const float> x, int bits, ScaleSearch mode) {
  float m = 0.0f;
  for (float v : x) {
    if (std::fabs(v) > std::fabs(m)) m = v;
  }
  const int z = symmetric_zero_point(bits);
  const double to_negative_end = static_cast<double>(m) / -z;
  search.try_scale(to_negative_end, z);  // min-max: the first candidate
  if (mode == ScaleSearch::kMinMax) return;
  const double to_positive_end = static_cast<double>(m) / (z - 1);
  for (int i = 0; i < kFineSteps; ++i) {
    const double c = fine_clip(i);
    search.try_scale(to_negative_end * c, z);
    search.try_scale(to_positive_end * c, z);
  }
  search.refine_scale();
}

// The asymmetric parameters of the clipped range [lo, hi] (lo ≤ 0 ≤ hi, not both 0).
void try_range(GroupSearch& search, double lo, double hi, int qmax) {
  const double d = (hi - lo) / qmax;
  search.try_scale(d, static_cast<int>(std::lround(-lo / d)));
}

void search_asymmetric(GroupSearch& search, std::span<const float> x, int bits, ScaleSearch mode) {
  const int qmax = (1 << bits) - 1;
  double lo = 0.0;
  double hi = 0.0;
  for (float v : x) {
    lo = std::min(lo, static_cast<double>(v));
    hi = std::max(hi, static_cast<double>(v));
  }
  try_range(search, lo, hi, qmax);  // min-max: the first candidate
  if (mode == ScaleSearch::kMinMax) return;
  // Both ends clipped alike, then each end on its own around the best common factor.
  float best_c = 1.0f;
  double best_error = search.best_error();
  for (float c : kClip) {
    try_range(search, lo * c, hi * c, qmax);
    if (search.best_error() < best_error) {
      best_error = search.best_error();
      best_c = c;
    }
  }
  for (float c : kClip) {
    try_range(search, lo * c, hi * best_c, qmax);
    try_range(search, lo * best_c, hi * c, qmax);
  }
  // At 2 and 3 bits, where one level is a large share of the range, every zero point, with the
  // scale that puts either end of the group, clipped, on the last code of its side. (At 4 bits
  // only the best one: 16 zero points would make quantizing a 4096 × 4096 layer take seconds,
  // for no accuracy we could measure on 784-128-10.)
  const int z_best = search.best().zero_point;
  const int z_reach = bits <= 3 ? qmax : 0;
  for (int z = std::max(0, z_best - z_reach); z <= std::min(qmax, z_best + z_reach); ++z) {
    for (int i = 0; i < kFineSteps; ++i) {
      const double c = fine_clip(i);
      if (z < qmax && hi > 0.0) search.try_scale(hi * c / (qmax - z), z);
      if (z > 0 && lo < 0.0) search.try_scale(-lo * c / z, z);
    }
  }
  search.refine_zero_point();
  search.refine_scale();
}

}  // namespace

std::string to_string(ScaleSearch s) { return s == ScaleSearch::kMinMax ? "minmax" : "search"; }

float dequantize_code(std::uint8_t code, GroupParams params) {
  return half_to_float(params.scale) *
         static_cast<float>(static_cast<int>(code) - static_cast<int>(params.zero_point));
}

double group_squared_error(std::span<const float> x, std::span<const std::uint8_t> codes,
                           GroupParams params) {
  if (x.size() != codes.size()) {
    throw std::invalid_argument("group_squared_error: " + std::to_string(x.size()) +
                                " values but " + std::to_string(codes.size()) + " codes");
  }
  double error = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double diff = static_cast<double>(x[i]) - dequantize_code(codes[i], params);
    error += diff * diff;
  }
  return error;
}

GroupParams quantize_group(std::span<const float> x, int bits, QuantScheme scheme,
                           ScaleSearch search, std::span<std::uint8_t> codes,
                           std::span<const float> importance) {
  if (bits < 2 || bits > 4) {
    throw std::invalid_argument("bits must be 2, 3 or 4, not " + std::to_string(bits));
  }
  if (x.empty() || x.size() > kMaxGroup || codes.size() != x.size()) {
    throw std::invalid_argument("quantize_group: a group has 1.." + std::to_string(kMaxGroup) +
                                " values and as many codes, not " + std::to_string(x.size()) +
                                " and " + std::to_string(codes.size()));
  }
  if (!importance.empty() && importance.size() != x.size()) {
    throw std::invalid_argument("quantize_group: " + std::to_string(importance.size()) +
                                " importance weights for " + std::to_string(x.size()) + " values");
  }
  for (float v : importance) {
    if (!(v >= 0.0f) || !std::isfinite(v)) {
      throw std::invalid_argument("quantize_group: importance weights must be finite and ≥ 0");
    }
  }
  bool all_zero = true;
  for (float v : x) {
    if (!std::isfinite(v)) throw std::invalid_argument("quantize_group: a weight is not finite");
    all_zero = all_zero && v == 0.0f;
  }
  const bool symmetric = scheme == QuantScheme::kSymmetric;
  if (all_zero) {  // scale 0 and every code z: exactly zero, whatever the scheme
    const GroupParams zero{0,
                           static_cast<std::uint8_t>(symmetric ? symmetric_zero_point(bits) : 0)};
    std::fill(codes.begin(), codes.end(), zero.zero_point);
    return zero;
  }
  GroupSearch state(x, bits, importance);
  if (symmetric) {
    search_symmetric(state, x, bits, search);
  } else {
    search_asymmetric(state, x, bits, search);
  }
  state.copy_codes(codes);
  return state.best();
}

}  // namespace lowbit::kernels
