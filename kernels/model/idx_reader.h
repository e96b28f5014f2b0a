#pragma once
// Reader for the IDX format of (Fashion-)MNIST, gzip-compressed or plain.
// IDX: a big-endian 32-bit magic (two zero bytes, a type code, the number of
// dimensions), one big-endian 32-bit size per dimension, then the data.
// We only read unsigned bytes (type 0x08), which is what the data sets use.

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace lowbit::kernels {

// A data file that is missing, truncated or corrupt. The message names the
// file and the problem; the CLI maps it to exit code 2 (bad input).
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

inline constexpr std::uint32_t kIdxMagicLabels = 2049;  // 0x00000801: ubyte, 1 dim
inline constexpr std::uint32_t kIdxMagicImages = 2051;  // 0x00000803: ubyte, 3 dims

// Parses an IDX byte stream; `expected_magic` pins the kind of file, and
// `name` is used in error messages.
IdxArray parse_idx(std::span<const std::uint8_t> bytes, std::uint32_t expected_magic,
                   const std::string& name);

// Reads a whole file, inflating it if it is gzip-compressed.
std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path);

IdxArray read_idx_file(const std::filesystem::path& path, std::uint32_t expected_magic);

}  // namespace lowbit::kernels
