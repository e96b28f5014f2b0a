#pragma once
// Whole-file reads and atomic writes, for everything lowbit keeps on disk (model files, the
// model cache, cached peaks). A writer killed at any moment leaves either the old file or the
// new one under the final name, never half of one: readers of a cache never see a torn entry.

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <vector>

namespace lowbit::kernels {

// A file that cannot be read or written; what() names the path.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes to a temporary file in the same folder (created on demand), then renames it over
// `path`. Throws FileError when the bytes cannot be written.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

// The whole file. Throws FileError when it cannot be opened.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path);

}  // namespace lowbit::kernels
