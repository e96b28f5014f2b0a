#include "coordinator/artifact_hash.h"

#include <fmt/format.h>
#include <xxhash.h>

namespace lowbit::coordinator {

std::string artifact_hash(const std::vector<std::uint8_t>& bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

}  // namespace lowbit::coordinator
