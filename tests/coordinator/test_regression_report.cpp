// The comparison of a sweep with its baseline, on results built by hand: every verdict, the
// false-discovery-rate control across series, the accuracy test, and what the report says
// when a comparison is too small to catch a lone regression.

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "coordinator/regression_report.h"
#include "protocol/result.h"

namespace {

using lowbit::coordinator::compare_sweeps;
using lowbit::coordinator::LatencyPoint;
using lowbit::coordinator::Metric;
using lowbit::coordinator::RegressionOptions;
using lowbit::coordinator::RegressionReport;
using lowbit::coordinator::ResultPoint;
using lowbit::coordinator::SeriesVerdict;
using lowbit::coordinator::SweepSide;
using lowbit::coordinator::Verdict;

std::mt19937_64 g_rng(20261208);

// `count` samples around `median_us` with cv ~0.02; CPU time `cpu_share` of real time.
LatencyPoint latency(int batch, double median_us, int count = 20, double cpu_share = 1.0) {
  std::normal_distribution<double> noise(0.0, 0.02);
  LatencyPoint l;
  l.batch = batch;
  l.median_us = median_us;
  for (int i = 0; i < count; ++i) {
    const double s = median_us * std::exp(noise(g_rng));
    l.samples_us.push_back(s);
    l.cpu_samples_us.push_back(s * cpu_share);
  }
  return l;
}

ResultPoint result(const std::string& hash, std::vector<LatencyPoint> batches,
                   const std::string& kernel = "openblas/SkylakeX/sgemm") {
  ResultPoint r;
  r.config_hash = hash;
  r.label = "fp32 " + hash;
  r.target_id = "t1";
  r.target_label = "native-t1";
  r.status = "passed";
  r.kernel = kernel;
  r.latency = std::move(batches);
  return r;
}

SweepSide side(std::int64_t id, std::vector<ResultPoint> results) {
  return {id, "nightly", "main", "c" + std::to_string(id), std::move(results)};
}

const SeriesVerdict& find(const RegressionReport& r, const std::string& hash, Metric metric,
                          int batch = 0) {
  for (const SeriesVerdict& s : r.series) {
    if (s.config_hash == hash && s.metric == metric &&
        (metric == Metric::kTop1 || s.batch == batch)) {
      return s;
    }
  }
  FAIL("no series ", hash, " batch ", batch);
  throw;
}

// Per-image correctness of `images` images, `wrong` of them wrong starting at `first_wrong`.
std::string bitset(int images, int first_wrong, int wrong) {
  std::vector<bool> bits(static_cast<std::size_t>(images), true);
  for (int i = first_wrong; i < first_wrong + wrong; ++i) bits[static_cast<std::size_t>(i)] = false;
  return lowbit::protocol::encode_bitset(bits);
}

}  // namespace

TEST_CASE("regressions: identical measurements are unchanged; a 20 % slowdown is a regression") {
  std::vector<ResultPoint> before, after;
  for (int i = 0; i < 50; ++i) {
    const std::string hash = "h" + std::to_string(i);
    before.push_back(result(hash, {latency(1, 100), latency(64, 1000)}));
    after.push_back(result(hash, {latency(1, i == 7 ? 120 : 100), latency(64, 1000)}));
  }
  const SweepSide baseline = side(1, before);
  const RegressionReport r = compare_sweeps(side(2, after), &baseline, {});
  CHECK(r.series.size() == 100);
  CHECK(r.counts.at(Verdict::kRegression) == 1);
  CHECK(r.counts.at(Verdict::kUnchanged) == 99);
  CHECK(r.has_regression());
  const SeriesVerdict& slow = find(r, "h7", Metric::kLatency, 1);
  CHECK(slow.verdict == Verdict::kRegression);
  CHECK(*slow.effect == doctest::Approx(0.2).epsilon(0.1));
  CHECK(slow.ci->first < *slow.effect);
  CHECK(*slow.effect < slow.ci->second);
  CHECK(*slow.q <= 0.05);
  CHECK(*slow.q >= *slow.p);  // BH never lowers a p-value
  CHECK(*slow.baseline_value == 100.0);
  CHECK(*slow.current_value == 120.0);
  CHECK(r.power.tested == 100);
  CHECK(r.power.can_flag_lone_change);
}

TEST_CASE("regressions: faster beyond the minimum effect is an improvement, below it unchanged") {
  const SweepSide baseline =
      side(1, {result("a", {latency(1, 100)}), result("b", {latency(1, 100)})});
  const SweepSide current = side(2, {result("a", {latency(1, 80)}), result("b", {latency(1, 97)})});
  const RegressionReport r = compare_sweeps(current, &baseline, {});
  CHECK(find(r, "a", Metric::kLatency, 1).verdict == Verdict::kImprovement);
  // 3 % faster is significant at cv 0.02 and 20 a side, but under the 5 % minimum effect.
  const SeriesVerdict& small = find(r, "b", Metric::kLatency, 1);
  CHECK(small.verdict == Verdict::kUnchanged);
  CHECK(*small.q <= 0.05);
  RegressionOptions sensitive;
  sensitive.min_effect = 0.01;
  CHECK(find(compare_sweeps(current, &baseline, sensitive), "b", Metric::kLatency, 1).verdict ==
        Verdict::kImprovement);
}

TEST_CASE("regressions: a side measured on an overloaded host is noisy, never a regression") {
  // Real time 3× the baseline's, CPU time the same: what a host busy with other work gives.
  const SweepSide baseline = side(1, {result("a", {latency(1, 100)})});
  const SweepSide current = side(2, {result("a", {latency(1, 300, 20, 0.33)})});
  const RegressionReport r = compare_sweeps(current, &baseline, {});
  const SeriesVerdict& s = find(r, "a", Metric::kLatency, 1);
  CHECK(s.verdict == Verdict::kNoisy);
  CHECK(s.reason.find("overloaded") != std::string::npos);
  CHECK(s.reason.find("0.33") != std::string::npos);
  CHECK_FALSE(r.has_regression());
  CHECK(r.power.tested == 0);  // a noisy series is no test: it takes no part in BH
}

TEST_CASE("regressions: too few samples, a skipped side, new and gone series") {
  ResultPoint skipped_now = result("s", {});
  skipped_now.status = "skipped";
  skipped_now.reason = "int8 needs bits ≤ 8";
  const SweepSide baseline =
      side(1, {result("few", {latency(1, 100, 4)}), result("s", {latency(1, 100)}),
               result("old", {latency(1, 100)})});
  const SweepSide current = side(
      2, {result("few", {latency(1, 300, 4)}), skipped_now, result("fresh", {latency(1, 100)})});
  const RegressionReport r = compare_sweeps(current, &baseline, {});
  const SeriesVerdict& few = find(r, "few", Metric::kLatency, 1);
  CHECK(few.verdict == Verdict::kInsufficient);
  CHECK(few.reason.find("≥ 5") != std::string::npos);
  const SeriesVerdict& skip = find(r, "s", Metric::kLatency, 1);
  CHECK(skip.verdict == Verdict::kSkipped);
  CHECK(skip.reason == "skipped now: int8 needs bits ≤ 8");
  CHECK(find(r, "fresh", Metric::kLatency, 1).verdict == Verdict::kNew);
  CHECK(find(r, "old", Metric::kLatency, 1).verdict == Verdict::kGone);
  CHECK_FALSE(r.has_regression());
}

TEST_CASE("regressions: passed → failed is a regression of every series; a new path is named") {
  ResultPoint failed = result("f", {});
  failed.status = "mistrusted";
  failed.reason = "output mostly zeros";
  const SweepSide baseline =
      side(1, {result("f", {latency(1, 100), latency(64, 900)}), result("k", {latency(1, 100)})});
  const SweepSide current =
      side(2, {failed, result("k", {latency(1, 130)}, "onednn/brg:avx512_core_amx/f32")});
  const RegressionReport r = compare_sweeps(current, &baseline, {});
  CHECK(find(r, "f", Metric::kLatency, 1).verdict == Verdict::kRegression);
  CHECK(find(r, "f", Metric::kLatency, 64).verdict == Verdict::kRegression);
  CHECK(find(r, "f", Metric::kLatency, 1).reason == "passed → mistrusted: output mostly zeros");
  const SeriesVerdict& k = find(r, "k", Metric::kLatency, 1);
  CHECK(k.verdict == Verdict::kRegression);
  CHECK(k.kernel_changed);
  CHECK(k.baseline_kernel == "openblas/SkylakeX/sgemm");
  CHECK(k.kernel == "onednn/brg:avx512_core_amx/f32");
}

TEST_CASE("regressions: top-1 is tested by McNemar on the same images, with a minimum drop") {
  auto with_accuracy = [](const std::string& hash, int wrong, int first_wrong) {
    ResultPoint r = result(hash, {latency(1, 100)});
    r.has_top1_series = true;
    r.accuracy = {1.0 - wrong / 10000.0, 10000, bitset(10000, first_wrong, wrong)};
    return r;
  };
  // "drop": 100 more images wrong (top-1 −0.01), McNemar p ~ 1e-30; "same": the same count of
  // errors on other images (discordant both ways, 50 each): p = 1; "tiny": 10 more wrong, a
  // drop of 0.001, under the 0.002 minimum.
  const SweepSide baseline = side(1, {with_accuracy("drop", 500, 0), with_accuracy("same", 500, 0),
                                      with_accuracy("tiny", 500, 0)});
  const SweepSide current = side(2, {with_accuracy("drop", 600, 0), with_accuracy("same", 500, 50),
                                     with_accuracy("tiny", 510, 0)});
  const RegressionReport r = compare_sweeps(current, &baseline, {});
  const SeriesVerdict& drop = find(r, "drop", Metric::kTop1);
  CHECK(drop.verdict == Verdict::kRegression);
  CHECK(*drop.effect == doctest::Approx(-0.01));
  CHECK(*drop.p < 1e-20);
  const SeriesVerdict& same = find(r, "same", Metric::kTop1);
  CHECK(same.verdict == Verdict::kUnchanged);
  CHECK(*same.p == doctest::Approx(1.0));
  CHECK(find(r, "tiny", Metric::kTop1).verdict == Verdict::kUnchanged);
  CHECK(r.counts.at(Verdict::kRegression) == 1);

  ResultPoint unpaired = with_accuracy("drop", 600, 0);
  unpaired.accuracy->correct.clear();
  const SweepSide no_bits = side(2, {unpaired});
  CHECK(find(compare_sweeps(no_bits, &baseline, {}), "drop", Metric::kTop1).verdict ==
        Verdict::kInsufficient);
}

TEST_CASE("regressions: without a baseline every series is new and nothing is a regression") {
  const RegressionReport r = compare_sweeps(side(2, {result("a", {latency(1, 100)})}), nullptr, {});
  CHECK(r.counts.at(Verdict::kNew) == 1);
  CHECK_FALSE(r.has_regression());
  CHECK_FALSE(r.baseline_sweep.has_value());
}

TEST_CASE("regressions: the report says when it cannot catch a lone regression") {
  // 5 samples a side: no p below 2/252 ≈ 0.0079, and one change among 100 series needs 0.0005.
  std::vector<ResultPoint> before, after;
  for (int i = 0; i < 100; ++i) {
    before.push_back(result("h" + std::to_string(i), {latency(1, 100, 5)}));
    after.push_back(result("h" + std::to_string(i), {latency(1, i == 0 ? 200 : 100, 5)}));
  }
  const SweepSide baseline = side(1, before);
  const RegressionReport r = compare_sweeps(side(2, after), &baseline, {});
  CHECK(r.power.tested == 100);
  CHECK(r.power.fewest_samples == 5);
  CHECK(r.power.smallest_p == doctest::Approx(2.0 / 252));
  CHECK(r.power.lone_change_p == doctest::Approx(0.0005));
  CHECK_FALSE(r.power.can_flag_lone_change);
  CHECK(r.power.samples_needed == 8);  // 2/C(16, 8) = 1.6e-4 ≤ 5e-4; 2/C(14, 7) = 5.8e-4
  // The doubled series cannot pass the correction alone: the samples set that limit.
  CHECK(find(r, "h0", Metric::kLatency, 1).verdict == Verdict::kUnchanged);
}

TEST_CASE("regressions: options out of range are refused, naming the option") {
  RegressionOptions bad;
  bad.alpha = 0;
  CHECK(lowbit::coordinator::check_options(bad).starts_with("alpha"));
  bad = {};
  bad.min_effect = -0.1;
  CHECK(lowbit::coordinator::check_options(bad).starts_with("min_effect"));
  bad = {};
  bad.min_drop = 2;
  CHECK(lowbit::coordinator::check_options(bad).starts_with("min_drop"));
  CHECK(lowbit::coordinator::check_options({}).empty());
}
