// The int4 GEMM's reference tier (kernels/gemm/gemm_lowbit.h): every weight row unpacked with the
// general unpack_codes, each group's dot in int64 straight from its definition, then the pinned
// fp32 steps. Slow and obvious: the oracle the other tiers are compared with.
#include <cstddef>
#include <vector>

#include "kernels/base/half.h"
#include "kernels/gemm/block_pack.h"
#include "kernels/gemm/gemm_lowbit.h"

namespace lowbit::kernels {

void gemm_lowbit_ref(const GemmLowbitArgs& args) {
  const LowbitWeightsView& w = args.weights;
  const auto padded = static_cast<std::size_t>(w.groups) * static_cast<std::size_t>(w.group_size);
  const auto groups = static_cast<std::size_t>(w.groups);
  std::vector<std::uint8_t> codes(padded);
  for (std::size_t n = 0; n < static_cast<std::size_t>(w.n); ++n) {
    const std::size_t low_bytes = packed_low_bytes(w.bits, padded);
    const std::size_t high_bytes = packed_high_bytes(w.bits, padded);
    unpack_codes(w.bits, {w.low + n * w.low_stride, low_bytes},
                 {w.bits == 3 ? w.high + n * w.high_stride : nullptr, high_bytes}, codes);
    for (std::size_t m = 0; m < static_cast<std::size_t>(args.src.m); ++m) {
      const std::int8_t* x = args.src.codes + m * args.src.ld_codes;
      float acc = 0.0f;
      for (std::size_t g = 0; g < groups; ++g) {
        const int z = w.zero_points != nullptr ? w.zero_points[n * groups + g] : 1 << (w.bits - 1);
        std::int64_t dot = 0;
        for (std::size_t i = g * static_cast<std::size_t>(w.group_size);
             i < (g + 1) * static_cast<std::size_t>(w.group_size); ++i) {
          dot += static_cast<std::int64_t>(codes[i] - z) * x[i];
        }
        const float scale =
            half_to_float(w.scales[n * groups + g]) * args.src.scales[m * groups + g];
        const float part = static_cast<float>(dot) * scale;
        acc = acc + part;
      }
      args.dst[m * static_cast<std::size_t>(args.ld_dst) + n] = acc;
    }
  }
}

}  // namespace lowbit::kernels
