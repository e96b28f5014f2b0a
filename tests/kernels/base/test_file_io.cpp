// Tests for whole-file reads and atomic writes (kernels/base/file_io.h): a round trip, a
// replacement that leaves no stale bytes and no temporary file, and a FileError naming the file.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kernels/base/file_io.h"
#include "kernels/base/random.h"
#include "tests/support/subprocess.h"

namespace {

namespace fs = std::filesystem;
using lowbit::testing::TempDir;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kSeed = 7;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Bytes random_bytes(std::size_t count, std::uint64_t seed) {
  lowbit::kernels::Rng rng(seed);
  Bytes bytes(count);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(rng.below(256));
  return bytes;
}

}  // namespace

TEST_CASE("file io: write_file_atomically and read_file round-trip, no temp files left") {
  CAPTURE(kSeed);
  TempDir dir("lowbit-test-fileio-atomic");
  const fs::path folder = dir.folder() / "nested" / "models";  // created on demand
  const fs::path path = folder / "m.lbm";
  const Bytes first = random_bytes(3001, kSeed);
  lowbit::kernels::write_file_atomically(path, first);
  CHECK(lowbit::kernels::read_file(path) == first);

  // Overwriting replaces the whole file (a shorter one, so stale tail bytes would show).
  const Bytes second = random_bytes(701, kSeed + 1);
  REQUIRE(second.size() < first.size());
  lowbit::kernels::write_file_atomically(path, second);
  CHECK(lowbit::kernels::read_file(path) == second);
  CHECK(fs::file_size(path) == second.size());

  // Empty content is a valid write.
  lowbit::kernels::write_file_atomically(folder / "empty", Bytes{});
  CHECK(lowbit::kernels::read_file(folder / "empty").empty());

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  CAPTURE(names.size());
  CHECK(names == std::vector<std::string>{"empty", "m.lbm"});
  for (const auto& n : names) {
    CAPTURE(n);
    CHECK_FALSE(contains(n, ".tmp."));
  }
}

TEST_CASE("file io: read_file of a missing file throws FileError naming it") {
  TempDir dir("lowbit-test-fileio-readmissing");
  const fs::path missing = dir.folder() / "absent.lbm";
  std::string msg;
  try {
    lowbit::kernels::read_file(missing);
    FAIL_CHECK("expected a FileError, nothing was thrown");
  } catch (const lowbit::kernels::FileError& e) {
    msg = e.what();
  }
  CAPTURE(msg);
  CHECK(contains(msg, missing.string()));
}
