// The int4 GEMM in plain C++ (kernels/gemm/gemm_lowbit.h), for CPUs without the vector tiers. The
// algorithm the vector tiers also follow: each weight group is unpacked once, with shifts and
// masks fixed at compile time, into signed codes u − z, and reused for every activation row; the
// group dot is a fixed-length int8 × int8 → int32 loop the compiler vectorizes with baseline
// SSE2. The per-output fp32 steps are the pinned ones, in group order, so the result equals the
// reference bit for bit.
#include <cstddef>
#include <cstdint>

#include "kernels/base/half.h"
#include "kernels/gemm/block_pack.h"
#include "kernels/gemm/gemm_lowbit.h"

namespace lowbit::kernels {

namespace {

// The 32 codes of one packed block (block_pack.h), minus z, into out[0..31].
template <int kBits>
void unpack_block(const std::uint8_t* low, const std::uint8_t* high, int z, std::int8_t* out) {
  if constexpr (kBits == 4) {
    for (int j = 0; j < 16; ++j) {
      out[j] = static_cast<std::int8_t>((low[j] & 0x0F) - z);
      out[j + 16] = static_cast<std::int8_t>((low[j] >> 4) - z);
    }
  } else {
    for (int s = 0; s < 4; ++s) {
      for (int j = 0; j < 8; ++j) {
        int c = (low[j] >> (2 * s)) & 3;
        if constexpr (kBits == 3) c |= ((high[s] >> j) & 1) << 2;  // code 8s + j's high bit
        out[8 * s + j] = static_cast<std::int8_t>(c - z);
      }
    }
  }
}

template <int kGroup>
std::int32_t dot_group(const std::int8_t* w, const std::int8_t* x) {
  std::int32_t sum = 0;
  for (int i = 0; i < kGroup; ++i) sum += static_cast<std::int32_t>(w[i]) * x[i];
  return sum;
}

template <int kBits, int kGroup>
void gemm(const GemmLowbitArgs& args) {
  const LowbitWeightsView& w = args.weights;
  constexpr int kBlocks = kGroup / kPackBlock;
  constexpr std::size_t kLowBlockBytes = kPackBlock * (kBits == 3 ? 2 : kBits) / 8;
  constexpr std::size_t kHighBlockBytes = kPackBlock / 8;
  const auto groups = static_cast<std::size_t>(w.groups);
  const auto rows = static_cast<std::size_t>(args.src.m);
  const auto ld_dst = static_cast<std::size_t>(args.ld_dst);
  alignas(64) std::int8_t unpacked[kGroup];
  for (std::size_t n = 0; n < static_cast<std::size_t>(w.n); ++n) {
    const std::uint8_t* low = w.low + n * w.low_stride;
    const std::uint8_t* high = kBits == 3 ? w.high + n * w.high_stride : nullptr;
    for (std::size_t m = 0; m < rows; ++m) args.dst[m * ld_dst + n] = 0.0f;
    for (std::size_t g = 0; g < groups; ++g) {
      const int z = w.zero_points != nullptr ? w.zero_points[n * groups + g] : 1 << (kBits - 1);
      for (int b = 0; b < kBlocks; ++b) {
        const std::size_t block = g * kBlocks + static_cast<std::size_t>(b);
        unpack_block<kBits>(low + block * kLowBlockBytes,
                            high != nullptr ? high + block * kHighBlockBytes : nullptr, z,
                            unpacked + b * kPackBlock);
      }
      const float d_w = half_to_float(w.scales[n * groups + g]);
      for (std::size_t m = 0; m < rows; ++m) {
        const std::int8_t* x = args.src.codes + m * args.src.ld_codes + g * kGroup;
        const std::int32_t dot = dot_group<kGroup>(unpacked, x);
        const float scale = d_w * args.src.scales[m * groups + g];
        const float part = static_cast<float>(dot) * scale;
        float& acc = args.dst[m * ld_dst + n];
        acc = acc + part;
      }
    }
  }
}

template <int kBits>
void gemm_for_group(const GemmLowbitArgs& args) {
  switch (args.weights.group_size) {
    case 32:
      return gemm<kBits, 32>(args);
    case 64:
      return gemm<kBits, 64>(args);
    default:
      return gemm<kBits, 128>(args);
  }
}

}  // namespace

void gemm_lowbit_portable(const GemmLowbitArgs& args) {
  switch (args.weights.bits) {
    case 2:
      return gemm_for_group<2>(args);
    case 3:
      return gemm_for_group<3>(args);
    default:
      return gemm_for_group<4>(args);
  }
}

}  // namespace lowbit::kernels
