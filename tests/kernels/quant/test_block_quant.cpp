// Packed group weights of the int4 path (kernels/gemm/block_pack.h, kernels/quant/block_quant.h)
// and the int8 activation blocks they meet (kernels/gemm/q8_blocks.h).
//
// Error bound of a min-max group (derived, per element). Codes are round(x / d̂) clamped to the
// code range, d̂ the half-rounded scale, so an element the range covers is off by at most d̂ / 2.
// The range covers every element up to two effects: (1) d̂ differs from the exact min-max d by at
// most 2^-11 relative (half rounding, normal halves), which moves the far end of a range of
// 2^b − 1 steps by at most 2^b · 2^-11 · |d̂|; (2) symmetric groups put the largest-magnitude
// element m at the extra negative code −2^(b−1) (Q4_0), so an element of opposite sign and the same
// magnitude lands one step past +(2^(b−1) − 1): off by up to a whole |d̂|. Asymmetric groups round
// z = round(−lo / d), which shifts the range by at most d / 2, so a clamped end element is off by
// at most d / 2, as a covered one. Dequantization is one float multiply: 2^-24 relative.
// Bounds: asymmetric |x − x̂| ≤ |d̂| (1/2 + 2^(b−11)) + 2^-23 |x|; symmetric the same with 1 for
// 1/2 for elements beyond +(2^(b−1) − 1/2)·|d̂| on the short side.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/base/half.h"
#include "kernels/base/random.h"
#include "kernels/gemm/block_pack.h"
#include "kernels/gemm/q8_blocks.h"
#include "kernels/quant/block_quant.h"

using namespace lowbit::kernels;

namespace {

constexpr int kWidths[] = {2, 3, 4};
constexpr int kGroups[] = {32, 64, 128};
constexpr QuantScheme kSchemes[] = {QuantScheme::kSymmetric, QuantScheme::kAsymmetric};

std::vector<std::uint8_t> random_codes(Rng& rng, std::size_t n, int bits) {
  std::vector<std::uint8_t> codes(n);
  for (auto& c : codes) c = static_cast<std::uint8_t>(rng.below(1u << bits));
  return codes;
}

// Weights as trained layers have them: mostly normal, now and then an outlier, some exact zeros.
std::vector<float> random_weights(Rng& rng, std::size_t n, double zero_fraction = 0.0) {
  std::vector<float> w(n);
  for (float& v : w) {
    v = static_cast<float>(0.05 * rng.normal());
    if (rng.uniform() < 0.03) v *= 6.0f;
    if (rng.uniform() < zero_fraction) v = 0.0f;
  }
  return w;
}

}  // namespace

TEST_CASE("block pack: every width round-trips any length, padding packs as zero bits") {
  Rng rng(11);
  for (const int bits : kWidths) {
    for (const std::size_t n : {0u, 1u, 2u, 3u, 5u, 7u, 31u, 32u, 33u, 63u, 65u, 97u, 127u, 129u}) {
      CAPTURE(bits);
      CAPTURE(n);
      const std::vector<std::uint8_t> codes = random_codes(rng, n, bits);
      std::vector<std::uint8_t> low(packed_low_bytes(bits, n));
      std::vector<std::uint8_t> high(packed_high_bytes(bits, n));
      const std::size_t blocks = (n + 31) / 32;
      CHECK(low.size() == blocks * 32 * static_cast<std::size_t>(bits == 3 ? 2 : bits) / 8);
      CHECK(high.size() == (bits == 3 ? blocks * 4 : 0));
      pack_codes(bits, codes, low, high);
      std::vector<std::uint8_t> back(n);
      unpack_codes(bits, low, high, back);
      CHECK(back == codes);
      // The codes past n in the last block read back as 0.
      std::vector<std::uint8_t> padded(blocks * 32);
      unpack_codes(bits, low, high, padded);
      CHECK(std::all_of(padded.begin() + static_cast<std::ptrdiff_t>(n), padded.end(),
                        [](std::uint8_t c) { return c == 0; }));
    }
  }
}

TEST_CASE("block pack: the layout is Q4_0's nibbles, 2-bit fields of runs of 8, a high-bit plane") {
  std::vector<std::uint8_t> codes(32);
  for (std::size_t i = 0; i < 32; ++i) codes[i] = static_cast<std::uint8_t>(i % 16);
  std::vector<std::uint8_t> low(16);
  pack_codes(4, codes, low, {});
  for (std::size_t j = 0; j < 16; ++j) CHECK(low[j] == (codes[j] | codes[j + 16] << 4));

  for (std::size_t i = 0; i < 32; ++i) codes[i] = static_cast<std::uint8_t>((i * 5 + 3) % 8);
  std::vector<std::uint8_t> low2(8);
  std::vector<std::uint8_t> high(4);
  pack_codes(3, codes, low2, high);
  for (std::size_t j = 0; j < 8; ++j) {
    CHECK(low2[j] == ((codes[j] & 3) | (codes[j + 8] & 3) << 2 | (codes[j + 16] & 3) << 4 |
                      (codes[j + 24] & 3) << 6));
  }
  for (std::size_t i = 0; i < 32; ++i) CHECK(((high[i / 8] >> (i % 8)) & 1) == (codes[i] >> 2));
}

TEST_CASE("block pack: bad widths, codes and sizes are refused") {
  std::vector<std::uint8_t> codes(5, 1);
  std::vector<std::uint8_t> low(16);
  CHECK_THROWS_AS(packed_low_bytes(5, 4), std::invalid_argument);
  CHECK_THROWS_AS(packed_low_bytes(1, 4), std::invalid_argument);
  CHECK_THROWS_AS(pack_codes(4, codes, std::span(low).first(8), {}), std::invalid_argument);
  codes[2] = 16;
  CHECK_THROWS_AS(pack_codes(4, codes, low, {}), std::invalid_argument);
  std::vector<std::uint8_t> low3(8);
  std::vector<std::uint8_t> no_high;
  CHECK_THROWS_AS(pack_codes(3, std::vector<std::uint8_t>(5, 1), low3, no_high),
                  std::invalid_argument);
}

TEST_CASE("block quant: min-max groups stay within the derived per-element bound") {
  Rng rng(21);
  for (const int bits : kWidths) {
    for (const QuantScheme scheme : kSchemes) {
      for (const std::size_t size : {1u, 7u, 32u, 64u, 100u, 128u}) {
        for (int trial = 0; trial < 20; ++trial) {
          CAPTURE(bits);
          CAPTURE(to_string(scheme));
          CAPTURE(size);
          CAPTURE(trial);
          const std::vector<float> x = random_weights(rng, size);
          std::vector<std::uint8_t> codes(size);
          const GroupParams p = quantize_group(x, bits, scheme, ScaleSearch::kMinMax, codes);
          const double d = std::fabs(half_to_float(p.scale));
          const double drift = std::ldexp(1.0, bits - 11);
          for (std::size_t i = 0; i < size; ++i) {
            CHECK(codes[i] < (1u << bits));
            const double x_hat = dequantize_code(codes[i], p);
            double bound = d * (0.5 + drift) + 0x1.0p-23 * std::fabs(x[i]);
            if (scheme == QuantScheme::kSymmetric) {
              // Past the short end of the symmetric range: up to a whole step.
              const double signed_q = x[i] / half_to_float(p.scale);
              if (signed_q > symmetric_zero_point(bits) - 1 + 0.5) bound += d * 0.5;
            }
            CHECK(std::fabs(x[i] - x_hat) <= bound);
          }
        }
      }
    }
  }
}

TEST_CASE("block quant: the scale search is never worse than min-max, and usually better") {
  Rng rng(31);
  for (const int bits : kWidths) {
    for (const QuantScheme scheme : kSchemes) {
      int better = 0;
      int groups = 0;
      for (const std::size_t size : {5u, 32u, 64u, 128u}) {
        for (int trial = 0; trial < 40; ++trial, ++groups) {
          CAPTURE(bits);
          CAPTURE(to_string(scheme));
          CAPTURE(size);
          CAPTURE(trial);
          const std::vector<float> x = random_weights(rng, size, trial % 3 == 0 ? 0.4 : 0.0);
          std::vector<std::uint8_t> minmax_codes(size);
          std::vector<std::uint8_t> search_codes(size);
          const GroupParams minmax =
              quantize_group(x, bits, scheme, ScaleSearch::kMinMax, minmax_codes);
          const GroupParams searched =
              quantize_group(x, bits, scheme, ScaleSearch::kSearch, search_codes);
          const double e_minmax = group_squared_error(x, minmax_codes, minmax);
          const double e_search = group_squared_error(x, search_codes, searched);
          CHECK(e_search <= e_minmax);
          better += e_search < e_minmax ? 1 : 0;
        }
      }
      // The search exists to win on groups like these (outliers); if it never did, it is broken.
      CHECK(better > groups / 2);
    }
  }
}

TEST_CASE("block quant: zero weights dequantize to exactly 0 in every width, scheme and search") {
  Rng rng(41);
  for (const int bits : kWidths) {
    for (const QuantScheme scheme : kSchemes) {
      for (const ScaleSearch search : {ScaleSearch::kMinMax, ScaleSearch::kSearch}) {
        CAPTURE(bits);
        CAPTURE(to_string(scheme));
        CAPTURE(to_string(search));
        // Half pruned, one group all zero, one all positive, one all negative.
        const int rows = 3;
        const int cols = 150;  // groups of 32: the last is partial
        std::vector<float> w = random_weights(rng, rows * cols, 0.5);
        for (int i = 0; i < 32; ++i) w[static_cast<std::size_t>(i)] = 0.0f;
        for (int i = 32; i < 64; ++i)
          w[static_cast<std::size_t>(i)] = std::fabs(w[static_cast<std::size_t>(i)]);
        for (int i = 64; i < 96; ++i)
          w[static_cast<std::size_t>(i)] = -std::fabs(w[static_cast<std::size_t>(i)]);
        const BlockQuantMatrix m = quantize_block_matrix(w, rows, cols, {bits, 32, scheme, search});
        const std::vector<float> back = dequantize_block_matrix(m);
        int zeros = 0;
        for (std::size_t i = 0; i < w.size(); ++i) {
          if (w[i] == 0.0f) {
            ++zeros;
            CHECK(back[i] == 0.0f);
          }
        }
        CHECK(zeros > rows * cols / 3);
        // The padding past cols holds each group's zero code.
        std::vector<std::uint8_t> codes(static_cast<std::size_t>(m.padded_cols()));
        unpack_codes(bits, std::span(m.low).first(m.low_bytes_per_row()),
                     std::span(m.high).first(m.high_bytes_per_row()), codes);
        const GroupParams last = m.group(0, m.groups_per_row() - 1);
        for (std::size_t i = static_cast<std::size_t>(cols); i < codes.size(); ++i) {
          CHECK(codes[i] == last.zero_point);
        }
      }
    }
  }
}

TEST_CASE("block quant: matrix storage, parameters and bad specs") {
  Rng rng(51);
  const std::vector<float> w = random_weights(rng, 5 * 70);
  for (const int bits : kWidths) {
    for (const int group : kGroups) {
      for (const QuantScheme scheme : kSchemes) {
        const BlockQuantMatrix m =
            quantize_block_matrix(w, 5, 70, {bits, group, scheme, ScaleSearch::kSearch});
        const int groups = (70 + group - 1) / group;
        CHECK(m.groups_per_row() == groups);
        const std::int64_t codes = 5LL * groups * group * bits / 8;
        const std::int64_t params = 5LL * groups * (scheme == QuantScheme::kSymmetric ? 2 : 3);
        CHECK(m.bytes() == codes + params);
        // Dequantizing the matrix is dequantizing each group with its own parameters.
        const std::vector<float> back = dequantize_block_matrix(m);
        std::vector<std::uint8_t> row_codes(static_cast<std::size_t>(m.padded_cols()));
        unpack_codes(bits,
                     std::span(m.low).subspan(2 * m.low_bytes_per_row(), m.low_bytes_per_row()),
                     std::span(m.high).subspan(2 * m.high_bytes_per_row(), m.high_bytes_per_row()),
                     row_codes);
        for (int c = 0; c < 70; ++c) {
          CHECK(back[static_cast<std::size_t>(2 * 70 + c)] ==
                dequantize_code(row_codes[static_cast<std::size_t>(c)], m.group(2, c / group)));
        }
      }
    }
  }
  auto message = [&](BlockQuantSpec spec) {
    try {
      quantize_block_matrix(w, 5, 70, spec);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no throw");
  };
  CHECK(message({5, 32, QuantScheme::kSymmetric, ScaleSearch::kSearch}).find("bits") !=
        std::string::npos);
  CHECK(message({1, 32, QuantScheme::kSymmetric, ScaleSearch::kSearch}).find("bits") !=
        std::string::npos);
  CHECK(message({4, 48, QuantScheme::kSymmetric, ScaleSearch::kSearch}).find("group_size") !=
        std::string::npos);
  CHECK_THROWS_AS(quantize_block_matrix(w, 5, 71, {}), std::invalid_argument);
  std::vector<float> bad = w;
  bad[3] = NAN;
  CHECK_THROWS_AS(quantize_block_matrix(bad, 5, 70, {}), std::invalid_argument);
}

TEST_CASE("block quant: int8 activation blocks are Q8_0 with padding and sums") {
  Rng rng(61);
  const int rows = 3;
  const int cols = 75;
  std::vector<float> x(static_cast<std::size_t>(rows * 80));
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (int c = 32; c < 64; ++c)
    x[static_cast<std::size_t>(80 + c)] = 0.0f;  // row 1, group 1: all zero
  Q8Blocks q;
  quantize_q8_blocks(x.data(), rows, cols, 80, 32, q);
  CHECK(q.groups == 3);
  CHECK(q.ld_codes() == 96);
  for (int r = 0; r < rows; ++r) {
    for (int g = 0; g < q.groups; ++g) {
      const float d = q.scales[static_cast<std::size_t>(r * 3 + g)];
      std::int32_t sum = 0;
      float amax = 0.0f;
      for (int c = g * 32; c < g * 32 + 32; ++c) {
        const std::int8_t code =
            q.codes[static_cast<std::size_t>(r) * q.ld_codes() + static_cast<std::size_t>(c)];
        sum += code;
        CHECK(code >= -127);
        if (c >= cols) {
          CHECK(code == 0);
          continue;
        }
        const float v = x[static_cast<std::size_t>(r * 80 + c)];
        amax = std::max(amax, std::fabs(v));
        // Round to nearest: within half a step, plus x · (1 / d) being off by 2^-23 relative (≤ 127
        // · 2^-23 < 2^-15 of a step).
        CHECK(std::fabs(v - d * static_cast<float>(code)) <= d * (0.5 + 0x1.0p-15));
      }
      CHECK(d == amax / 127.0f);
      CHECK(sum == q.sums[static_cast<std::size_t>(r * 3 + g)]);
    }
  }
  CHECK(q.scales[3 + 1] == 0.0f);
  CHECK_THROWS_AS(quantize_q8_blocks(x.data(), rows, cols, 80, 48, q), std::invalid_argument);
  CHECK_THROWS_AS(quantize_q8_blocks(x.data(), rows, 81, 80, 32, q), std::invalid_argument);
}

TEST_CASE(
    "block quant: the AVX2 activation quantizer gives the scalar one's codes, scales and sums") {
  if (!__builtin_cpu_supports("avx2")) {
    MESSAGE("skipped: this CPU lacks avx2");
    return;
  }
  Rng rng(62);
  for (const int group : {32, 64, 128}) {
    for (const int cols : {1, 7, 8, 33, 100, 257}) {
      CAPTURE(group);
      CAPTURE(cols);
      const int rows = 5;
      const int ld = cols + 3;
      std::vector<float> x(static_cast<std::size_t>(rows * ld));
      for (float& v : x) v = static_cast<float>(3.0 * rng.normal());
      // Row 1: exact ties (amax 127 makes d = 1, so k + 0.5 is a tie, rounded to even); row 2:
      // zeros.
      for (int c = 0; c < cols; ++c) {
        x[static_cast<std::size_t>(ld + c)] = c == 0 ? 127.0f : static_cast<float>(c % 50) - 24.5f;
        x[static_cast<std::size_t>(2 * ld + c)] = 0.0f;
      }
      Q8Blocks scalar;
      Q8Blocks vector;
      quantize_q8_blocks(x.data(), rows, cols, ld, group, scalar);
      quantize_q8_blocks(x.data(), rows, cols, ld, group, vector, true);
      CHECK(vector.codes == scalar.codes);
      CHECK(vector.sums == scalar.sums);
      CHECK(std::memcmp(vector.scales.data(), scalar.scales.data(),
                        scalar.scales.size() * sizeof(float)) == 0);
    }
  }
}
