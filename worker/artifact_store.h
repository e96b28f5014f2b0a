#pragma once
// Where a worker puts and gets content-addressed model files: the
// coordinator's /api/v1/artifacts over HTTP in production, a map in tests.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lowbit::worker {

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Throws std::runtime_error when the store refuses or cannot be reached.
  virtual void put(const std::string& hash, std::span<const std::uint8_t> bytes) = 0;
  // Nothing when the store has no artifact of that hash.
  virtual std::optional<std::vector<std::uint8_t>> get(const std::string& hash) = 0;
};

}  // namespace lowbit::worker
