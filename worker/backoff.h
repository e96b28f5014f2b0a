#pragma once
// Exponential backoff with jitter between retries of an unreachable
// coordinator, and a sleep that wakes as soon as the worker is told to stop:
// no busy loop while the coordinator is down, no slow exit either.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace lowbit::worker {

// Sleeps up to `seconds`, in short slices, returning early once `stop` is set.
inline void sleep_unless_stopped(double seconds, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(seconds));
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    const auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
  }
}

class Backoff {
 public:
  Backoff(double min_s, double max_s) : min_s_(min_s), max_s_(max_s), next_s_(min_s) {}
  // The next wait: doubling from min to max, each drawn from [½, 1] of it so that workers a
  // coordinator restart disconnected together do not come back in step.
  double next() {
    const double base = next_s_;
    next_s_ = std::min(max_s_, next_s_ * 2.0);
    return std::uniform_real_distribution<double>(0.5 * base, base)(rng_);
  }
  void reset() { next_s_ = min_s_; }

 private:
  double min_s_, max_s_, next_s_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace lowbit::worker
