#include "kernels/measure/peak.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "kernels/measure/peak_isa.h"

#if !defined(__x86_64__)
#error "kernels/measure/peak.cpp measures x86-64 instructions"
#endif

namespace lowbit::kernels {

namespace {

// Bumped whenever a loop or the way a figure is computed changes, so cached peaks of an older
// build are measured again instead of trusted (kernels/measure/peak_cache.h).
constexpr int kPeaksFormatVersion = 1;

// Each timed loop (the clock and every compute probe) first grows its iteration count until one
// run lasts kMinRunSeconds, then runs kComputeRuns more times and keeps its fastest run. The runs
// of the different loops are interleaved (clock, fp32, int8, clock, fp32, int8, ...), so a slow
// spell of a shared machine (on a VM perhaps another tenant on the same physical core) spreads
// over all of them instead of spoiling every run of one. About 0.1 s for all the loops together.
constexpr double kMinRunSeconds = 0.002;
constexpr int kComputeRuns = 8;
constexpr int kBandwidthPasses = 3;
// Dependent adds per iteration of the clock loop.
constexpr int kAddsPerIteration = 64;

// The result of every loop goes here, so no loop is dead code even to a whole-program optimizer.
// One per thread: two threads measuring at once must not race on it.
thread_local volatile double g_sink = 0;

// CPU time of the calling thread. The compute probes run on one thread of a machine others may be
// using: a preempted run would count the other process's time against the core under wall time,
// but not under thread CPU time.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// One loop to time: `run(iterations)` returns a checksum that goes to the sink.
using TimedLoop = double (*)(std::int64_t iterations);

double timed_seconds(TimedLoop run, std::int64_t iterations) {
  const double start = thread_cpu_seconds();
  g_sink = g_sink + run(iterations);
  return thread_cpu_seconds() - start;
}

// Seconds per iteration of the fastest run of each loop, runs interleaved across the loops.
std::vector<double> best_seconds_per_iteration(const std::vector<TimedLoop>& loops) {
  constexpr std::int64_t kMaxIterations = std::int64_t{1} << 40;
  std::vector<std::int64_t> iterations(loops.size(), 256);
  std::vector<double> best(loops.size());
  for (std::size_t i = 0; i < loops.size(); ++i) {
    best[i] = timed_seconds(loops[i], iterations[i]);
    while (best[i] < kMinRunSeconds && iterations[i] < kMaxIterations) {
      iterations[i] *= 2;
      best[i] = timed_seconds(loops[i], iterations[i]);
    }
  }
  for (int run = 0; run < kComputeRuns; ++run) {
    for (std::size_t i = 0; i < loops.size(); ++i) {
      best[i] = std::min(best[i], timed_seconds(loops[i], iterations[i]));
    }
  }
  for (std::size_t i = 0; i < loops.size(); ++i) best[i] /= static_cast<double>(iterations[i]);
  return best;
}

// Returns a double like every timed loop; x stays far below 2^53.
double add_chain(std::int64_t iterations) {
  std::uint64_t x = 0;
  std::uint64_t step = 1;
  // Opaque to the compiler: a small immediate add may be folded at rename on newer cores.
  asm volatile("" : "+r"(step));
  for (std::int64_t i = 0; i < iterations; ++i) {
    // Each add waits for the one before; the loop counter runs beside them on another ALU.
    asm volatile(".rept %c[n]\n\tadd %[step], %[x]\n\t.endr"
                 : [x] "+r"(x)
                 : [step] "r"(step), [n] "i"(kAddsPerIteration));
  }
  return static_cast<double>(x);
}

std::uint64_t sum_u64_portable(const std::uint64_t* src, std::int64_t count) {
  std::uint64_t sum = 0;
  for (std::int64_t i = 0; i < count; ++i) sum += src[i];
  return sum;
}

bool cpu_has_avx2_fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
bool cpu_has_avx_vnni() { return cpu_has_avx2_fma() && __builtin_cpu_supports("avxvnni"); }
// What peak_avx512.cpp is compiled for (oneDNN's avx512_core); its loops need all four.
bool cpu_has_avx512_core() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
bool cpu_has_avx512_vnni() { return cpu_has_avx512_core() && __builtin_cpu_supports("avx512vnni"); }
bool cpu_has_avx512_bf16() { return cpu_has_avx512_core() && __builtin_cpu_supports("avx512bf16"); }

// Fastest first within each probe; ops per iteration as derived beside each loop.
constexpr PeakLoop kPeakLoops[] = {
    {"fp32_fma", "avx512f", "avx512_core", 512, cpu_has_avx512_core, peak_isa::fp32_fma_avx512},
    {"fp32_fma", "avx2_fma", "avx2", 384, cpu_has_avx2_fma, peak_isa::fp32_fma_avx2},
    {"int8_dot", "avx512_vnni", "avx512_core_vnni", 2048, cpu_has_avx512_vnni,
     peak_isa::int8_dot_avx512_vnni},
    {"int8_dot", "avx512_vpmaddubsw", "avx512_core", 1024, cpu_has_avx512_core,
     peak_isa::int8_dot_avx512bw},
    {"int8_dot", "avx_vnni", "avx2_vnni", 768, cpu_has_avx_vnni, peak_isa::int8_dot_avx_vnni},
    {"int8_dot", "avx2_vpmaddubsw", "avx2", 384, cpu_has_avx2_fma, peak_isa::int8_dot_avx2},
    {"bf16_dot", "avx512_bf16", "avx512_core_bf16", 1024, cpu_has_avx512_bf16,
     peak_isa::bf16_dot_avx512},
};

constexpr std::string_view kProbeNames[] = {"fp32_fma", "int8_dot", "bf16_dot"};

double positive_finite(const nlohmann::json& json, const char* field) {
  const double value = json.at(field).get<double>();
  if (!std::isfinite(value) || value <= 0) {
    throw std::invalid_argument(std::string("peaks: ") + field + " must be finite and positive");
  }
  return value;
}

}  // namespace

std::span<const PeakLoop> peak_loops() { return kPeakLoops; }

std::vector<const PeakLoop*> select_peak_loops(const std::string& isa_cap) {
  const int cap = isa_cap_rank(isa_cap);
  std::vector<const PeakLoop*> chosen;
  for (const std::string_view probe : kProbeNames) {
    for (const PeakLoop& loop : kPeakLoops) {
      if (probe == loop.probe && isa_cap_rank(loop.min_cap) <= cap && loop.cpu_supports()) {
        chosen.push_back(&loop);
        break;
      }
    }
  }
  return chosen;
}

double measure_core_ghz() {
  const double seconds = best_seconds_per_iteration({add_chain}).front();
  return kAddsPerIteration / seconds * 1e-9;
}

double measure_read_gbytes_per_s(int threads, std::int64_t bytes, int passes) {
  if (threads < 1) throw std::invalid_argument("bandwidth: threads must be at least 1");
  if (passes < 1) throw std::invalid_argument("bandwidth: passes must be at least 1");
  // Each thread reads a whole number of 16-word (128 B) blocks.
  constexpr std::int64_t kBlockWords = 16;
  const std::int64_t words_per_thread = bytes / 8 / threads / kBlockWords * kBlockWords;
  if (words_per_thread == 0) throw std::invalid_argument("bandwidth: buffer too small");
  const std::int64_t words = words_per_thread * threads;
  const std::unique_ptr<std::uint64_t, decltype(&std::free)> buffer(
      static_cast<std::uint64_t*>(std::aligned_alloc(64, static_cast<std::size_t>(words) * 8)),
      &std::free);
  if (!buffer) throw std::bad_alloc();
  std::uint64_t* const data = buffer.get();
  const auto sum = cpu_has_avx2_fma() ? peak_isa::sum_u64_avx2 : sum_u64_portable;

  // First touch by the thread that later reads the part, so each page sits on that thread's NUMA
  // node, as a kernel's own buffers would. The same static schedule in both loops.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    std::fill_n(data + t * words_per_thread, words_per_thread, std::uint64_t{1});
  }
  double best = 0;
  std::uint64_t total = 0;
  for (int pass = 0; pass < passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : total)
    for (int t = 0; t < threads; ++t) total += sum(data + t * words_per_thread, words_per_thread);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    best = std::max(best, static_cast<double>(words) * 8 / seconds.count() * 1e-9);
  }
  g_sink = g_sink + static_cast<double>(total);
  return best;
}

Peaks measure_peaks(int threads, const std::string& isa_cap) {
  if (threads < 1) throw std::invalid_argument("peaks: threads must be at least 1");
  const std::vector<const PeakLoop*> loops = select_peak_loops(isa_cap);
  Peaks peaks;
  peaks.threads = threads;
  // The clock is timed beside the probes, so it sees the same clock they ran at.
  std::vector<TimedLoop> timed = {add_chain};
  for (const PeakLoop* loop : loops) timed.push_back(loop->run);
  const std::vector<double> seconds = best_seconds_per_iteration(timed);
  peaks.measured_ghz = kAddsPerIteration / seconds[0] * 1e-9;
  for (std::size_t i = 0; i < loops.size(); ++i) {
    const double gops = loops[i]->ops_per_iteration / seconds[i + 1] * 1e-9;
    peaks.compute.push_back({loops[i]->probe, loops[i]->isa, gops, gops / peaks.measured_ghz});
  }
  peaks.read_gbytes_per_s =
      measure_read_gbytes_per_s(threads, kBandwidthBufferBytes, kBandwidthPasses);
  return peaks;
}

const PeakProbe* find_probe(const Peaks& peaks, const std::string& name) {
  const auto found = std::find_if(peaks.compute.begin(), peaks.compute.end(),
                                  [&](const PeakProbe& probe) { return probe.name == name; });
  return found == peaks.compute.end() ? nullptr : &*found;
}

nlohmann::json to_json(const Peaks& peaks) {
  nlohmann::json compute = nlohmann::json::array();
  for (const PeakProbe& probe : peaks.compute) {
    compute.push_back({{"name", probe.name},
                       {"isa", probe.isa},
                       {"gops_per_core", probe.gops_per_core},
                       {"ops_per_cycle_hint", probe.ops_per_cycle_hint}});
  }
  return {{"version", kPeaksFormatVersion},
          {"compute", std::move(compute)},
          {"read_gbytes_per_s", peaks.read_gbytes_per_s},
          {"threads", peaks.threads},
          {"measured_ghz", peaks.measured_ghz}};
}

Peaks peaks_from_json(const nlohmann::json& json) {
  if (json.at("version").get<int>() != kPeaksFormatVersion) {
    throw std::invalid_argument("peaks: measured by another version of the probes");
  }
  Peaks peaks;
  for (const nlohmann::json& entry : json.at("compute")) {
    PeakProbe probe{entry.at("name").get<std::string>(), entry.at("isa").get<std::string>(),
                    positive_finite(entry, "gops_per_core"),
                    positive_finite(entry, "ops_per_cycle_hint")};
    if (probe.name.empty() || probe.isa.empty()) {
      throw std::invalid_argument("peaks: a probe needs a name and an ISA");
    }
    if (find_probe(peaks, probe.name) != nullptr) {
      throw std::invalid_argument("peaks: probe \"" + probe.name + "\" appears twice");
    }
    peaks.compute.push_back(std::move(probe));
  }
  peaks.read_gbytes_per_s = positive_finite(json, "read_gbytes_per_s");
  peaks.threads = json.at("threads").get<int>();
  if (peaks.threads < 1) throw std::invalid_argument("peaks: threads must be at least 1");
  peaks.measured_ghz = positive_finite(json, "measured_ghz");
  return peaks;
}

}  // namespace lowbit::kernels
