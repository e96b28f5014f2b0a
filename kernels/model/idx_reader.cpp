#include "kernels/model/idx_reader.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace lowbit::kernels {

namespace {

std::uint32_t read_be32(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return (std::uint32_t{bytes[offset]} << 24) | (std::uint32_t{bytes[offset + 1]} << 16) |
         (std::uint32_t{bytes[offset + 2]} << 8) | std::uint32_t{bytes[offset + 3]};
}

constexpr std::size_t kHeaderWordBytes = 4;
constexpr std::uint8_t kIdxTypeUnsignedByte = 0x08;

}  // namespace

IdxArray parse_idx(std::span<const std::uint8_t> bytes, std::uint32_t expected_magic,
                   const std::string& name) {
  if (bytes.size() < kHeaderWordBytes) {
    throw DataError(
        fmt::format("{}: truncated: {} bytes, too short for an IDX header", name, bytes.size()));
  }
  const std::uint32_t magic = read_be32(bytes, 0);
  // The magic includes the type byte: check it first, so an IDX file of
  // another element type is reported as such, not as a bad magic number.
  if (bytes[0] == 0 && bytes[1] == 0 && bytes[2] != kIdxTypeUnsignedByte) {
    throw DataError(fmt::format("{}: unsupported IDX element type 0x{:02x}", name, bytes[2]));
  }
  if (magic != expected_magic) {
    throw DataError(
        fmt::format("{}: bad magic number {} (expected {})", name, magic, expected_magic));
  }
  const std::size_t rank = bytes[3];
  const std::size_t header_bytes = kHeaderWordBytes * (1 + rank);
  if (bytes.size() < header_bytes) {
    throw DataError(
        fmt::format("{}: truncated: {} bytes, header needs {}", name, bytes.size(), header_bytes));
  }
  IdxArray array;
  std::uint64_t elements = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint32_t size = read_be32(bytes, kHeaderWordBytes * (1 + d));
    if (size == 0) throw DataError(fmt::format("{}: dimension {} is zero", name, d));
    array.dims.push_back(size);
    elements *= size;
  }
  const std::uint64_t payload = bytes.size() - header_bytes;
  if (payload < elements) {
    throw DataError(
        fmt::format("{}: truncated: {} data bytes, dimensions need {}", name, payload, elements));
  }
  if (payload > elements) {
    throw DataError(
        fmt::format("{}: {} unexpected bytes after the data", name, payload - elements));
  }
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header_bytes), bytes.end());
  return array;
}

std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw DataError(fmt::format("{}: no such file", name));
  }
  // gzopen also reads uncompressed files transparently.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(name.c_str(), "rb"), gzclose_r);
  if (!file) {
    throw DataError(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
  }
  std::vector<std::uint8_t> bytes;
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  for (;;) {
    const std::size_t old_size = bytes.size();
    bytes.resize(old_size + kChunk);
    const int got = gzread(file.get(), bytes.data() + old_size, static_cast<unsigned>(kChunk));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      throw DataError(fmt::format("{}: corrupt gzip data: {}", name, message));
    }
    bytes.resize(old_size + static_cast<std::size_t>(got));
    if (got == 0) break;
  }
  // zlib reports a stream cut short (no trailer, CRC never checked) only via
  // gzerror after the last read, as Z_BUF_ERROR.
  int code = 0;
  const char* message = gzerror(file.get(), &code);
  if (code != Z_OK) {
    throw DataError(fmt::format("{}: corrupt or truncated gzip data: {}", name, message));
  }
  return bytes;
}

IdxArray read_idx_file(const std::filesystem::path& path, std::uint32_t expected_magic) {
  const std::vector<std::uint8_t> bytes = read_gzip_file(path);
  return parse_idx(bytes, expected_magic, path.string());
}

}  // namespace lowbit::kernels
