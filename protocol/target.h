#pragma once
// The `target` and `version` groups of every result document (docs/result.md; docs/measurement.md
// "Targets and ISA caps"). Plain data and its JSON form only: detecting them is the worker's job
// (worker/target_detect.h), so the coordinator can read and compare targets without linking a
// kernel library.
//
// A target is one machine *as a worker configures it*: the same host capped to AVX2 and one
// thread is a different target from the host at full ISA with two threads. Library versions are
// kept apart in VersionInfo so that upgrading OpenBLAS continues a regression series on the same
// target instead of starting a new one.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lowbit::protocol {

// One cache as Linux reports it for CPU 0. JSON names follow Google Benchmark's context
// (type, level, size, num_sharing) so tools that read its output can read ours.
struct CacheLevel {
  int level = 0;
  std::string type;  // "data", "instruction" or "unified"
  std::int64_t size_bytes = 0;
  int shared_by_cpus = 0;

  friend bool operator==(const CacheLevel&, const CacheLevel&) = default;
};

struct Target {
  std::string id;     // compute_target_id(*this)
  std::string label;  // make_target_label(*this): what a user types, e.g. "avx2-t1"
  std::string cpu;    // model name from /proc/cpuinfo
  std::vector<std::string> isa_flags;  // ISA-relevant CPU flags, in a fixed canonical order
  std::string isa_effective;           // the ISA oneDNN runs with, after any cap
  std::string isa_cap;                 // "native", or the --max-isa the worker was given
  int threads = 0;                     // threads given to OpenBLAS and oneDNN (OpenMP)
  int num_cpus = 0;                    // online logical CPUs on the host
  std::vector<CacheLevel> caches;
  std::int64_t memory_bytes = 0;  // MemTotal, exact; the id uses it rounded to GiB
  std::string os;                 // "Linux 6.1.0-18-amd64": kernel name and release

  friend bool operator==(const Target&, const Target&) = default;
};

// Hex XXH3-64 of everything that decides how fast a kernel can run on this target:
// cpu, isa_flags, isa_effective, isa_cap, threads, num_cpus, caches, memory rounded to GiB and the
// kernel *name* (not its release). Not covered: id, label, library versions, time, host name, free
// memory, kernel release — a kernel update keeps the series, and a step it causes then shows up as
// a regression with the new `os` recorded beside it. Order of isa_flags and caches does not
// matter. Equal in every process on the same machine with the same cap and threads.
std::string compute_target_id(const Target& target);

// "<cap>-t<threads>": "native-t2" without a cap, "avx2-t1" capped to AVX2 with one thread.
std::string make_target_label(const Target& target);

void to_json(nlohmann::json& j, const CacheLevel& cache);
void from_json(const nlohmann::json& j, CacheLevel& cache);
void to_json(nlohmann::json& j, const Target& target);
void from_json(const nlohmann::json& j, Target& target);

// What built and what runs the numbers; deliberately not part of the target id.
struct VersionInfo {
  std::string lowbit;         // `git describe` of the build, "-dirty" when built from edits
  std::string compiler;       // "g++ 12.2.0"
  std::string openblas;       // "0.3.21"
  std::string openblas_core;  // the kernel set OpenBLAS picked at load, "Haswell", "Cooperlake"
  std::string onednn;         // "2.6.3"

  friend bool operator==(const VersionInfo&, const VersionInfo&) = default;
};

void to_json(nlohmann::json& j, const VersionInfo& version);
void from_json(const nlohmann::json& j, VersionInfo& version);

}  // namespace lowbit::protocol
