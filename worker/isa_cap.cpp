#include "worker/isa_cap.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kernels/base/isa_cap.h"
#include "kernels/base/library_info.h"
#include "worker/target_detect.h"

namespace lowbit::worker {

namespace {

// Marks a process that already runs under its cap, so it never re-executes twice.
constexpr const char* kCapMarker = "LOWBIT_ISA_CAP";

const IsaCap* find_cap(const std::string& name) {
  for (const IsaCap& cap : isa_caps()) {
    if (cap.name == name) return &cap;
  }
  return nullptr;
}

std::vector<std::string> cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::stringstream text;
  text << in.rdbuf();
  return parse_cpuinfo(text.str()).isa_flags;
}

}  // namespace

const std::vector<IsaCap>& isa_caps() {
  // The levels of kernels/base/isa_cap.h that pin both libraries: oneDNN takes the level's own
  // name, OpenBLAS the core type that stands for it.
  static const std::vector<IsaCap> caps = [] {
    std::vector<IsaCap> out;
    for (const kernels::IsaLevel& level : kernels::isa_levels()) {
      if (level.openblas_core.empty()) continue;
      IsaCap cap{std::string(level.name),
                 std::string(level.name),
                 std::string(level.openblas_core),
                 {level.required_flags.begin(), level.required_flags.end()}};
      std::transform(cap.onednn_max_isa.begin(), cap.onednn_max_isa.end(),
                     cap.onednn_max_isa.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      out.push_back(std::move(cap));
    }
    return out;
  }();
  return caps;
}

std::vector<std::string> isa_cap_names() {
  std::vector<std::string> names{"native"};
  for (const IsaCap& cap : isa_caps()) names.push_back(cap.name);
  return names;
}

void enter_isa_cap(const std::string& name, char** argv) {
  if (name == "native") return;
  const IsaCap* cap = find_cap(name);
  if (cap == nullptr) throw std::invalid_argument(fmt::format("unknown ISA cap \"{}\"", name));
  const char* marker = std::getenv(kCapMarker);
  if (marker != nullptr && name == marker) return;
  // A core type the CPU cannot execute would crash OpenBLAS with SIGILL: refuse first.
  const std::vector<std::string> flags = cpu_flags();
  for (const std::string& flag : cap->required_flags) {
    if (std::find(flags.begin(), flags.end(), flag) == flags.end()) {
      throw std::invalid_argument(
          fmt::format("this CPU cannot run {}: it lacks the {} instructions", name, flag));
    }
  }
  ::setenv("ONEDNN_MAX_CPU_ISA", cap->onednn_max_isa.c_str(), 1);
  ::setenv("OPENBLAS_CORETYPE", cap->openblas_coretype.c_str(), 1);
  ::setenv(kCapMarker, name.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  throw std::runtime_error(
      fmt::format("cannot re-execute under ISA cap {}: {}", name, std::strerror(errno)));
}

void verify_isa_cap(const std::string& name) {
  if (name == "native") return;
  const IsaCap* cap = find_cap(name);
  if (cap == nullptr) throw std::invalid_argument(fmt::format("unknown ISA cap \"{}\"", name));
  const std::string onednn = kernels::onednn_effective_isa();
  if (onednn != cap->name) {
    throw std::runtime_error(
        fmt::format("ISA cap {} not in effect: oneDNN reports {}", name, onednn));
  }
  const std::string core = kernels::openblas_core();
  if (core != cap->openblas_coretype) {
    throw std::runtime_error(
        fmt::format("ISA cap {} not in effect: OpenBLAS runs the {} core, expected {}", name, core,
                    cap->openblas_coretype));
  }
}

}  // namespace lowbit::worker
