#include "kernels/gemm/lowbit_x8.h"

#include "kernels/gemm/block_pack.h"
#include "kernels/gemm/gemm_lowbit.h"

namespace lowbit::kernels {

std::int64_t LowbitX8Weights::bytes() const {
  return static_cast<std::int64_t>(codes.size() + scales.size() * sizeof(std::uint16_t) +
                                   zero_points.size());
}

LowbitX8Weights interleave_x8(const LowbitWeightsView& m) {
  LowbitX8Weights out;
  out.bits = m.bits;
  out.n = m.n;
  out.k = m.k;
  out.group_size = m.group_size;
  out.groups = m.groups;
  out.blocks = (m.n + kX8Rows - 1) / kX8Rows;
  const auto padded = static_cast<std::size_t>(m.groups) * static_cast<std::size_t>(m.group_size);
  const std::size_t chunks = padded / kX8Chunk;
  const auto bits = static_cast<std::size_t>(out.bits);
  const std::size_t chunk_bytes = bits * kX8Chunk;
  const auto blocks = static_cast<std::size_t>(out.blocks);
  const auto groups = static_cast<std::size_t>(out.groups);
  out.codes.assign(blocks * chunks * chunk_bytes, 0);
  out.scales.assign(blocks * groups * kX8Rows, 0);
  if (m.zero_points != nullptr) out.zero_points.assign(blocks * groups * kX8Rows, 0);

  std::vector<std::uint8_t> row(padded);
  for (std::size_t r = 0; r < static_cast<std::size_t>(m.n); ++r) {
    unpack_codes(out.bits, {m.low + r * m.low_stride, m.low_stride},
                 {out.bits == 3 ? m.high + r * m.high_stride : nullptr, m.high_stride}, row);
    const std::size_t nb = r / kX8Rows;
    const std::size_t j = r % kX8Rows;
    for (std::size_t c = 0; c < chunks; ++c) {
      std::uint8_t* chunk = out.codes.data() + (nb * chunks + c) * chunk_bytes;
      for (std::size_t q = 0; q < kX8Chunk / 4; ++q) {
        for (std::size_t t = 0; t < 4; ++t) {
          const std::uint8_t u = row[c * kX8Chunk + 4 * q + t];
          const std::size_t byte = 4 * j + t;  // within a 32-byte vector
          if (bits == 4) {
            chunk[(q / 2) * 32 + byte] |= static_cast<std::uint8_t>(u << (4 * (q % 2)));
          } else {
            chunk[(q / 4) * 32 + byte] |= static_cast<std::uint8_t>((u & 3) << (2 * (q % 4)));
            if (bits == 3) chunk[64 + byte] |= static_cast<std::uint8_t>((u >> 2) << q);
          }
        }
      }
    }
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t at = (nb * groups + g) * kX8Rows + j;
      out.scales[at] = m.scales[r * groups + g];
      if (m.zero_points != nullptr) out.zero_points[at] = m.zero_points[r * groups + g];
    }
  }
  return out;
}

LowbitX8View view_of(const LowbitX8Weights& w) {
  LowbitX8View v;
  v.bits = w.bits;
  v.n = w.n;
  v.k = w.k;
  v.group_size = w.group_size;
  v.groups = w.groups;
  v.blocks = w.blocks;
  v.codes = w.codes.data();
  v.scales = w.scales.data();
  v.zero_points = w.zero_points.empty() ? nullptr : w.zero_points.data();
  return v;
}

}  // namespace lowbit::kernels
