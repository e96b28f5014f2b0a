#include "kernels/measure/latency.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "kernels/base/library_info.h"
#include "stats/summary.h"

namespace lowbit::kernels {

namespace {

using Clock = std::chrono::steady_clock;

// Per-case state shared by the benchmark lambda and the reporter.
struct CaseState {
  TimedCase* timed = nullptr;
  int next_slot = 0;
  std::vector<double> current_run_us;  // call times of the lambda's latest run
  std::vector<double> all_calls_us;    // call times of every reported repetition
  std::vector<double> samples_us;
  std::vector<double> cpu_samples_us;
  std::int64_t iterations = 0;
};

// Google Benchmark runs each registration a few times to find the iteration
// count for the minimum time, then once for real, and reports that last run.
// Registrations run in order, so the k-th report belongs to registration k and
// the case's latest lambda run is the reported one.
class CollectingReporter final : public benchmark::BenchmarkReporter {
 public:
  explicit CollectingReporter(std::vector<CaseState>& states) : states_(states) {}

  bool ReportContext(const Context&) override { return true; }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      CaseState& state = states_[reported_ % states_.size()];
      ++reported_;
      if (run.error_occurred) {
        throw std::runtime_error(fmt::format("{}: {}", state.timed->name, run.error_message));
      }
      const auto iterations = static_cast<double>(run.iterations);
      state.samples_us.push_back(run.real_accumulated_time / iterations * 1e6);
      state.cpu_samples_us.push_back(run.cpu_accumulated_time / iterations * 1e6);
      state.iterations = run.iterations;
      state.all_calls_us.insert(state.all_calls_us.end(), state.current_run_us.begin(),
                                state.current_run_us.end());
    }
  }

 private:
  std::vector<CaseState>& states_;
  std::size_t reported_ = 0;
};

void initialize_google_benchmark() {
  static std::once_flag once;
  std::call_once(once, [] {
    static char program[] = "lowbit";
    static char* argv[] = {program, nullptr};
    int argc = 1;
    benchmark::Initialize(&argc, argv);
  });
}

// Busy-waits until `start` + (1 + factor) × (`stop` − `start`) and returns the time then: the
// call appears `factor` slower, on the clock and on the CPU alike.
Clock::time_point spin_slowdown(Clock::time_point start, Clock::time_point stop, double factor) {
  const auto until = stop + std::chrono::duration_cast<Clock::duration>((stop - start) * factor);
  Clock::time_point now = Clock::now();
  while (now < until) now = Clock::now();
  return now;
}

void run_case(benchmark::State& st, CaseState& state, double injected_slowdown) {
  TimedCase& c = *state.timed;
  set_threads(c.threads);
  state.current_run_us.clear();
  state.current_run_us.reserve(static_cast<std::size_t>(st.max_iterations));
  int slot = state.next_slot;
  for (auto _ : st) {
    const auto start = Clock::now();
    c.call(slot);
    auto stop = Clock::now();
    if (injected_slowdown > 0) stop = spin_slowdown(start, stop, injected_slowdown);
    const double seconds = std::chrono::duration<double>(stop - start).count();
    st.SetIterationTime(seconds);
    state.current_run_us.push_back(seconds * 1e6);
    if (++slot == c.slots) slot = 0;
  }
  state.next_slot = slot;
}

LatencyStats summarize_case(const CaseState& state) {
  const TimedCase& c = *state.timed;
  LatencyStats s;
  s.name = c.name;
  s.batch = c.batch;
  s.threads = c.threads;
  s.repetitions = static_cast<int>(state.samples_us.size());
  s.iterations = state.iterations;
  s.samples_us = state.samples_us;
  s.cpu_samples_us = state.cpu_samples_us;
  const stats::Summary summary = stats::summarize(s.samples_us);
  s.median_us = summary.median;
  s.mean_us = summary.mean;
  s.stddev_us = summary.stddev;
  s.min_us = summary.min;
  s.cv = summary.cv;
  s.p90_us = stats::percentile(state.all_calls_us, 90.0);
  s.p99_us = stats::percentile(state.all_calls_us, 99.0);
  s.throughput_per_s = s.median_us > 0 ? c.batch / (s.median_us * 1e-6) : 0.0;
  s.gops = s.median_us > 0 ? c.ops_per_call / (s.median_us * 1e3) : 0.0;
  s.arithmetic_intensity = c.bytes_per_call > 0 ? c.ops_per_call / c.bytes_per_call : 0.0;
  s.noisy = s.cv > kNoisyCv;
  return s;
}

}  // namespace

std::vector<LatencyStats> measure_latency(std::vector<TimedCase>& cases,
                                          const LatencySettings& settings) {
  if (settings.repetitions < 1) throw std::invalid_argument("repetitions must be ≥ 1");
  if (!(settings.min_time_ms > 0)) throw std::invalid_argument("min time must be > 0 ms");
  if (settings.warmup_ms < 0) throw std::invalid_argument("warm-up must be ≥ 0 ms");
  if (!(settings.injected_slowdown >= 0)) {
    throw std::invalid_argument("an injected slowdown must be ≥ 0");
  }
  for (const TimedCase& c : cases) {
    if (!c.call || c.slots < 1 || c.batch < 1 || c.threads < 1) {
      throw std::invalid_argument(fmt::format("{}: incomplete timed case", c.name));
    }
  }
  if (cases.empty()) return {};
  initialize_google_benchmark();
  const int saved_threads = openblas_threads();

  std::vector<CaseState> states(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) states[i].timed = &cases[i];
  for (int rep = 0; rep < settings.repetitions; ++rep) {
    for (CaseState& state : states) {
      auto* b = benchmark::RegisterBenchmark(
          state.timed->name.c_str(), [&state, slowdown = settings.injected_slowdown](
                                         benchmark::State& st) { run_case(st, state, slowdown); });
      b->UseManualTime()->Unit(benchmark::kMicrosecond)->MinTime(settings.min_time_ms / 1e3);
      if (rep == 0 && settings.warmup_ms > 0) b->MinWarmUpTime(settings.warmup_ms / 1e3);
    }
  }
  CollectingReporter reporter(states);
  try {
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } catch (...) {
    benchmark::ClearRegisteredBenchmarks();
    set_threads(saved_threads);
    throw;
  }
  benchmark::ClearRegisteredBenchmarks();
  set_threads(saved_threads);

  std::vector<LatencyStats> out;
  for (const CaseState& state : states) out.push_back(summarize_case(state));
  return out;
}

int rotation_slots(std::int64_t bytes_per_slot, std::int64_t last_level_cache_bytes) {
  constexpr std::int64_t kMinSlots = 2;
  if (bytes_per_slot <= 0) return static_cast<int>(kMinSlots);
  const std::int64_t wanted = (2 * last_level_cache_bytes + bytes_per_slot - 1) / bytes_per_slot;
  return static_cast<int>(std::max(kMinSlots, wanted));
}

std::int64_t last_level_cache_bytes() {
  std::int64_t largest = 0;
  for (int index = 0; index < 8; ++index) {
    std::ifstream in(fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/size", index));
    std::string text;
    if (!(in >> text) || text.empty()) continue;
    std::int64_t value = 0;
    std::size_t used = 0;
    try {
      value = std::stoll(text, &used);
    } catch (const std::exception&) {
      continue;
    }
    const char unit = used < text.size() ? text[used] : ' ';
    if (unit == 'K') value <<= 10;
    if (unit == 'M') value <<= 20;
    if (unit == 'G') value <<= 30;
    largest = std::max(largest, value);
  }
  return largest;
}

}  // namespace lowbit::kernels
