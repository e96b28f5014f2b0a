#include "kernels/base/file_io.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>

namespace lowbit::kernels {

void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  std::filesystem::create_directories(path.parent_path());
  // pid + a process-wide counter: two writers of the same key never share a temp file.
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path tmp =
      path.string() + fmt::format(".tmp.{}.{}", ::getpid(), counter.fetch_add(1));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw FileError(fmt::format("{}: cannot write", tmp.string()));
    }
  }
  std::filesystem::rename(tmp, path);
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(fmt::format("{}: cannot open", path.string()));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace lowbit::kernels
