#pragma once
// What the benchmark programs share: the thread count they run with, seeded inputs, and a console
// reporter that keeps each benchmark's time so a program can print ratios measured in one run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "kernels/base/random.h"

namespace lowbit::bench {

// LOWBIT_BENCH_THREADS, default 1.
inline int bench_threads() {
  const char* env = std::getenv("LOWBIT_BENCH_THREADS");
  return env != nullptr ? std::max(1, std::atoi(env)) : 1;
}

// `count` standard normal values from `seed`.
inline std::vector<float> random_normal(std::size_t count, std::uint64_t seed) {
  kernels::Rng rng(seed);
  std::vector<float> x(count);
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

// batch × features standard normal values from `seed`.
inline std::vector<float> random_input(int batch, int features, std::uint64_t seed) {
  return random_normal(static_cast<std::size_t>(batch) * static_cast<std::size_t>(features), seed);
}

// Keeps each benchmark's adjusted real time by its registered name.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (!run.error_occurred) times_[run.run_name.function_name] = run.GetAdjustedRealTime();
    }
  }
  // Prints "what: base/other x (base / other)", or why it cannot.
  void print_ratio(const std::string& what, const std::string& base,
                   const std::string& other) const {
    const auto b = times_.find(base);
    const auto o = times_.find(other);
    if (b == times_.end() || o == times_.end()) {
      std::cout << what << ": not measured (" << (b == times_.end() ? base : other)
                << " skipped)\n";
      return;
    }
    std::cout << what << ": " << b->second / o->second << "x  (" << base << " / " << other << ")\n";
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace lowbit::bench
