// When a job gives up: attempts run out, or two different workers report an error (poison). A
// worker that dies only costs an attempt, and a failed prepare job takes its variants with it.

#include <doctest/doctest.h>

#include "tests/coordinator/scheduler_fixture.h"

namespace {

using lowbit::coordinator::JobState;
using lowbit::testing::gemm_sweep;
using lowbit::testing::SchedulerFixture;

TEST_CASE("errors reported by two different workers make a job poison at once") {
  SchedulerFixture f;
  const auto sweep = f.submit(gemm_sweep("poison", 1));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  const auto first = f.lease(a);
  REQUIRE(f.scheduler().report_failure(first.lease_id, a, "segfault in kernel").ok());
  CHECK(f.count(sweep, "queued") == 1);
  const auto second = f.lease(b);
  CHECK(second.attempt == 2);
  REQUIRE(f.scheduler().report_failure(second.lease_id, b, "segfault in kernel").ok());
  CHECK(f.count(sweep, "failed") == 1);
  const auto job = f.store().job(first.job_id);
  CHECK(job->state == JobState::kFailed);
  CHECK(job->last_error ==
        "poison: workers a, b reported errors; last: worker b: segfault in kernel");
  CHECK_FALSE(f.has_work(a));
  const auto status = f.scheduler().status(sweep);
  REQUIRE(status.value.failures.size() == 1);
  CHECK(status.value.failures[0].error == job->last_error);
}

TEST_CASE("one worker failing repeatedly is not poison: the job runs out of attempts instead") {
  SchedulerFixture f;
  const auto sweep = f.submit(gemm_sweep("flaky", 1));
  const auto a = f.add_worker("a");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const auto grant = f.lease(a);
    CHECK(grant.attempt == attempt);
    REQUIRE(f.scheduler().report_failure(grant.lease_id, a, "out of memory").ok());
  }
  CHECK(f.count(sweep, "failed") == 1);
  const auto job = f.store().job(1);
  CHECK(job->last_error == "gave up after 3 attempts; last: worker a: out of memory");
}

TEST_CASE("workers that die are not error reports: no poison, only attempts") {
  SchedulerFixture f;
  const auto sweep = f.submit(gemm_sweep("deaths", 1));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  f.lease(a);
  f.clock.advance_s(31);  // a died
  const auto second = f.lease(b);
  f.clock.advance_s(31);  // b died too: two workers, yet not poison
  CHECK(f.scheduler().reap() == 1);
  CHECK(f.count(sweep, "queued") == 1);
  auto job = f.store().job(second.job_id);
  CHECK(job->error_workers.empty());
  CHECK(job->last_error == "lease expired on worker b: no heartbeat within 30 s");

  const auto third = f.lease(a);
  CHECK(third.attempt == 3);
  f.clock.advance_s(31);
  f.scheduler().reap();
  job = f.store().job(third.job_id);
  CHECK(job->state == JobState::kFailed);
  CHECK(job->last_error ==
        "gave up after 3 attempts; last: lease expired on worker a: no heartbeat within 30 s");
}

TEST_CASE("a death and one error report do not make poison either") {
  SchedulerFixture f;
  const auto sweep = f.submit(gemm_sweep("mixed-bag", 1));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  f.lease(a);
  f.clock.advance_s(31);  // a died
  const auto second = f.lease(b);
  REQUIRE(f.scheduler().report_failure(second.lease_id, b, "bad input").ok());
  CHECK(f.count(sweep, "queued") == 1);
  const auto third = f.lease(a);
  f.finish(a, third);
  CHECK(f.count(sweep, "done") == 1);
}

TEST_CASE("a failed prepare job fails the variants waiting on it, with its reason") {
  SchedulerFixture f;
  const auto sweep = f.submit(lowbit::testing::mlp_sweep("no-base", {32, 8}));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  REQUIRE(f.scheduler().report_failure(f.lease(a).lease_id, a, "data set missing").ok());
  REQUIRE(f.scheduler().report_failure(f.lease(b).lease_id, b, "data set missing").ok());
  const auto status = f.scheduler().status(sweep);
  REQUIRE(status.ok());
  CHECK(status.value.counts.at("failed") == 2);
  CHECK(status.value.counts.at("blocked") == 0);
  CHECK(status.value.finished);
  CHECK(status.value.prepare_state == "failed");
  REQUIRE_FALSE(status.value.failures.empty());
  CHECK(status.value.failures[0].error.starts_with("its prepare job 1 failed: poison: "));
}

}  // namespace
