#pragma once
// Training losses on raw logits. Each returns the mean loss over the batch and
// writes d(loss)/d(logits), already divided by the batch size.

#include <cstdint>

namespace lowbit::kernels {

// Softmax cross-entropy with integer class labels, computed with the
// max-subtraction trick so large logits never overflow exp().
double softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int batch,
                             int classes, float* dlogits);

// Knowledge distillation (Hinton et al. 2015) with p(T) = softmax(logits / T):
//   loss = α·T²·KL(p_teacher(T) ‖ p_student(T)) + (1 − α)·CE(label, p_student(1)),
//   d(loss)/d(student logits) = α·T·(p_s(T) − p_t(T)) + (1 − α)·(p_s(1) − onehot(label)).
// The T² keeps the soft-target gradient on the same scale as T changes. KL is
// Σ p_t·(log p_t − log p_s) from log-softmax (max-subtracted, in double), so a
// teacher probability that underflows to 0 contributes 0, never 0·(−∞).
// The caller checks temperature > 0 and 0 ≤ alpha ≤ 1 (kernels/train/distill.h).
double distillation_loss(const float* student_logits, const float* teacher_logits,
                         const std::uint8_t* labels, int batch, int classes, double temperature,
                         double alpha, float* dlogits);

// Index of the largest logit per row (ties: the lowest index).
void argmax_rows(const float* logits, int batch, int classes, std::uint8_t* dst);

}  // namespace lowbit::kernels
