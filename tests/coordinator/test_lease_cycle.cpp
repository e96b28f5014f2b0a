// The life of a job under leases: prepare first, variants blocked until it is done, heartbeats,
// results accepted once for the current lease only, expiry and requeue on an injected clock.

#include <doctest/doctest.h>

#include "protocol/eval_config.h"
#include "protocol/json_schema.h"
#include "protocol/prepare_result.h"
#include "tests/coordinator/scheduler_fixture.h"

namespace {

using lowbit::coordinator::Code;
using lowbit::coordinator::SchedulerOptions;
using lowbit::protocol::JobKind;
using lowbit::testing::mlp_sweep;
using lowbit::testing::result_for;
using lowbit::testing::SchedulerFixture;

TEST_CASE("the whole cycle: prepare, then every variant, each result stored once") {
  SchedulerFixture f;
  const auto sweep = f.submit(mlp_sweep("cycle", {32, 8, 4}));
  CHECK(f.count(sweep, "blocked") == 3);
  CHECK(f.count(sweep, "queued") == 0);  // the prepare job is not counted
  const auto worker = f.add_worker("w1");

  const auto prepare = f.lease(worker);
  CHECK(prepare.kind == JobKind::kPrepare);
  CHECK(prepare.attempt == 1);
  CHECK(prepare.ttl_ms == 30'000);
  CHECK(prepare.config.at("workload").at("layers") == nlohmann::json({784, 128, 10}));
  CHECK_FALSE(prepare.prepared.has_value());
  CHECK_FALSE(nlohmann::json(prepare).contains("prepared"));
  CHECK_FALSE(f.has_work(f.add_worker("w2")));  // variants wait for the base model

  f.clock.advance_s(20);
  auto beat = f.scheduler().heartbeat(prepare.lease_id, worker);
  REQUIRE(beat.ok());
  CHECK(beat.value.ttl_ms == 30'000);
  CHECK(beat.value.timeout_ms == 3'600'000 - 20'000);
  f.clock.advance_s(20);  // 40 s after the lease, 20 s after the heartbeat: still held
  f.finish(worker, prepare);
  CHECK(f.count(sweep, "queued") == 3);
  CHECK(f.count(sweep, "blocked") == 0);

  for (int i = 0; i < 3; ++i) {
    const auto variant = f.lease(worker);
    CHECK(variant.kind == JobKind::kVariant);
    CHECK(variant.prepare_job_id == prepare.job_id);
    // The prepare job's result travels with the variant: the models it starts from.
    REQUIRE(variant.prepared.has_value());
    CHECK(*variant.prepared == lowbit::testing::result_for(prepare));
    CHECK(nlohmann::json(variant).at("prepared") == *variant.prepared);
    CHECK(variant.measurement.at("batches") == nlohmann::json({1, 64}));
    CHECK(f.count(sweep, "leased") == 1);
    f.finish(worker, variant);
  }
  CHECK_FALSE(f.has_work(worker));
  const auto status = f.scheduler().status(sweep);
  REQUIRE(status.ok());
  CHECK(status.value.counts.at("done") == 3);
  CHECK(status.value.finished);
  CHECK(status.value.progress == 1.0);
  CHECK(status.value.prepare_state == "done");
  const auto results = f.scheduler().results(sweep);
  REQUIRE(results.ok());
  CHECK(results.value.size() == 3);  // len(results) == counts.done
  CHECK(f.rows("results") == 4);     // and the prepare job's
}

TEST_CASE("a lease grant is a job document of schemas/job.schema.json") {
  SchedulerFixture f;
  f.submit(mlp_sweep("doc", {8}));
  const auto worker = f.add_worker("w1");
  const auto schema = lowbit::protocol::JsonSchema::load("job");
  const auto prepare = f.lease(worker);
  auto errors = schema.validate(nlohmann::json(prepare));
  CHECK_MESSAGE(errors.empty(), errors.front().to_string());
  lowbit::protocol::PrepareResult prepared;
  prepared.models = {{"base", "0123456789abcdef", "0123456789abcdef0123456789abcdef", 0.89, 0.88}};
  prepared.data_hash = "d";
  REQUIRE(f.scheduler().submit_result(prepare.lease_id, worker, prepared).ok());
  const nlohmann::json variant = f.lease(worker);
  errors = schema.validate(variant);
  CHECK_MESSAGE(errors.empty(), errors.front().to_string());
  CHECK(variant.at("lease").at("ttl_s") == 30.0);
  CHECK(variant.at("config").get<lowbit::protocol::EvalConfig>().quant.scheme == "sym");
}

TEST_CASE("an expired lease requeues its job on the next attempt, and the old lease is refused") {
  SchedulerFixture f;
  f.submit(lowbit::testing::gemm_sweep("expiry", 1));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  const auto first = f.lease(a);
  CHECK(first.attempt == 1);

  f.clock.advance_s(29.999);
  CHECK_FALSE(f.has_work(b));  // still held
  f.clock.advance_s(0.001);    // the TTL is up
  const auto second = f.lease(b);
  CHECK(second.job_id == first.job_id);
  CHECK(second.attempt == 2);

  const auto late_beat = f.scheduler().heartbeat(first.lease_id, a);
  CHECK(late_beat.code == Code::kConflict);
  const auto late = f.scheduler().submit_result(first.lease_id, a, result_for(first));
  CHECK(late.code == Code::kConflict);
  CHECK(late.message.find("expired") != std::string::npos);
  CHECK(f.rows("results") == 0);  // the late result changed nothing
  f.finish(b, second);
  CHECK(f.rows("results") == 1);
}

TEST_CASE("a result that arrives after the deadline, before anyone noticed, is still refused") {
  SchedulerFixture f;
  const auto sweep = f.submit(lowbit::testing::gemm_sweep("late", 1));
  const auto a = f.add_worker("a");
  const auto grant = f.lease(a);
  f.clock.advance_s(31);
  const auto late = f.scheduler().submit_result(grant.lease_id, a, result_for(grant));
  CHECK(late.code == Code::kConflict);
  CHECK(f.rows("results") == 0);
  CHECK(f.count(sweep, "queued") == 1);  // back in the queue, attempt 2
  CHECK(f.lease(a).attempt == 2);
}

TEST_CASE("a foreign lease is a conflict that changes nothing; an unknown one is not found") {
  SchedulerFixture f;
  const auto sweep = f.submit(lowbit::testing::gemm_sweep("foreign", 1));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  const auto grant = f.lease(a);
  CHECK(f.scheduler().submit_result(grant.lease_id, b, result_for(grant)).code == Code::kConflict);
  CHECK(f.scheduler().heartbeat(grant.lease_id, b).code == Code::kConflict);
  CHECK(f.scheduler().report_failure(grant.lease_id, b, "boom").code == Code::kConflict);
  CHECK(f.count(sweep, "leased") == 1);
  CHECK(f.rows("results") == 0);
  CHECK(f.scheduler().submit_result(grant.lease_id + 100, a, result_for(grant)).code ==
        Code::kNotFound);
  CHECK(f.scheduler().lease(12345).code == Code::kNotFound);
  f.finish(a, grant);
}

TEST_CASE("the same result twice is accepted once; a different one for the same lease is not") {
  SchedulerFixture f;
  const auto sweep = f.submit(lowbit::testing::gemm_sweep("dup", 1));
  const auto a = f.add_worker("a");
  const auto grant = f.lease(a);
  const auto first = f.scheduler().submit_result(grant.lease_id, a, result_for(grant));
  REQUIRE(first.ok());
  CHECK_FALSE(first.value.duplicate);
  f.clock.advance_s(60);  // a retry long after: the lease is finished, not expired
  const auto again = f.scheduler().submit_result(grant.lease_id, a, result_for(grant));
  REQUIRE(again.ok());
  CHECK(again.value.duplicate);
  const auto other = f.scheduler().submit_result(grant.lease_id, a, result_for(grant, "changed"));
  CHECK(other.code == Code::kConflict);
  CHECK(f.rows("results") == 1);
  CHECK(f.count(sweep, "done") == 1);
}

TEST_CASE("heartbeats keep a lease only until the job timeout") {
  SchedulerOptions options;
  options.lease_ttl_ms = 30'000;
  options.job_timeout_ms = 60'000;
  SchedulerFixture f(options);
  const auto sweep = f.submit(lowbit::testing::gemm_sweep("timeout", 1));
  const auto a = f.add_worker("a");
  const auto grant = f.lease(a);
  CHECK(grant.timeout_ms == 60'000);
  f.clock.advance_s(20);
  REQUIRE(f.scheduler().heartbeat(grant.lease_id, a).ok());
  f.clock.advance_s(20);
  const auto beat = f.scheduler().heartbeat(grant.lease_id, a);
  REQUIRE(beat.ok());
  CHECK(beat.value.ttl_ms == 20'000);  // renewed only up to the timeout
  f.clock.advance_s(20);               // 60 s: the job's time is up
  CHECK(f.scheduler().heartbeat(grant.lease_id, a).code == Code::kConflict);
  CHECK(f.count(sweep, "queued") == 1);
  const auto job = f.store().job(grant.job_id);
  CHECK(job->last_error == "ran past the job timeout of 60 s on worker a");
  CHECK(job->attempt == 2);
}

}  // namespace

TEST_CASE(
    "a lease given back requeues its job at once, on the same attempt, and refuses its late "
    "result") {
  SchedulerFixture f;
  f.submit(lowbit::testing::gemm_sweep("release", 1));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  const auto first = f.lease(a);
  REQUIRE(f.scheduler().release(first.lease_id, a).ok());
  const auto again = f.lease(b);
  CHECK(again.job_id == first.job_id);
  CHECK(again.attempt == first.attempt);  // stopping a worker is not the job's failure
  const auto late =
      f.scheduler().submit_result(first.lease_id, a, lowbit::testing::result_for(first));
  CHECK(late.code == lowbit::coordinator::Code::kConflict);
  CHECK(f.scheduler().release(again.lease_id, a).code ==
        lowbit::coordinator::Code::kConflict);  // not a's
  f.finish(b, again);
}
