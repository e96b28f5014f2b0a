#pragma once
// A seeded random source whose streams are the same on every platform and
// standard library (std::normal_distribution and std::shuffle are not), so a
// model trained from a seed is the same model everywhere.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <utility>

namespace lowbit::kernels {

// SplitMix64 (Steele, Lea, Flood 2014): tiny state, passes BigCrush, and any
// seed, including 0, is a good seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next_u64() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), n > 0; Lemire's multiply-shift with rejection (no modulo bias).
  std::uint64_t below(std::uint64_t n) {
    for (;;) {
      const unsigned __int128 product = static_cast<unsigned __int128>(next_u64()) * n;
      const auto low = static_cast<std::uint64_t>(product);
      if (low >= n || low >= (-n) % n) return static_cast<std::uint64_t>(product >> 64);
    }
  }

  // Standard normal by Box-Muller.
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log(0) never happens
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

  template <typename T>
  void shuffle(std::span<T> items) {
    for (std::size_t i = items.size(); i > 1; --i) {
      const std::size_t j = below(i);
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  std::uint64_t state_;
};

}  // namespace lowbit::kernels
