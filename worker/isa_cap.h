#pragma once
// Capping the ISA so one machine stands in for an older target. oneDNN reads
// ONEDNN_MAX_CPU_ISA and OpenBLAS reads OPENBLAS_CORETYPE when they load —
// OpenBLAS at process start — so a cap is applied by setting both and
// re-executing the process, then verified: a library that ignored the cap
// would silently measure the wrong target.

#include <string>
#include <vector>

namespace lowbit::worker {

struct IsaCap {
  std::string name;                         // "avx2", "avx512_core", ...
  std::string onednn_max_isa;               // ONEDNN_MAX_CPU_ISA value
  std::string openblas_coretype;            // OPENBLAS_CORETYPE value
  std::vector<std::string> required_flags;  // /proc/cpuinfo flags the CPU must have
};

// Every cap but "native", in order.
const std::vector<IsaCap>& isa_caps();
std::vector<std::string> isa_cap_names();  // "native" first

// Makes this process run under `cap`. For "native" it does nothing. Otherwise,
// unless the environment already carries the cap, it sets the environment and
// re-executes /proc/self/exe with `argv` (and does not return). Throws
// std::invalid_argument when the CPU lacks a flag the cap needs.
void enter_isa_cap(const std::string& cap, char** argv);

// Throws std::runtime_error when oneDNN's effective ISA or OpenBLAS's core do
// not match the cap (call after enter_isa_cap, before measuring).
void verify_isa_cap(const std::string& cap);

}  // namespace lowbit::worker
