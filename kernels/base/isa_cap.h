#pragma once
// The one order of instruction-set levels that every ISA cap in lowbit is compared in: oneDNN's
// cpu_isa order (the ONEDNN_MAX_CPU_ISA values), lowest first. A kernel tier names the lowest
// level that admits it; a process capped at a level runs only the tiers at or below it, so one
// machine stands in for an older target. The worker's `--max-isa` caps are the levels that also
// have an OpenBLAS core type to pin, so both libraries agree on the target they imitate.

#include <span>
#include <string>
#include <string_view>

namespace lowbit::kernels {

struct IsaLevel {
  std::string_view name;  // oneDNN's name, lower case: "avx2", "avx512_core_vnni", "all"
  // The OPENBLAS_CORETYPE that stands for this level; empty when a process cannot be capped
  // here (OpenBLAS has no core for it, or it is no cap at all).
  std::string_view openblas_core;
  // The /proc/cpuinfo flags a CPU must have to run this level's instructions, for the levels a
  // worker can cap to.
  std::span<const std::string_view> required_flags;
};

// Every level, lowest first, "all" (no cap) last.
std::span<const IsaLevel> isa_levels();

// The rank of a level name (case-insensitive) in isa_levels(); "native" equals "all". Throws
// std::invalid_argument for other names.
int isa_cap_rank(const std::string& cap);

}  // namespace lowbit::kernels
