#pragma once
// The machine's own ceilings, measured: how many operations per second one core can issue for
// each kind of arithmetic our kernels use, and how many bytes per second the memory streams. A
// latency figure alone says "fast" or "slow"; divided by these it says how far from the hardware
// it is (`pct_of_peak`) and which ceiling binds it (roofline `bound`). docs/measurement.md
// "Peaks and the roofline" gives the formulas.
//
// Why measure instead of computing from a data sheet: turbo clocks, virtual machines, double-pumped
// AVX-512 (Zen 4) and ISA caps all move the real ceiling, and none of them is visible in
// /proc/cpuinfo. Each probe is a tight in-register loop of the instruction the kernels use, with
// enough independent accumulators to hide its latency, so its rate is the instruction's
// throughput at the clock the core really runs.
//
// The loops live one ISA per file (peak_avx2.cpp, peak_avx_vnni.cpp, peak_avx512.cpp, declared in
// peak_isa.h), each compiled with its own -m flags (kernels/isa_flags.cmake) and run only when the
// CPU reports the ISA, so the library stays runnable on any x86-64.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "kernels/base/isa_cap.h"

namespace lowbit::kernels {

struct PeakProbe {
  std::string name;          // "fp32_fma", "int8_dot", "bf16_dot"
  std::string isa;           // the loop that ran: "avx2_fma", "avx512f", "avx2_vpmaddubsw", ...
  double gops_per_core = 0;  // G operations/s on one core; a multiply-add counts 2
  double ops_per_cycle_hint = 0;  // gops_per_core / measured_ghz: the instruction's width × ports
};

struct Peaks {
  std::vector<PeakProbe> compute;  // one per probe the CPU (and the ISA cap) allows
  double read_gbytes_per_s = 0;    // streaming read bandwidth with `threads` threads
  int threads = 1;
  double measured_ghz = 0;  // core clock during the probes, from a dependent integer-add chain
};

// Runs every probe the CPU supports at or below `isa_cap`, on the calling thread, then the
// bandwidth probe on `threads` OpenMP threads. About 0.35 s, most of it page faults of the
// bandwidth buffer. `isa_cap` takes oneDNN's names
// ("avx2", "avx2_vnni", "avx512_core", "avx512_core_vnni", "avx512_core_bf16", ...; any case),
// or "native"/"all" for none, so that the peak is that of the instructions the kernels may use.
// A probe whose instruction is unavailable is absent, never zero. Throws std::invalid_argument for
// threads < 1 or an unknown cap.
Peaks measure_peaks(int threads, const std::string& isa_cap = "native");

// The probe called `name`, or nullptr when it was not measured.
const PeakProbe* find_probe(const Peaks& peaks, const std::string& name);

nlohmann::json to_json(const Peaks& peaks);
// Throws nlohmann::json::exception when a field is missing or of the wrong type, and
// std::invalid_argument when a number is not finite and positive.
Peaks peaks_from_json(const nlohmann::json& json);

// ---------------------------------------------------------------------------------------------
// The loops behind the probes, exposed so tests can check each one did the work it claims.

// One throughput loop. `run(iterations)` executes `ops_per_iteration` operations per iteration
// with every input equal to 1 and returns the sum of its accumulators, which is then the number of
// multiply-adds done: iterations × ops_per_iteration / 2 (exact while that stays below 2^24 per
// float lane). Call `run` only when `cpu_supports()` is true.
struct PeakLoop {
  const char* probe;    // PeakProbe::name
  const char* isa;      // PeakProbe::isa
  const char* min_cap;  // the lowest oneDNN ISA cap that admits this instruction
  double ops_per_iteration;
  bool (*cpu_supports)();
  double (*run)(std::int64_t iterations);
};

// Every loop compiled in, fastest first within a probe. measure_peaks takes, per probe, the first
// that the CPU supports and the cap admits.
std::span<const PeakLoop> peak_loops();

// Per probe, the loop measure_peaks runs under `isa_cap`: the first of peak_loops() that the CPU
// supports and the cap admits. In probe order (fp32_fma, int8_dot, bf16_dot); a probe with no
// such loop has no entry.
std::vector<const PeakLoop*> select_peak_loops(const std::string& isa_cap);

// Clock of the calling core in GHz: N dependent 64-bit register adds take N cycles, because an
// integer add has 1 cycle of latency on current x86-64 cores (AMD Zen, Intel Core and Atom), so
// GHz = N / seconds / 1e9. Best of a few runs.
double measure_core_ghz();

// Streaming read bandwidth in GB/s: sums `bytes` (rounded down to whole 128-byte blocks per
// thread) on `threads` OpenMP threads, each thread reading the part it first touched; best of
// `passes`, bytes / seconds / 1e9. Throws std::invalid_argument for threads or passes < 1 or a
// buffer too small to give each thread a block.
double measure_read_gbytes_per_s(int threads, std::int64_t bytes, int passes);

inline constexpr std::int64_t kBandwidthBufferBytes = std::int64_t{256} << 20;  // ≫ any LLC

}  // namespace lowbit::kernels
