#pragma once
// Element counts of row-major matrices. Dimensions are int (what the kernels' arguments and
// oneDNN take), their product is not: 2³¹ elements are only 8 GiB of floats.

#include <cstddef>

namespace lowbit::kernels {

// rows × cols as a size_t, computed without int overflow.
inline std::size_t element_count(int rows, int cols) {
  return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
}

}  // namespace lowbit::kernels
