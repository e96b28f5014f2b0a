// The worker protocol over HTTP: the lease cycle with its prepare job, long-polls, expiry and
// requeue with a sub-second TTL, stale and foreign leases, idempotent results, poison against a
// worker that merely died, capability matching, and a restart on the same file.

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

#include "protocol/json_schema.h"
#include "tests/coordinator/http_fixture.h"

namespace {

using lowbit::testing::expect_error;
using lowbit::testing::gemm_sweep;
using lowbit::testing::HttpFixture;
using lowbit::testing::HttpServerConfig;
using lowbit::testing::mlp_sweep;
using nlohmann::json;
using namespace std::chrono_literals;

std::string lease_url(const json& job, const std::string& what) {
  return "/api/v1/leases/" + std::to_string(job.at("lease").at("id").get<std::int64_t>()) + "/" +
         what;
}

// Leases expire 150 ms after a grant or heartbeat and are reaped every 10 ms, so expiry tests
// wait a fraction of a second, never the default 30 s.
HttpServerConfig short_ttl(int max_attempts = 3, lowbit::coordinator::TimeMs ttl_ms = 150) {
  HttpServerConfig config;
  config.scheduler.lease_ttl_ms = ttl_ms;
  config.scheduler.max_attempts = max_attempts;
  config.server.reap_interval = 10ms;
  return config;
}

TEST_CASE("http: the whole lease cycle; variants wait for their prepare job") {
  HttpFixture f;
  const auto sweep = f.submit(mlp_sweep("cycle", {32, 8}));
  CHECK(f.sweep(sweep).at("counts").at("blocked") == 2);
  const auto w1 = f.register_worker("w1");
  const auto w2 = f.register_worker("w2");

  const json prepare = f.lease(w1);
  REQUIRE(prepare.is_object());
  CHECK(prepare.at("kind") == "prepare");
  CHECK(prepare.at("attempt") == 1);
  CHECK(prepare.at("lease").at("ttl_s") == 30.0);
  // What a worker receives is the documented job (schemas/job.schema.json).
  const auto job_schema = lowbit::protocol::JsonSchema::load("job");
  CHECK(job_schema.validate(prepare).empty());
  CHECK(f.lease(w2).is_null());  // 204: the variants are blocked on the base model
  CHECK(f.sweep(sweep).at("prepare").at("state") == "leased");

  const auto beat = f.client().post(lease_url(prepare, "heartbeat"), {{"worker_id", w1}});
  CHECK_MESSAGE(beat.status == 200, beat.body);
  CHECK(beat.json().at("ttl_s") == 30.0);
  expect_error(f.client().post(lease_url(prepare, "heartbeat"), {{"worker_id", w2}}), 409);

  const auto first = f.post_result(prepare, w1);
  CHECK_MESSAGE(first.status == 200, first.body);
  CHECK(first.json().at("duplicate") == false);
  CHECK(f.sweep(sweep).at("counts").at("queued") == 2);

  for (const auto worker : {w1, w2}) {
    const json variant = f.lease(worker);
    REQUIRE(variant.is_object());
    CHECK(variant.at("kind") == "variant");
    CHECK(variant.at("prepare_job_id") == prepare.at("id"));
    CHECK(job_schema.validate(variant).empty());
    CHECK(f.post_result(variant, worker).status == 200);
  }
  const json status = f.sweep(sweep);
  CHECK(status.at("counts").at("done") == 2);
  CHECK(status.at("state") == "finished");
  CHECK(status.at("progress") == 1.0);
  CHECK(f.lease(w1).is_null());
}

TEST_CASE("http: the same result again is an idempotent 200; different bytes are 409") {
  HttpFixture f;
  f.submit(gemm_sweep("dup", 1));
  const auto w = f.register_worker("w");
  const json job = f.lease(w);
  REQUIRE(f.post_result(job, w).status == 200);
  const std::string after_first = f.snapshot();

  const auto again = f.post_result(job, w);
  CHECK(again.status == 200);
  CHECK(again.json().at("duplicate") == true);
  expect_error(f.post_result(job, w, "other bytes"), 409);
  CHECK(f.snapshot() == after_first);

  expect_error(
      f.client().post("/api/v1/leases/999/result", {{"worker_id", w}, {"result", json::object()}}),
      404);
}

TEST_CASE("http: a lease past its TTL is requeued; its late result is 409 and changes nothing") {
  HttpFixture f(short_ttl());
  const auto sweep = f.submit(gemm_sweep("expiry", 1));
  const auto slow = f.register_worker("slow");
  const auto other = f.register_worker("other");
  const json first = f.lease(slow);
  REQUIRE(first.is_object());
  CHECK(first.at("lease").at("ttl_s") == 0.15);

  std::this_thread::sleep_for(300ms);  // two TTLs: the reaper requeues the job on its own
  json status = f.sweep(sweep);
  CHECK(status.at("counts").at("queued") == 1);
  CHECK(status.at("counts").at("leased") == 0);

  const std::string before = f.snapshot();
  expect_error(f.post_result(first, slow), 409);
  expect_error(f.client().post(lease_url(first, "heartbeat"), {{"worker_id", slow}}), 409);
  CHECK(f.snapshot() == before);

  const json second = f.lease(other);
  REQUIRE(second.is_object());
  CHECK(second.at("id") == first.at("id"));
  CHECK(second.at("attempt") == 2);
  expect_error(f.post_result(second, slow), 409);  // a foreign lease
  CHECK(f.post_result(second, other).status == 200);
  CHECK(f.sweep(sweep).at("counts").at("done") == 1);
}

TEST_CASE("http: heartbeats keep a short lease alive") {
  // A longer TTL here: a heartbeat every 100 ms must land within it even on a loaded machine.
  HttpFixture f(short_ttl(3, 400));
  const auto sweep = f.submit(gemm_sweep("beats", 1));
  const auto w = f.register_worker("w");
  const json job = f.lease(w);
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(100ms);
    REQUIRE(f.client().post(lease_url(job, "heartbeat"), {{"worker_id", w}}).status == 200);
  }
  CHECK(f.sweep(sweep).at("counts").at("leased") == 1);  // 600 ms after the grant, still held
  CHECK(f.post_result(job, w).status == 200);
}

TEST_CASE("http: poison after errors on two workers; a worker that died is not an error") {
  SUBCASE("errors reported by two different workers fail the job at once") {
    HttpFixture f;
    const auto sweep = f.submit(gemm_sweep("poison", 1));
    const auto a = f.register_worker("a");
    const auto b = f.register_worker("b");
    const json first = f.lease(a);
    CHECK(f.client()
              .post(lease_url(first, "failure"), {{"worker_id", a}, {"error", "boom"}})
              .status == 200);
    CHECK(f.sweep(sweep).at("counts").at("queued") == 1);  // one report: retried
    const json second = f.lease(b);
    REQUIRE(second.is_object());
    CHECK(f.client()
              .post(lease_url(second, "failure"), {{"worker_id", b}, {"error", "boom"}})
              .status == 200);
    const json status = f.sweep(sweep);
    CHECK(status.at("counts").at("failed") == 1);
    REQUIRE(status.at("failures").size() == 1);
    CHECK(status.at("failures")[0].at("error").get<std::string>().find("boom") !=
          std::string::npos);
    CHECK(f.lease(a).is_null());
  }
  SUBCASE("leases that expire use attempts but never make the job poison") {
    HttpFixture f(short_ttl(3));
    const auto sweep = f.submit(gemm_sweep("died", 1));
    const auto a = f.register_worker("a");
    const auto b = f.register_worker("b");
    for (const auto worker : {a, b}) {
      REQUIRE(f.lease(worker).is_object());
      std::this_thread::sleep_for(250ms);  // the worker "dies": no heartbeat, no report
    }
    json status = f.sweep(sweep);
    CHECK(status.at("counts").at("queued") == 1);  // two deaths on two workers: not poison
    const json third = f.lease(a);
    REQUIRE(third.is_object());
    CHECK(third.at("attempt") == 3);
    std::this_thread::sleep_for(250ms);  // the last attempt expires too: attempts used up
    status = f.sweep(sweep);
    CHECK(status.at("counts").at("failed") == 1);
  }
}

TEST_CASE("http: a job goes only to a worker whose fingerprint matches its target") {
  HttpFixture f;
  json doc = gemm_sweep("matching", 1);
  doc["targets"] = json::parse(R"([{"isa": "avx2", "threads": 1}])");
  const auto sweep = f.submit(doc);
  const auto big = f.register_worker("big", "native", 2);
  CHECK(f.lease(big).is_null());
  const json status = f.sweep(sweep);
  REQUIRE(status.at("waiting").size() == 1);
  CHECK(status.at("waiting")[0].get<std::string>().find("isa=avx2") != std::string::npos);
  const auto small = f.register_worker("small", "avx2", 1);
  const json job = f.lease(small);
  REQUIRE(job.is_object());
  CHECK(f.post_result(job, small).status == 200);
}

TEST_CASE("http: a long-poll waits for work and answers 204 when none comes") {
  HttpFixture f;
  const auto w = f.register_worker("w");
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(f.lease(w, 0.2).is_null());
  CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);

  // A second client submits while the first waits; the waiting lease gets the job.
  auto waiting = std::async(std::launch::async, [&] {
    lowbit::testing::HttpClient client(f.port());
    return client.post("/api/v1/leases", {{"worker_id", w}, {"wait_s", 10}});
  });
  std::this_thread::sleep_for(100ms);
  f.submit(gemm_sweep("late", 1));
  REQUIRE(waiting.wait_for(5s) == std::future_status::ready);
  const auto reply = waiting.get();
  CHECK_MESSAGE(reply.status == 200, reply.body);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("http: a coordinator restarted on the same file continues the sweep") {
  HttpFixture f;
  const auto sweep = f.submit(gemm_sweep("restart", 3));
  const auto w = f.register_worker("w");
  const json held = f.lease(w);
  const json done = f.lease(w);
  REQUIRE(f.post_result(done, w).status == 200);

  f.restart();
  json status = f.sweep(sweep);
  CHECK(status.at("counts").at("done") == 1);
  CHECK(status.at("counts").at("leased") == 1);
  CHECK(status.at("counts").at("queued") == 1);
  // The lease granted before the restart is still the worker's.
  CHECK(f.client().post(lease_url(held, "heartbeat"), {{"worker_id", w}}).status == 200);
  CHECK(f.post_result(held, w).status == 200);
  const json last = f.lease(w);
  REQUIRE(last.is_object());
  CHECK(f.post_result(last, w).status == 200);
  status = f.sweep(sweep);
  CHECK(status.at("counts").at("done") == 3);
  CHECK(f.client()
            .get("/api/v1/sweeps/" + std::to_string(sweep) + "/results")
            .json()
            .at("results")
            .size() == 3);
}

}  // namespace
