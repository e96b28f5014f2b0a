#pragma once
// Simulated latency repetitions, seeded, for calibrating the change detector: log-normal with
// cv 0.05, and 2 % of repetitions hit by an interruption that triples them — what measured
// latency on a shared machine looks like.

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace lowbit::testing {

struct NoiseModel {
  std::mt19937_64 rng{20261207};
  double cv = 0.05;
  double outlier_share = 0.02;
  double outlier_factor = 3.0;

  std::vector<double> draw(double median_us, int count) {
    const double sigma = std::sqrt(std::log(1.0 + cv * cv));  // log-normal with that cv
    std::normal_distribution<double> log_noise(0.0, sigma);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> samples(static_cast<std::size_t>(count));
    for (double& s : samples) {
      s = median_us * std::exp(log_noise(rng));
      if (uniform(rng) < outlier_share) s *= outlier_factor;
    }
    return samples;
  }
};

}  // namespace lowbit::testing
