#include "kernels/gemm/block_pack.h"

#include <array>
#include <stdexcept>
#include <string>

namespace lowbit::kernels {

namespace {

void check_bits(int bits) {
  if (bits < 2 || bits > 4) {
    throw std::invalid_argument("bits must be 2, 3 or 4 for packed codes, not " +
                                std::to_string(bits));
  }
}

// Width of the fields of the low plane: 3-bit codes keep their low 2 bits there.
int low_field_bits(int bits) { return bits == 3 ? 2 : bits; }

std::size_t blocks_for(std::size_t n) { return (n + kPackBlock - 1) / kPackBlock; }

constexpr std::size_t kHighBytesPerBlock = kPackBlock / 8;

void check_sizes(int bits, std::size_t n, std::size_t low, std::size_t high) {
  if (low != packed_low_bytes(bits, n)) {
    throw std::invalid_argument("packed low plane has " + std::to_string(low) + " bytes; " +
                                std::to_string(n) + " codes of " + std::to_string(bits) +
                                " bits need " + std::to_string(packed_low_bytes(bits, n)));
  }
  if (bits == 3 && high != packed_high_bytes(bits, n)) {
    throw std::invalid_argument("packed high plane has " + std::to_string(high) + " bytes; " +
                                std::to_string(n) + " 3-bit codes need " +
                                std::to_string(packed_high_bytes(bits, n)));
  }
}

}  // namespace

std::size_t packed_low_bytes(int bits, std::size_t n) {
  check_bits(bits);
  return blocks_for(n) * static_cast<std::size_t>(kPackBlock * low_field_bits(bits) / 8);
}

std::size_t packed_high_bytes(int bits, std::size_t n) {
  check_bits(bits);
  return bits == 3 ? blocks_for(n) * kHighBytesPerBlock : 0;
}

void pack_codes(int bits, std::span<const std::uint8_t> codes, std::span<std::uint8_t> low,
                std::span<std::uint8_t> high) {
  check_sizes(bits, codes.size(), low.size(), high.size());
  const int field = low_field_bits(bits);
  const int fields_per_byte = 8 / field;
  const int low_bytes_per_block = kPackBlock / fields_per_byte;
  const unsigned low_mask = (1u << field) - 1u;
  const std::size_t blocks = blocks_for(codes.size());
  for (std::size_t b = 0; b < blocks; ++b) {
    std::array<std::uint8_t, kPackBlock> block{};  // the padding codes are 0
    for (std::size_t i = 0; i < kPackBlock && b * kPackBlock + i < codes.size(); ++i) {
      const std::uint8_t c = codes[b * kPackBlock + i];
      if (c >> bits != 0) {
        throw std::invalid_argument("code " + std::to_string(c) + " at " +
                                    std::to_string(b * kPackBlock + i) + " does not fit " +
                                    std::to_string(bits) + " bits");
      }
      block[i] = c;
    }
    std::uint8_t* out = low.data() + b * static_cast<std::size_t>(low_bytes_per_block);
    for (int j = 0; j < low_bytes_per_block; ++j) {
      unsigned byte = 0;
      for (int s = 0; s < fields_per_byte; ++s) {
        byte |= (block[static_cast<std::size_t>(j + s * low_bytes_per_block)] & low_mask)
                << (s * field);
      }
      out[j] = static_cast<std::uint8_t>(byte);
    }
    if (bits == 3) {
      std::uint8_t* hi = high.data() + b * kHighBytesPerBlock;
      for (std::size_t j = 0; j < kHighBytesPerBlock; ++j) {
        unsigned byte = 0;
        for (unsigned t = 0; t < 8; ++t) byte |= ((block[8 * j + t] >> 2) & 1u) << t;
        hi[j] = static_cast<std::uint8_t>(byte);
      }
    }
  }
}

void unpack_codes(int bits, std::span<const std::uint8_t> low, std::span<const std::uint8_t> high,
                  std::span<std::uint8_t> codes) {
  check_sizes(bits, codes.size(), low.size(), high.size());
  const int field = low_field_bits(bits);
  const int fields_per_byte = 8 / field;
  const std::size_t low_bytes_per_block = static_cast<std::size_t>(kPackBlock / fields_per_byte);
  const unsigned low_mask = (1u << field) - 1u;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::size_t b = i / kPackBlock;
    const std::size_t in_block = i % kPackBlock;
    const std::size_t j = in_block % low_bytes_per_block;  // the byte
    const std::size_t s = in_block / low_bytes_per_block;  // the field within it
    unsigned c =
        (low[b * low_bytes_per_block + j] >> (s * static_cast<std::size_t>(field))) & low_mask;
    if (bits == 3) {
      c |= ((high[b * kHighBytesPerBlock + in_block / 8] >> (in_block % 8)) & 1u) << 2;
    }
    codes[i] = static_cast<std::uint8_t>(c);
  }
}

}  // namespace lowbit::kernels
