// The repetitions a comparison needs: the Mann-Whitney floor against values counted by hand,
// and, by simulation (seeded), that kTrackedRepetitions catches one regressed series among 500.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "stats/latency_change.h"
#include "stats/sample_size.h"
#include "tests/stats/noise_model.h"

using namespace lowbit::stats;

TEST_CASE("sample size: the smallest two-sided p of the exact U test is 2 / C(n_a + n_b, n_a)") {
  // C(10, 5) = 252, C(20, 10) = 184756, C(8, 4) = 70, C(7, 3) = 35 (Pascal's triangle).
  CHECK(smallest_two_sided_p(5, 5) == doctest::Approx(2.0 / 252).epsilon(1e-9));
  CHECK(smallest_two_sided_p(10, 10) == doctest::Approx(2.0 / 184756).epsilon(1e-9));
  CHECK(smallest_two_sided_p(4, 4) == doctest::Approx(2.0 / 70).epsilon(1e-9));
  CHECK(smallest_two_sided_p(3, 4) == doctest::Approx(2.0 / 35).epsilon(1e-9));
  CHECK(smallest_two_sided_p(1, 1) == 1.0);  // 2 / C(2, 1) = 1
  CHECK_THROWS_AS(smallest_two_sided_p(0, 5), std::invalid_argument);
}

TEST_CASE("sample size: a lone change among m series needs the floor below alpha / m") {
  // α/m = 0.05/500 = 1e-4: C(16, 8) = 12870 gives 1.6e-4 (too big), C(18, 9) = 48620 gives
  // 4.1e-5. So 9 a side is the least that could flag it at all, and 5 a side never can.
  CHECK(samples_to_flag_lone_change(500, 0.05) == 9);
  CHECK(samples_to_flag_lone_change(1, 0.05) == 4);  // one test alone: 2/70 ≈ 0.029 ≤ 0.05
  CHECK(smallest_two_sided_p(9, 9) <= 0.05 / 500);
  CHECK(smallest_two_sided_p(8, 8) > 0.05 / 500);
  CHECK_THROWS_AS(samples_to_flag_lone_change(0, 0.05), std::invalid_argument);
  CHECK_THROWS_AS(samples_to_flag_lone_change(10, 0.0), std::invalid_argument);
}

TEST_CASE("sample size: at the tracked repetitions a lone 10 % regression among 500 is caught") {
  // 500 series, one of them 10 % slower, noise as measured latency's (log-normal cv 0.05, 2 %
  // of repetitions tripled by an interruption); BH at 0.05 and a 5 % minimum effect.
  lowbit::testing::NoiseModel noise;
  noise.rng.seed(20261208);
  constexpr int kSeries = 500;
  constexpr int kTrials = 40;
  int caught = 0;
  int false_flags = 0;
  for (int t = 0; t < kTrials; ++t) {
    std::vector<LatencyChange> changes;
    for (int s = 0; s < kSeries; ++s) {
      changes.push_back(compare_latency(noise.draw(100.0, kTrackedRepetitions),
                                        noise.draw(s == 0 ? 110.0 : 100.0, kTrackedRepetitions)));
    }
    const std::vector<ChangeDecision> d = decide_changes(changes, 0.05, 0.05);
    caught += d[0].changed;
    for (int s = 1; s < kSeries; ++s) false_flags += d[static_cast<std::size_t>(s)].changed;
  }
  const double power = static_cast<double>(caught) / kTrials;
  const double false_share = static_cast<double>(false_flags) / (kTrials * (kSeries - 1));
  MESSAGE("lone 10 % regression among "
          << kSeries << " at " << kTrackedRepetitions << " a side: caught in " << 100.0 * power
          << " % of " << kTrials << " comparisons; A/A series flagged: " << 100.0 * false_share
          << " %");
  CHECK(power >= 0.9);  // ~98 % over 200 trials; 40 keep the test fast, hence the margin
  CHECK(false_share <= 0.01);
}
