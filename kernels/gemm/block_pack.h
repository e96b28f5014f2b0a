#pragma once
// Bit packing of the sub-8-bit weight codes of the int4 compute path (kernels/quant/block_quant.h),
// so that each width moves fewer bytes: 4 bits two codes a byte, 2 bits four a byte, 3 bits as a
// 2-bit plane plus a separate plane of high bits, eight a byte.
//
// Codes are packed in blocks of kPackBlock = 32 (the width of one AVX2 register of int8
// activations): every group size (32, 64, 128) is a whole number of blocks, so a group never
// straddles a block and the kernels unpack one block with a few shifts and masks. Within a
// block of codes c[0..31] (llama.cpp's Q4_0 order for 4 bits):
//   4 bits:  16 bytes, byte j        = c[j] | c[j + 16] << 4;
//   2 bits:   8 bytes, byte j        = c[j] | c[j + 8] << 2 | c[j + 16] << 4 | c[j + 24] << 6;
//   3 bits:  the low 2 bits of every code as the 2-bit block (8 bytes, in the low plane), and
//            4 bytes in the high plane, bit t of byte j = bit 2 of c[8·j + t].
// So byte j's bit fields each hold one contiguous run of the block: a shift by a whole field
// and a mask give codes in order, which is what the SIMD kernels rely on.
//
// Padding: n codes take ceil(n / 32) blocks; the codes after n in the last block pack as 0 and
// unpack is given n, so any length (odd, not a multiple of 2, 4 or 32) round-trips.

#include <cstddef>
#include <cstdint>
#include <span>

namespace lowbit::kernels {

inline constexpr int kPackBlock = 32;  // codes per packed block

// Bytes of the low plane (every width) and the high plane (3 bits only; 0 otherwise) for n
// codes of `bits` ∈ {2, 3, 4}, padding included. Throws std::invalid_argument for other widths.
std::size_t packed_low_bytes(int bits, std::size_t n);
std::size_t packed_high_bytes(int bits, std::size_t n);

// codes[i] < 2^bits. low and high must have exactly packed_low_bytes / packed_high_bytes
// elements (high may be empty unless bits = 3). Throws std::invalid_argument for a bad width,
// a code out of range or a span of the wrong size.
void pack_codes(int bits, std::span<const std::uint8_t> codes, std::span<std::uint8_t> low,
                std::span<std::uint8_t> high);

// The inverse: writes codes.size() codes. Same size rules as pack_codes.
void unpack_codes(int bits, std::span<const std::uint8_t> low, std::span<const std::uint8_t> high,
                  std::span<std::uint8_t> codes);

}  // namespace lowbit::kernels
