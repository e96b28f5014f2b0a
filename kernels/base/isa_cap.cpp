#include "kernels/base/isa_cap.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace lowbit::kernels {

namespace {

constexpr std::string_view kAvx2Flags[] = {"avx2", "fma"};
constexpr std::string_view kAvx512CoreFlags[] = {"avx512f", "avx512bw", "avx512vl", "avx512dq"};
constexpr std::string_view kAvx512VnniFlags[] = {"avx512f", "avx512bw", "avx512vl", "avx512dq",
                                                 "avx512_vnni"};
constexpr std::string_view kAvx512Bf16Flags[] = {"avx512f",  "avx512bw",    "avx512vl",
                                                 "avx512dq", "avx512_vnni", "avx512_bf16"};

// OpenBLAS has no VNNI-only core: SkylakeX is its AVX-512 kernel set, and Cooperlake adds bf16.
constexpr IsaLevel kLevels[] = {
    {"sse41", "", {}},
    {"avx", "", {}},
    {"avx2", "Haswell", kAvx2Flags},
    {"avx2_vnni", "", {}},
    {"avx512_core", "SkylakeX", kAvx512CoreFlags},
    {"avx512_core_vnni", "SkylakeX", kAvx512VnniFlags},
    {"avx512_core_bf16", "Cooperlake", kAvx512Bf16Flags},
    {"avx512_core_amx", "", {}},
    {"all", "", {}},
};

}  // namespace

std::span<const IsaLevel> isa_levels() { return kLevels; }

int isa_cap_rank(const std::string& cap) {
  std::string lower(cap);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "native") lower = "all";
  const auto* found = std::find_if(std::begin(kLevels), std::end(kLevels),
                                   [&](const IsaLevel& level) { return level.name == lower; });
  if (found == std::end(kLevels)) {
    throw std::invalid_argument("unknown ISA cap \"" + cap + "\"");
  }
  return static_cast<int>(found - std::begin(kLevels));
}

}  // namespace lowbit::kernels
