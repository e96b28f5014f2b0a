#pragma once
// Training losses on raw logits. Each returns the mean loss over the batch and
// writes d(loss)/d(logits), already divided by the batch size.

#include <cstdint>

namespace lowbit::kernels {

// Softmax cross-entropy with integer class labels, computed with the
// max-subtraction trick so large logits never overflow exp().
double softmax_cross_entropy(const float* logits, const std::uint8_t* labels, int batch,
                             int classes, float* dlogits);

// Index of the largest logit per row (ties: the lowest index).
void argmax_rows(const float* logits, int batch, int classes, std::uint8_t* dst);

}  // namespace lowbit::kernels
