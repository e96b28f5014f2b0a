#include "kernels/base/epilogue.h"

#include <algorithm>
#include <cstddef>

namespace lowbit::kernels {

void add_bias_activation(float* y, int batch, int outputs, const float* bias, bool relu) {
  for (int b = 0; b < batch; ++b) {
    float* row = y + static_cast<std::size_t>(b) * static_cast<std::size_t>(outputs);
    if (relu) {
      for (int o = 0; o < outputs; ++o) row[o] = std::max(row[o] + bias[o], 0.0f);
    } else {
      for (int o = 0; o < outputs; ++o) row[o] += bias[o];
    }
  }
}

}  // namespace lowbit::kernels
