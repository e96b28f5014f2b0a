// The latency change detector on simulated series, seeded: the false-alarm rate on A/A
// comparisons and the power against a real shift, under a noise model like measured latency's
// (log-normal with cv 0.05, and 2 % of repetitions hit by an interruption that triples them).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "stats/latency_change.h"
#include "tests/stats/noise_model.h"
#include "tests/stats/tolerances.h"

using namespace lowbit::stats;
using namespace lowbit::testing;

namespace {

constexpr int kSeries = 2000;
constexpr int kSamplesPerSide = 20;
constexpr double kAlpha = 0.05;
constexpr double kMinEffect = 0.05;

// The share of kSeries series the detector calls changed when the current side is `shift`
// slower than the baseline (0: an A/A comparison).
double flagged_share(NoiseModel& noise, double shift) {
  std::vector<LatencyChange> changes;
  std::uniform_real_distribution<double> medians(5.0, 5000.0);  // µs, batch 1 to 1024
  for (int s = 0; s < kSeries; ++s) {
    const double median_us = medians(noise.rng);
    const std::vector<double> baseline = noise.draw(median_us, kSamplesPerSide);
    const std::vector<double> current = noise.draw(median_us * (1.0 + shift), kSamplesPerSide);
    changes.push_back(compare_latency(baseline, current));
  }
  int flagged = 0;
  for (const ChangeDecision& d : decide_changes(changes, kAlpha, kMinEffect)) flagged += d.changed;
  return static_cast<double>(flagged) / kSeries;
}

}  // namespace

TEST_CASE("latency change: 2,000 A/A series flag at most 1 %; a 10 % shift flags at least 95 %") {
  NoiseModel noise;
  const double false_alarms = flagged_share(noise, 0.0);
  const double power = flagged_share(noise, 0.10);
  MESSAGE("A/A: " << 100.0 * false_alarms << " % of " << kSeries << " series flagged; 10 % "
                  << "slower: " << 100.0 * power << " % flagged (" << kSamplesPerSide
                  << " samples a side, BH at " << kAlpha << ", min effect " << kMinEffect << ")");
  CHECK(false_alarms <= 0.01);
  CHECK(power >= 0.95);
}

TEST_CASE("latency change: a shift below the minimum effect is never a change, however sure") {
  NoiseModel noise;
  noise.cv = 0.005;
  noise.outlier_share = 0.0;
  const std::vector<double> baseline = noise.draw(100.0, 30);
  const std::vector<double> current = noise.draw(103.0, 30);  // 3 %: significant, but small
  const LatencyChange c = compare_latency(baseline, current);
  CHECK(c.p_value < 1e-6);
  CHECK(c.relative == doctest::Approx(0.03).epsilon(0.1));
  CHECK(c.relative_lower < c.relative);
  CHECK(c.relative < c.relative_upper);
  const std::vector<LatencyChange> one{c};
  CHECK_FALSE(decide_changes(one, kAlpha, kMinEffect)[0].changed);
  CHECK(decide_changes(one, kAlpha, 0.02)[0].changed);
}

TEST_CASE("latency change: fewer than 5 samples a side is no test and takes no part in BH") {
  NoiseModel noise;
  const LatencyChange few = compare_latency(noise.draw(100.0, 4), noise.draw(300.0, 20));
  CHECK_FALSE(few.enough_samples);
  CHECK(few.p_value == 1.0);
  const LatencyChange big = compare_latency(noise.draw(100.0, 20), noise.draw(300.0, 20));
  CHECK(big.enough_samples);
  const std::vector<LatencyChange> both{few, big};
  const std::vector<ChangeDecision> d = decide_changes(both, kAlpha, kMinEffect);
  CHECK_FALSE(d[0].changed);
  CHECK(d[0].q_value == 1.0);
  CHECK(d[1].changed);
  CHECK(d[1].q_value == big.p_value);  // one test: its q is its p
}

TEST_CASE("latency change: bad arguments throw") {
  const std::vector<double> ok{1, 2, 3, 4, 5};
  const std::vector<double> zero(5, 0.0);
  CHECK_THROWS_AS(compare_latency(zero, ok), std::invalid_argument);
  const std::vector<LatencyChange> none;
  CHECK_THROWS_AS(decide_changes(none, 0.0, 0.05), std::invalid_argument);
  CHECK_THROWS_AS(decide_changes(none, 0.05, -0.1), std::invalid_argument);
}
