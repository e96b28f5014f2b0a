// Sweeps in, bad sweeps out with nothing written, a coordinator restarted on the same file, the
// artifacts table, and the time a 10,000-point sweep takes to expand and persist.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "coordinator/artifact_hash.h"
#include "tests/coordinator/scheduler_fixture.h"

namespace {

using lowbit::coordinator::Code;
using lowbit::coordinator::SchedulerOptions;
using lowbit::testing::gemm_sweep;
using lowbit::testing::mlp_sweep;
using lowbit::testing::result_for;
using lowbit::testing::SchedulerFixture;
using nlohmann::json;

TEST_CASE("a submitted sweep answers {id, jobs, skipped} and is all in the store") {
  SchedulerFixture f;
  json doc = mlp_sweep("receipt", {32, 8});
  doc["axes"]["precision"] = {"fp32", "int8"};
  const auto outcome = f.scheduler().submit(doc);
  REQUIRE(outcome.ok());
  const json receipt = outcome.value;
  CHECK(receipt.at("id") == 1);
  CHECK(receipt.at("jobs") == 3);
  REQUIRE(receipt.at("skipped").size() == 1);
  CHECK(
      receipt.at("skipped")[0].at("reason").get<std::string>().starts_with("int8 needs bits ≤ 8"));
  CHECK(receipt.at("skipped")[0].at("target") == "any");
  CHECK(f.rows("jobs") == 4);  // with the prepare job
  CHECK(f.rows("skipped") == 1);
  const auto status = f.scheduler().status(1);
  CHECK(status.value.counts.at("skipped") == 1);
  CHECK(status.value.grid_points == 4);
  const auto skipped = f.scheduler().skipped(1);
  REQUIRE(skipped.value.size() == 1);
  CHECK(skipped.value[0].config.at("precision") == "int8");
  const auto listed = f.scheduler().list();
  REQUIRE(listed.size() == 1);
  CHECK(json(listed[0]).at("counts") == json({{"queued", 0},
                                              {"blocked", 3},
                                              {"leased", 0},
                                              {"done", 0},
                                              {"failed", 0},
                                              {"skipped", 1},
                                              {"cancelled", 0}}));
}

TEST_CASE("a bad sweep is refused with its pointer, and the database is unchanged") {
  SchedulerFixture f;
  json doc = mlp_sweep("bad");
  doc["axes"]["bits"] = {8, 33};
  auto outcome = f.scheduler().submit(doc);
  CHECK(outcome.code == Code::kInvalid);
  CHECK(outcome.pointer == "/axes/bits/1");
  CHECK(outcome.message == "/axes/bits/1: 33 is not one of [2,3,4,5,6,7,8,32]");

  doc = mlp_sweep("unknown field");
  doc["axes"]["precisions"] = {"fp32"};
  outcome = f.scheduler().submit(doc);
  CHECK(outcome.code == Code::kInvalid);
  CHECK(outcome.pointer == "/axes/precisions");
  for (const char* table : {"sweeps", "jobs", "skipped", "targets"}) {
    CAPTURE(table);
    CHECK(f.rows(table) == 0);
  }
}

TEST_CASE("a grid over the configured maximum is refused and nothing is written") {
  SchedulerOptions options;
  options.max_grid_points = 10;
  SchedulerFixture f(options);
  json doc = mlp_sweep("too big", {2, 3, 4, 5, 6, 7, 8, 32});
  doc["axes"]["pruning"] = {0, 0.5};
  const auto outcome = f.scheduler().submit(doc);
  CHECK(outcome.code == Code::kInvalid);
  CHECK(outcome.pointer == "/axes");
  CHECK(outcome.message.find("the grid has 16 points") != std::string::npos);
  CHECK(f.rows("sweeps") == 0);
  CHECK(f.rows("jobs") == 0);
}

TEST_CASE("a coordinator restarted on the same file continues the sweep") {
  SchedulerFixture f;
  const auto sweep = f.submit(mlp_sweep("restart", {32, 8}));
  const auto a = f.add_worker("a");
  const auto b = f.add_worker("b");
  const auto prepare = f.lease(a);
  f.finish(a, prepare);
  const auto held = f.lease(a);  // a keeps heartbeating across the restart
  const auto lost = f.lease(b);  // b dies while the coordinator is down

  f.reopen();
  f.clock.advance_s(20);
  REQUIRE(f.scheduler().heartbeat(held.lease_id, a).ok());
  f.clock.advance_s(15);             // b's lease ran out during the outage
  const auto requeued = f.lease(b);  // b is back
  CHECK(requeued.job_id == lost.job_id);
  CHECK(requeued.attempt == 2);
  f.finish(a, held);
  f.finish(b, requeued);
  CHECK(f.scheduler().submit_result(lost.lease_id, b, result_for(lost)).code == Code::kConflict);

  f.reopen();
  const auto status = f.scheduler().status(sweep);
  CHECK(status.value.counts.at("done") == 2);
  CHECK(status.value.finished);
  CHECK(f.scheduler().results(sweep).value.size() == 2);
  // A duplicate of a result accepted before the restart is still recognised.
  const auto again = f.scheduler().submit_result(held.lease_id, a, result_for(held));
  REQUIRE(again.ok());
  CHECK(again.value.duplicate);
}

TEST_CASE("artifacts are stored under the hash of their bytes") {
  SchedulerFixture f;
  const std::vector<std::uint8_t> bytes{1, 2, 3, 4, 5};
  const std::string hash = lowbit::coordinator::artifact_hash(bytes);
  CHECK(hash.size() == 32);
  const auto put = f.scheduler().put_artifact(hash, bytes);
  REQUIRE(put.ok());
  CHECK(put.value);  // newly stored
  CHECK_FALSE(f.scheduler().put_artifact(hash, bytes).value);
  CHECK(f.scheduler().artifact(hash) == bytes);
  const auto wrong = f.scheduler().put_artifact(std::string(32, '0'), bytes);
  CHECK(wrong.code == Code::kInvalid);
  CHECK_FALSE(f.scheduler().artifact(std::string(32, '0')));
}

TEST_CASE("a 10,000-point sweep is validated, expanded and persisted (time printed)") {
  SchedulerFixture f;
  json doc = mlp_sweep("ten thousand");
  json pruning = json::array();
  for (int i = 0; i < 50; ++i) pruning.push_back(i / 50.0);
  doc["axes"] = {{"pruning", pruning},
                 {"bits", {2, 3, 4, 5, 6, 7, 8, 32}},
                 {"precision", {"fp32", "bf16", "fp16", "int8", "fixed"}}};
  doc["targets"] = json::parse(
      R"([{"label": "native-t1"}, {"label": "native-t2"}, {"label": "avx2-t1"},
          {"label": "avx2-t2"}, {"label": "avx512_core-t1"}])");
  const auto start = std::chrono::steady_clock::now();
  const auto outcome = f.scheduler().submit(doc);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(outcome.ok());
  CHECK(outcome.value.jobs + static_cast<std::int64_t>(outcome.value.skipped.size()) == 10'000);
  CHECK(outcome.value.skipped.size() == 50 * 2 * 5);  // int8 and fixed at 32 bits
  CHECK(f.rows("jobs") == 1 + outcome.value.jobs);
  std::printf("10,000-point sweep: validated, expanded and persisted in %.3f s (%lld jobs)\n",
              seconds, static_cast<long long>(outcome.value.jobs));
}

}  // namespace
