// Whole matrices in the packed group format of kernels/quant/block_quant.h (one group at a time by
// quantize_group, block_quant_group.cpp; packing by kernels/gemm/block_pack.h).
#include "kernels/quant/block_quant.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/gemm/block_pack.h"

namespace lowbit::kernels {

void check_block_quant_spec(const BlockQuantSpec& spec) {
  if (spec.bits < 2 || spec.bits > 4) {
    throw std::invalid_argument("bits must be 2, 3 or 4 for int4 weights, not " +
                                std::to_string(spec.bits));
  }
  if (spec.group_size != 32 && spec.group_size != 64 && spec.group_size != 128) {
    throw std::invalid_argument("group_size must be 32, 64 or 128, not " +
                                std::to_string(spec.group_size));
  }
}

std::size_t BlockQuantMatrix::low_bytes_per_row() const {
  return packed_low_bytes(spec.bits, static_cast<std::size_t>(padded_cols()));
}

std::size_t BlockQuantMatrix::high_bytes_per_row() const {
  return packed_high_bytes(spec.bits, static_cast<std::size_t>(padded_cols()));
}

GroupParams BlockQuantMatrix::group(int row, int g) const {
  const std::size_t at =
      static_cast<std::size_t>(row) * static_cast<std::size_t>(groups_per_row()) +
      static_cast<std::size_t>(g);
  const auto z = zero_points.empty() ? static_cast<std::uint8_t>(symmetric_zero_point(spec.bits))
                                     : zero_points[at];
  return {scales[at], z};
}

std::int64_t BlockQuantMatrix::bytes() const {
  return static_cast<std::int64_t>(low.size() + high.size() +
                                   scales.size() * sizeof(std::uint16_t) + zero_points.size());
}

BlockQuantMatrix quantize_block_matrix(std::span<const float> weights, int rows, int cols,
                                       const BlockQuantSpec& spec,
                                       std::span<const float> importance) {
  check_block_quant_spec(spec);
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument("quantize_block_matrix: rows and cols must be ≥ 1, not " +
                                std::to_string(rows) + " × " + std::to_string(cols));
  }
  if (weights.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)) {
    throw std::invalid_argument("quantize_block_matrix: " + std::to_string(weights.size()) +
                                " weights for a " + std::to_string(rows) + " × " +
                                std::to_string(cols) + " matrix");
  }
  if (!importance.empty() && importance.size() != static_cast<std::size_t>(cols)) {
    throw std::invalid_argument("quantize_block_matrix: " + std::to_string(importance.size()) +
                                " importance weights for " + std::to_string(cols) + " columns");
  }
  BlockQuantMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.spec = spec;
  const int groups = m.groups_per_row();
  const auto padded = static_cast<std::size_t>(m.padded_cols());
  const auto group_size = static_cast<std::size_t>(spec.group_size);
  const bool symmetric = spec.scheme == QuantScheme::kSymmetric;
  m.low.resize(static_cast<std::size_t>(rows) * m.low_bytes_per_row());
  m.high.resize(static_cast<std::size_t>(rows) * m.high_bytes_per_row());
  m.scales.resize(static_cast<std::size_t>(rows) * static_cast<std::size_t>(groups));
  if (!symmetric) m.zero_points.resize(m.scales.size());

  std::vector<std::uint8_t> codes(padded);
  for (int r = 0; r < rows; ++r) {
    const std::span<const float> row =
        weights.subspan(static_cast<std::size_t>(r) * static_cast<std::size_t>(cols),
                        static_cast<std::size_t>(cols));
    for (int g = 0; g < groups; ++g) {
      const std::size_t first = static_cast<std::size_t>(g) * group_size;
      const std::size_t real = std::min(group_size, static_cast<std::size_t>(cols) - first);
      const GroupParams p =
          quantize_group(row.subspan(first, real), spec.bits, spec.scheme, spec.search,
                         std::span(codes).subspan(first, real),
                         importance.empty() ? importance : importance.subspan(first, real));
      for (std::size_t i = first + real; i < first + group_size; ++i) codes[i] = p.zero_point;
      const std::size_t at = static_cast<std::size_t>(r) * static_cast<std::size_t>(groups) +
                             static_cast<std::size_t>(g);
      m.scales[at] = p.scale;
      if (!symmetric) m.zero_points[at] = p.zero_point;
    }
    pack_codes(spec.bits, codes,
               std::span(m.low).subspan(static_cast<std::size_t>(r) * m.low_bytes_per_row(),
                                        m.low_bytes_per_row()),
               std::span(m.high).subspan(static_cast<std::size_t>(r) * m.high_bytes_per_row(),
                                         m.high_bytes_per_row()));
  }
  return m;
}

BlockQuantMatrix pack_block_matrix(int rows, int cols, const BlockQuantSpec& spec,
                                   std::span<const std::uint8_t> codes,
                                   std::span<const GroupParams> params) {
  check_block_quant_spec(spec);
  BlockQuantMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.spec = spec;
  const auto groups = static_cast<std::size_t>(m.groups_per_row());
  const auto padded = static_cast<std::size_t>(m.padded_cols());
  if (rows < 1 || cols < 1 || codes.size() != static_cast<std::size_t>(rows) * padded ||
      params.size() != static_cast<std::size_t>(rows) * groups) {
    throw std::invalid_argument("pack_block_matrix: sizes do not match " + std::to_string(rows) +
                                " × " + std::to_string(cols));
  }
  const bool symmetric = spec.scheme == QuantScheme::kSymmetric;
  m.low.resize(static_cast<std::size_t>(rows) * m.low_bytes_per_row());
  m.high.resize(static_cast<std::size_t>(rows) * m.high_bytes_per_row());
  m.scales.resize(params.size());
  if (!symmetric) m.zero_points.resize(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    m.scales[i] = params[i].scale;
    if (!symmetric) m.zero_points[i] = params[i].zero_point;
  }
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    pack_codes(spec.bits, codes.subspan(r * padded, padded),
               std::span(m.low).subspan(r * m.low_bytes_per_row(), m.low_bytes_per_row()),
               std::span(m.high).subspan(r * m.high_bytes_per_row(), m.high_bytes_per_row()));
  }
  return m;
}

std::vector<float> dequantize_block_matrix(const BlockQuantMatrix& m) {
  const auto padded = static_cast<std::size_t>(m.padded_cols());
  const auto cols = static_cast<std::size_t>(m.cols);
  std::vector<std::uint8_t> codes(padded);
  std::vector<float> out(static_cast<std::size_t>(m.rows) * cols);
  for (int r = 0; r < m.rows; ++r) {
    unpack_codes(m.spec.bits,
                 std::span(m.low).subspan(static_cast<std::size_t>(r) * m.low_bytes_per_row(),
                                          m.low_bytes_per_row()),
                 std::span(m.high).subspan(static_cast<std::size_t>(r) * m.high_bytes_per_row(),
                                           m.high_bytes_per_row()),
                 codes);
    for (std::size_t c = 0; c < cols; ++c) {
      const GroupParams p =
          m.group(r, static_cast<int>(c / static_cast<std::size_t>(m.spec.group_size)));
      out[static_cast<std::size_t>(r) * cols + c] = dequantize_code(codes[c], p);
    }
  }
  return out;
}

LowbitWeightsView view_of(const BlockQuantMatrix& m) {
  LowbitWeightsView v;
  v.bits = m.spec.bits;
  v.n = m.rows;
  v.k = m.cols;
  v.group_size = m.spec.group_size;
  v.groups = m.groups_per_row();
  v.low = m.low.data();
  v.low_stride = m.low_bytes_per_row();
  v.high = m.high.empty() ? nullptr : m.high.data();
  v.high_stride = m.high_bytes_per_row();
  v.scales = m.scales.data();
  v.zero_points = m.zero_points.empty() ? nullptr : m.zero_points.data();
  return v;
}

}  // namespace lowbit::kernels
