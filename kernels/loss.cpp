#include "kernels/loss.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace lowbit::kernels {

double softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int batch,
                             int classes, float* dlogits) {
  double total = 0.0;
  const double inv_batch = 1.0 / batch;
  for (int b = 0; b < batch; ++b) {
    const float* z = logits + static_cast<std::size_t>(b) * static_cast<std::size_t>(classes);
    float* dz = dlogits + static_cast<std::size_t>(b) * static_cast<std::size_t>(classes);
    const float max_z = *std::max_element(z, z + classes);
    double sum = 0.0;
    for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c] - max_z));
    const double log_sum = std::log(sum);
    total += log_sum - static_cast<double>(z[labels[b]] - max_z);
    for (int c = 0; c < classes; ++c) {
      const double p = std::exp(static_cast<double>(z[c] - max_z) - log_sum);
      dz[c] = static_cast<float>((p - (c == labels[b] ? 1.0 : 0.0)) * inv_batch);
    }
  }
  return total * inv_batch;
}

void argmax_rows(const float* logits, int batch, int classes, std::uint8_t* dst) {
  for (int b = 0; b < batch; ++b) {
    const float* z = logits + static_cast<std::size_t>(b) * static_cast<std::size_t>(classes);
    dst[b] = static_cast<std::uint8_t>(std::max_element(z, z + classes) - z);
  }
}

}  // namespace lowbit::kernels
