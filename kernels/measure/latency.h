#pragma once
// The latency harness: Google Benchmark driven from code. Each case is one
// kernel call on one batch size; the harness times every call, lets Google
// Benchmark pick the iteration count for the minimum time per repetition,
// and turns the repetitions into the statistics of a result's `latency[]`.
//
// Why this shape:
// - One sample per repetition (time per call averaged over the repetition's
//   iterations): those are what Mann-Whitney compares between runs, as
//   Google Benchmark's compare.py does. Median, mean, stddev, cv and min are
//   taken over them.
// - p90/p99 come from the individual call times of all repetitions: a tail
//   is a property of calls, not of a handful of repetition means.
// - Repetitions of different cases are interleaved (A1 B1 A2 B2 ...), so
//   a slow phase of a shared machine hits every case alike and two cases of
//   one run can be compared honestly.
// - Each call reads a different input slot, rotating through buffers larger
//   than the last-level cache where a batch is small, so a batch-1 figure is
//   not a hot-cache fantasy.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lowbit::kernels {

struct LatencySettings {
  int repetitions = 10;
  double min_time_ms = 50.0;  // per repetition
  double warmup_ms = 20.0;    // per case, before its first repetition
  // For testing regression detectors only, never for a user's figures: after each timed call,
  // spin for this fraction of the call's own time, inside the timed region (so real and CPU
  // time grow alike, as a real slowdown's do). 0: off.
  double injected_slowdown = 0.0;
};

struct TimedCase {
  std::string name;  // Google Benchmark name, e.g. "mlp_784_128_10/fp32/batch:64"
  int batch = 1;
  int threads = 1;            // set on the timing thread before every repetition
  double ops_per_call = 0;    // multiply-adds × 2 the variant really computes
  double bytes_per_call = 0;  // weights + inputs read + outputs written, each once
  // Runs the kernel once on input slot `slot` in [0, slots).
  std::function<void(int slot)> call;
  int slots = 1;
};

struct LatencyStats {
  std::string name;
  int batch = 1;
  int threads = 1;
  int repetitions = 0;
  std::int64_t iterations = 0;         // calls per repetition (the last repetition's)
  std::vector<double> samples_us;      // one per repetition
  std::vector<double> cpu_samples_us;  // CPU time per call, per repetition
  double median_us = 0, mean_us = 0, stddev_us = 0, min_us = 0, cv = 0;
  double p90_us = 0, p99_us = 0;    // over individual calls
  double throughput_per_s = 0;      // images (or rows) per second at the median
  double gops = 0;                  // ops_per_call / median, in G op/s
  double arithmetic_intensity = 0;  // ops per byte moved
  bool noisy = false;               // cv > kNoisyCv
};

inline constexpr double kNoisyCv = 0.05;

// Runs every case (interleaved repetitions) and returns one entry per case,
// in the order given. Throws std::invalid_argument on bad settings.
std::vector<LatencyStats> measure_latency(std::vector<TimedCase>& cases,
                                          const LatencySettings& settings);

// How many input slots of `bytes_per_slot` make the rotation exceed the
// last-level cache (twice over, so no slot survives in it); at least 2.
int rotation_slots(std::int64_t bytes_per_slot, std::int64_t last_level_cache_bytes);

// Size of the largest cache level, from sysfs (0 when unknown).
std::int64_t last_level_cache_bytes();

}  // namespace lowbit::kernels
