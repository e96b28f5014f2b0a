// Which worker gets which job: target constraints against fingerprints, the reason a sweep gives
// when nobody can run its jobs, round-robin across sweeps, and cancelling.

#include <doctest/doctest.h>

#include "protocol/json_schema.h"
#include "tests/coordinator/scheduler_fixture.h"

namespace {

using lowbit::coordinator::Code;
using lowbit::testing::gemm_sweep;
using lowbit::testing::result_for;
using lowbit::testing::SchedulerFixture;
using nlohmann::json;

TEST_CASE("a job goes only to a worker whose fingerprint satisfies its target") {
  SchedulerFixture f;
  json doc = gemm_sweep("avx2 only", 2);
  doc["targets"] = json::parse(R"([{"isa": "avx2", "threads": 1}])");
  const auto sweep = f.submit(doc);
  const auto native = f.add_worker("big", "native", 2);
  CHECK_FALSE(f.has_work(native));

  auto status = f.scheduler().status(sweep);
  REQUIRE(status.value.waiting.size() == 1);
  CHECK(status.value.waiting[0] ==
        "2 jobs need target isa=avx2 threads=1; no registered worker matches it "
        "(registered: big (native-t2))");

  const auto avx2 = f.add_worker("small", "avx2", 1);
  const auto grant = f.lease(avx2);
  CHECK(grant.target == json({{"isa", "avx2"}, {"threads", 1}}));
  status = f.scheduler().status(sweep);
  CHECK(status.value.waiting.empty());
}

TEST_CASE("with no worker at all the sweep says so") {
  SchedulerFixture f;
  const auto sweep = f.submit(lowbit::testing::mlp_sweep("alone"));
  const auto status = f.scheduler().status(sweep);
  REQUIRE(status.value.waiting.size() == 1);
  CHECK(status.value.waiting[0] == "3 jobs wait for a worker; none is registered");
}

TEST_CASE("each target gets its own copy of every grid point") {
  SchedulerFixture f;
  json doc = gemm_sweep("two targets", 1);
  doc["targets"] = json::parse(R"([{"label": "avx2-t1"}, {"label": "native-t2"}])");
  const auto sweep = f.submit(doc);
  CHECK(f.count(sweep, "queued") == 2);
  const auto avx2 = f.add_worker("small", "avx2", 1);
  const auto native = f.add_worker("big", "native", 2);
  const auto one = f.lease(avx2);
  CHECK_FALSE(f.has_work(avx2));  // its only job is taken; the other is native's
  const auto two = f.lease(native);
  CHECK(one.config_hash == two.config_hash);
  CHECK(one.job_id != two.job_id);
}

TEST_CASE("workers are served round-robin across sweeps") {
  SchedulerFixture f;
  const auto s1 = f.submit(gemm_sweep("one", 3));
  const auto s2 = f.submit(gemm_sweep("two", 3));
  const auto s3 = f.submit(gemm_sweep("three", 1));
  const auto w = f.add_worker("w");
  std::vector<lowbit::coordinator::SweepId> order;
  for (int i = 0; i < 7; ++i) order.push_back(f.lease(w).sweep_id);
  CHECK(order == std::vector<lowbit::coordinator::SweepId>{s1, s2, s3, s1, s2, s1, s2});
}

TEST_CASE("cancel ends every unfinished job; their leases then answer conflict") {
  SchedulerFixture f;
  const auto sweep = f.submit(gemm_sweep("cancel me", 3));
  const auto w = f.add_worker("w");
  const auto done = f.lease(w);
  f.finish(w, done);
  const auto held = f.lease(w);
  REQUIRE(f.scheduler().cancel(sweep).ok());
  REQUIRE(f.scheduler().cancel(sweep).ok());  // twice is harmless
  CHECK(f.scheduler().submit_result(held.lease_id, w, result_for(held)).code == Code::kConflict);
  CHECK_FALSE(f.has_work(w));
  const auto status = f.scheduler().status(sweep);
  CHECK(status.value.counts.at("done") == 1);
  CHECK(status.value.counts.at("cancelled") == 2);
  CHECK(status.value.cancelled);
  CHECK(status.value.finished);
  CHECK(json(status.value).at("state") == "cancelled");
  CHECK(f.scheduler().cancel(999).code == Code::kNotFound);
}

TEST_CASE("registering a known name again updates that worker's fingerprint") {
  SchedulerFixture f;
  const auto first = f.add_worker("w", "native", 2);
  const auto again = f.add_worker("w", "avx2", 1);
  CHECK(first == again);
  CHECK(f.rows("workers") == 1);
  const auto unnamed =
      f.scheduler().register_worker(std::nullopt, lowbit::testing::fingerprint("native", 1));
  REQUIRE(unnamed.ok());
  CHECK(f.store().worker(unnamed.value)->name == "worker-2");
}

}  // namespace

namespace {

TEST_CASE("a worker's registration document matches schemas/worker.schema.json") {
  const auto schema = lowbit::protocol::JsonSchema::load("worker");
  json doc = {{"name", "w1"}, {"target", lowbit::testing::fingerprint("avx2", 1)}};
  auto errors = schema.validate(doc);
  CHECK_MESSAGE(errors.empty(), errors.front().to_string());
  doc["target"]["threads"] = 0;
  errors = schema.validate(doc);
  REQUIRE_FALSE(errors.empty());
  CHECK(errors.front().pointer == "/target/threads");
  doc.erase("target");
  doc["fingerprint"] = {};
  errors = schema.validate(doc);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].to_string() == "(root): missing required field \"target\"");
  CHECK(errors[1].to_string() == "/fingerprint: unknown field \"fingerprint\"");
}

}  // namespace
