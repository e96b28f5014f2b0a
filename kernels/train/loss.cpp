#include "kernels/train/loss.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace lowbit::kernels {

namespace {

// dst[c] = log softmax(z / temperature)[c], in double, max-subtracted so exp() never overflows.
void log_softmax(const float* z, int classes, double temperature, double* dst) {
  const double max_z = *std::max_element(z, z + classes);
  double sum = 0.0;
  for (int c = 0; c < classes; ++c) {
    dst[c] = (static_cast<double>(z[c]) - max_z) / temperature;
    sum += std::exp(dst[c]);
  }
  const double log_sum = std::log(sum);
  for (int c = 0; c < classes; ++c) dst[c] -= log_sum;
}

}  // namespace

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

double distillation_loss(const float* student_logits, const float* teacher_logits,
                         const std::uint8_t* labels, int batch, int classes, double temperature,
                         double alpha, float* dlogits) {
  const auto n = static_cast<std::size_t>(classes);
  std::vector<double> log_student_soft(n);
  std::vector<double> log_teacher_soft(n);
  std::vector<double> log_student_hard(n);
  const double soft_weight = alpha * temperature * temperature;  // of KL in the loss
  const double soft_grad_weight = alpha * temperature;           // of (p_s − p_t) in the gradient
  const double hard_weight = 1.0 - alpha;
  const double inv_batch = 1.0 / batch;
  double total = 0.0;
  for (int b = 0; b < batch; ++b) {
    const std::size_t row = static_cast<std::size_t>(b) * n;
    log_softmax(student_logits + row, classes, temperature, log_student_soft.data());
    log_softmax(teacher_logits + row, classes, temperature, log_teacher_soft.data());
    log_softmax(student_logits + row, classes, 1.0, log_student_hard.data());
    double kl = 0.0;
    for (std::size_t c = 0; c < n; ++c) {
      const double p_teacher = std::exp(log_teacher_soft[c]);
      if (p_teacher > 0.0) kl += p_teacher * (log_teacher_soft[c] - log_student_soft[c]);
    }
    const double cross_entropy = -log_student_hard[labels[b]];
    total += soft_weight * kl + hard_weight * cross_entropy;
    for (std::size_t c = 0; c < n; ++c) {
      const double soft = std::exp(log_student_soft[c]) - std::exp(log_teacher_soft[c]);
      const double hard = std::exp(log_student_hard[c]) - (c == labels[b] ? 1.0 : 0.0);
      dlogits[row + c] =
          static_cast<float>((soft_grad_weight * soft + hard_weight * hard) * inv_batch);
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
