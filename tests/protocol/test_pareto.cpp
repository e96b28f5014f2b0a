// The Pareto front against its definition (a brute-force twin on seeded random points) and the
// cases a sweep produces: ties, skipped and failed variants, GEMM results, several batch sizes.
#include <doctest/doctest.h>

#include <random>
#include <set>

#include "protocol/pareto.h"
#include "protocol/variant_label.h"

using namespace lowbit::protocol;

namespace {

Result passed(const std::string& hash, double top1, std::vector<std::pair<int, double>> latencies) {
  Result r;
  r.config_hash = hash;
  r.target.label = "native-t1";
  r.accuracy = Accuracy{};
  r.accuracy->top1 = top1;
  for (const auto& [batch, median] : latencies) {
    Latency l;
    l.batch = batch;
    l.median_us = median;
    r.latency.push_back(l);
  }
  return r;
}

std::vector<std::string> hashes(const ParetoFront& f) {
  std::vector<std::string> out;
  for (const ParetoPoint& p : f.points) out.push_back(p.config_hash);
  return out;
}

bool dominated(const Result& a, const std::vector<Result>& all) {
  for (const Result& b : all) {
    const bool as_good =
        b.accuracy->top1 >= a.accuracy->top1 && b.latency[0].median_us <= a.latency[0].median_us;
    const bool better =
        b.accuracy->top1 > a.accuracy->top1 || b.latency[0].median_us < a.latency[0].median_us;
    if (as_good && better) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("pareto: the front is exactly the non-dominated points (random, brute force)") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<Result> results;
    std::uniform_int_distribution<int> coarse(0, 9);  // coarse values make ties common
    for (int i = 0; i < 30; ++i) {
      results.push_back(
          passed(std::to_string(i), 0.8 + 0.01 * coarse(rng), {{1, 10.0 + coarse(rng)}}));
    }
    const auto fronts = pareto_fronts(results);
    REQUIRE(fronts.size() == 1);
    std::set<std::pair<double, double>> expected, got;
    for (const Result& r : results) {
      if (!dominated(r, results)) expected.insert({r.accuracy->top1, r.latency[0].median_us});
    }
    for (const ParetoPoint& p : fronts[0].points) got.insert({p.top1, p.median_us});
    CHECK(got == expected);
    CHECK(fronts[0].points.size() == expected.size());  // one point per distinct trade-off
    for (std::size_t i = 1; i < fronts[0].points.size(); ++i) {
      CHECK(fronts[0].points[i].median_us > fronts[0].points[i - 1].median_us);
      CHECK(fronts[0].points[i].top1 > fronts[0].points[i - 1].top1);
    }
  }
}

TEST_CASE("pareto: per batch size; skipped, failed and GEMM results have no place on it") {
  std::vector<Result> results{
      passed("fp32", 0.89, {{1, 10.0}, {64, 200.0}}),
      passed("int8", 0.888, {{1, 6.0}, {64, 100.0}}),
      passed("slow-worse", 0.85, {{1, 12.0}, {64, 90.0}}),
  };
  Result skipped = passed("skipped", 0.99, {{1, 1.0}});
  skipped.status = kStatusSkipped;
  Result failed = passed("failed", 0.99, {{1, 1.0}});
  failed.status = kStatusFailed;
  Result gemm = passed("gemm", 0.99, {{1, 1.0}});
  gemm.config.workload = kWorkloadGemm;
  results.insert(results.end(), {skipped, failed, gemm});

  const auto fronts = pareto_fronts(results);
  REQUIRE(fronts.size() == 2);
  CHECK(fronts[0].batch == 1);
  CHECK(hashes(fronts[0]) == std::vector<std::string>{"int8", "fp32"});
  CHECK(fronts[1].batch == 64);
  CHECK(hashes(fronts[1]) == std::vector<std::string>{"slow-worse", "int8", "fp32"});
  const nlohmann::json j = fronts[0];
  CHECK(j["points"][0]["config_hash"] == "int8");
  CHECK(j["points"][0]["target"] == "native-t1");
}

TEST_CASE("variant labels say what a variant is in a few words") {
  EvalConfig c;
  CHECK(variant_label(c) == "fp32");
  c.precision = "int8";
  c.bits = 8;
  c.prune.ratio = 0.5;
  CHECK(variant_label(c) == "int8 b8 · magnitude 0.5");
  c.prune.method = "n:m";
  c.distill.teacher = {784, 512, 10};
  CHECK(variant_label(c) == "int8 b8 · n:m 2:4 · distilled from 784-512-10");
  EvalConfig g;
  g.workload = kWorkloadGemm;
  g.gemm = {1, 4096, 4096};
  g.kernel = "ref";
  CHECK(variant_label(g) == "fp32 [ref] · gemm 1×4096×4096");
}
