#pragma once
// How many repetitions a comparison needs before it can decide anything. A rank test on n
// samples a side has a floor under its p-value whatever the data, and a false-discovery-rate
// correction over m series asks a lone change for p ≤ α/m: below some n, one regressed series
// among hundreds can never be flagged, and the report must say so rather than "unchanged".

namespace lowbit::stats {

// The smallest two-sided p-value the exact Mann-Whitney test can give for n_a and n_b
// samples: 2 / C(n_a + n_b, n_a), when the two samples do not overlap at all (capped at 1).
// 5 a side: 2/252 ≈ 0.0079; 10 a side: 2/184756 ≈ 1.1e-5.
double smallest_two_sided_p(int n_a, int n_b);

// The fewest samples a side (both sides equal) whose smallest p reaches α/series: what a lone
// change among `series` tests needs to be flaggable at all under Benjamini-Hochberg at α. A
// floor, not a recommendation: at this n only a perfectly separated pair of samples passes.
int samples_to_flag_lone_change(int series, double alpha);

// The repetitions a tracked sweep gets by default: enough that one series 10 % slower among
// 500, with cv 0.05 noise and 2 % outliers at 3×, is flagged in ≥ 95 % of comparisons while
// A/A comparisons flag ≤ 1 % (the simulation in tests/stats/test_sample_size.cpp: 30 a side
// catches it in ~98 %; 20 in ~70 %; 10 never).
inline constexpr int kTrackedRepetitions = 30;

}  // namespace lowbit::stats
