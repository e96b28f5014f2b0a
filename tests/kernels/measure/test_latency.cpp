// The latency harness on trivial calls: it must produce one sample per
// repetition, statistics consistent with those samples, interleaved cases,
// and a rotation that visits every input slot. No timing is asserted.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>

#include "kernels/measure/latency.h"
#include "stats/summary.h"

using namespace lowbit::kernels;
using lowbit::stats::mean;
using lowbit::stats::median;

namespace {

volatile double g_sink = 0;

void spin(int n) {
  double x = 1.0;
  for (int i = 0; i < n; ++i) x = x * 1.0000001 + 1e-9;
  g_sink = x;
}

LatencySettings quick() {
  LatencySettings s;
  s.repetitions = 3;
  s.min_time_ms = 2;
  s.warmup_ms = 1;
  return s;
}

}  // namespace

TEST_CASE("latency: one sample per repetition and statistics over them") {
  std::set<int> slots_seen;
  std::vector<TimedCase> cases(1);
  cases[0].name = "spin/batch:4";
  cases[0].batch = 4;
  cases[0].slots = 5;
  cases[0].ops_per_call = 1000;
  cases[0].bytes_per_call = 500;
  cases[0].call = [&](int slot) {
    slots_seen.insert(slot);
    spin(200);
  };
  const auto stats = measure_latency(cases, quick());
  REQUIRE(stats.size() == 1);
  const LatencyStats& s = stats[0];
  CHECK(s.repetitions == 3);
  REQUIRE(s.samples_us.size() == 3);
  CHECK(s.cpu_samples_us.size() == 3);
  CHECK(s.iterations > 1);
  CHECK(s.median_us == doctest::Approx(median(s.samples_us)));
  CHECK(s.mean_us == doctest::Approx(mean(s.samples_us)));
  CHECK(s.min_us == doctest::Approx(*std::min_element(s.samples_us.begin(), s.samples_us.end())));
  CHECK(s.cv == doctest::Approx(s.stddev_us / s.mean_us));
  CHECK(s.noisy == (s.cv > kNoisyCv));
  CHECK(s.p99_us >= s.p90_us);
  CHECK(s.median_us > 0);
  CHECK(s.throughput_per_s == doctest::Approx(4 / (s.median_us * 1e-6)));
  CHECK(s.gops == doctest::Approx(1000 / (s.median_us * 1e3)));
  CHECK(s.arithmetic_intensity == doctest::Approx(2.0));
  CHECK(slots_seen == std::set<int>{0, 1, 2, 3, 4});
}

TEST_CASE("latency: repetitions of several cases are interleaved") {
  std::vector<char> order;
  std::vector<TimedCase> cases(2);
  for (int i = 0; i < 2; ++i) {
    cases[static_cast<std::size_t>(i)].name = i == 0 ? "a" : "b";
    cases[static_cast<std::size_t>(i)].call = [&order, i](int) {
      if (order.empty() || order.back() != "ab"[i]) order.push_back("ab"[i]);
      spin(100);
    };
  }
  LatencySettings settings = quick();
  settings.warmup_ms = 0;
  const auto stats = measure_latency(cases, settings);
  REQUIRE(stats.size() == 2);
  CHECK(stats[0].name == "a");
  CHECK(stats[1].samples_us.size() == 3);
  // a and b alternate: every repetition of a is followed by one of b.
  const auto switches = std::count(order.begin(), order.end(), 'b');
  CHECK(switches >= 3);
  CHECK(order.front() == 'a');
}

TEST_CASE("latency: bad settings and incomplete cases are refused") {
  std::vector<TimedCase> cases(1);
  cases[0].name = "x";
  cases[0].call = [](int) {};
  LatencySettings s = quick();
  s.repetitions = 0;
  CHECK_THROWS_AS(measure_latency(cases, s), std::invalid_argument);
  s = quick();
  s.min_time_ms = 0;
  CHECK_THROWS_AS(measure_latency(cases, s), std::invalid_argument);
  cases[0].call = nullptr;
  CHECK_THROWS_AS(measure_latency(cases, quick()), std::invalid_argument);
}

TEST_CASE("latency: rotation slots exceed twice the last-level cache") {
  CHECK(rotation_slots(1000, 32 << 20) == (2 * (32 << 20) + 999) / 1000);
  CHECK(rotation_slots(64 << 20, 32 << 20) == 2);  // a slot larger than the cache: still two
  CHECK(rotation_slots(100, 0) == 2);
  CHECK(rotation_slots(0, 1 << 20) == 2);
  CHECK(last_level_cache_bytes() >= 0);
}

TEST_CASE("latency: an injected slowdown stretches every call by its own time, on both clocks") {
  // A call that lasts at least 100 µs by the clock: with F = 0.5 injected, no sample can be
  // shorter than 150 µs, whatever the machine does (the spin waits for the clock, it cannot
  // finish early). The spin is busy, so the CPU time grows with it: an injected slowdown looks
  // like a real one, not like an overloaded host.
  std::vector<TimedCase> cases(1);
  cases[0].name = "wait/batch:1";
  cases[0].call = [](int) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  LatencySettings settings = quick();
  settings.injected_slowdown = 0.5;
  const auto stats = measure_latency(cases, settings);
  REQUIRE(stats.size() == 1);
  for (const double s : stats[0].samples_us) CHECK(s >= 150.0);
  CHECK(stats[0].min_us >= 150.0);
  REQUIRE(stats[0].cpu_samples_us.size() == stats[0].samples_us.size());
  for (const double cpu : stats[0].cpu_samples_us) CHECK(cpu > 0.0);

  settings.injected_slowdown = -0.1;
  CHECK_THROWS_AS(measure_latency(cases, settings), std::invalid_argument);
}
