#pragma once
// One mechanism for choosing among the tiers of one of our own kernels (fp16, sparse CSR, int4):
// an ordered table, fastest first and the plain reference last. `auto` takes the first tier the
// CPU supports and the ISA cap admits; a forced tier that cannot run here is EngineUnavailable
// with the reason, never a silent substitute; a tier name nobody knows is bad input.
//
// A tier type describes itself with four fields, the rest is its own (the functions it runs):
//   const char* path;        what a user forces: "avx512", "avx2", "ref", ...
//   const char* min_cap;     the lowest ISA level (isa_cap.h) that admits it
//   const char* cpu_flags;   what cpu_supports checks, for messages: "avx2 fma f16c"
//   bool (*cpu_supports)();  whether this CPU can execute it

#include <span>
#include <string>

#include "kernels/base/engine_unavailable.h"
#include "kernels/base/isa_cap.h"

namespace lowbit::kernels {

template <class Tier>
class TierTable {
 public:
  // `family` names the kernel in messages ("fp16"); `tiers` must outlive the table (a constexpr
  // array) and end with a tier every CPU and cap admit.
  constexpr TierTable(const char* family, std::span<const Tier> tiers)
      : family_(family), tiers_(tiers) {}

  std::span<const Tier> tiers() const { return tiers_; }

  // The first tier the CPU supports and `isa_cap` admits ("native" admits all). Never fails for
  // a known cap: the last tier runs everywhere. Throws std::invalid_argument for an unknown cap.
  const Tier& select(const std::string& isa_cap) const {
    const int cap_rank = isa_cap_rank(isa_cap);
    for (const Tier& tier : tiers_) {
      if (admitted(tier, cap_rank)) return tier;
    }
    return tiers_.back();
  }

  // The tier forced as `path`, or select(isa_cap) for "auto". Throws std::invalid_argument naming
  // the path when no tier has that name (or the cap is unknown), and EngineUnavailable saying
  // what is missing when this CPU, or `isa_cap`, excludes it.
  const Tier& find(const std::string& path, const std::string& isa_cap) const {
    if (path == "auto") return select(isa_cap);
    const int cap_rank = isa_cap_rank(isa_cap);
    for (const Tier& tier : tiers_) {
      if (path != tier.path) continue;
      if (!tier.cpu_supports()) {
        throw EngineUnavailable(std::string(family_) + " kernel path \"" + path +
                                "\" cannot run here: it needs " + tier.cpu_flags +
                                " and this CPU lacks some of them");
      }
      if (!admitted(tier, cap_rank)) {
        throw EngineUnavailable(std::string(family_) + " kernel path \"" + path +
                                "\" needs ISA cap " + tier.min_cap + " or above, not " + isa_cap);
      }
      return tier;
    }
    std::string known = "auto";
    for (const Tier& tier : tiers_) known += std::string(", ") + tier.path;
    throw std::invalid_argument("path: no " + std::string(family_) + " kernel path \"" + path +
                                "\" (known: " + known + ")");
  }

 private:
  static bool admitted(const Tier& tier, int cap_rank) {
    return isa_cap_rank(tier.min_cap) <= cap_rank && tier.cpu_supports();
  }

  const char* family_;
  std::span<const Tier> tiers_;
};

}  // namespace lowbit::kernels
