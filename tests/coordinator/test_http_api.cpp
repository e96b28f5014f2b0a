// The HTTP API over real HTTP on loopback: sweeps submitted, listed, read and cancelled; results
// as JSON and CSV; artifacts; workers and targets; health and metrics.

#include <doctest/doctest.h>

#include "coordinator/artifact_hash.h"
#include "tests/coordinator/http_fixture.h"

namespace {

using lowbit::testing::expect_error;
using lowbit::testing::gemm_sweep;
using lowbit::testing::HttpFixture;
using lowbit::testing::mlp_sweep;
using nlohmann::json;
namespace http = lowbit::testing::http;

TEST_CASE("http: submit, list, get and cancel a sweep") {
  HttpFixture f;
  json doc = gemm_sweep("three shapes", 3);
  doc["axes"]["precision"] = {"fp32", "int8"};  // int8 at 32 bits is skipped with its reason
  const auto reply = f.client().post("/api/v1/sweeps", doc);
  REQUIRE_MESSAGE(reply.status == 201, reply.body);
  const json receipt = reply.json();
  CHECK(receipt.at("jobs") == 3);
  REQUIRE(receipt.at("skipped").size() == 3);
  CHECK(receipt.at("skipped")[0].at("reason").get<std::string>().find("int8") != std::string::npos);
  CHECK(receipt.at("skipped")[0].contains("target"));
  const auto id = receipt.at("id").get<std::int64_t>();

  const json list = f.client().get("/api/v1/sweeps").json();
  REQUIRE(list.at("sweeps").size() == 1);
  CHECK(list.at("sweeps")[0].at("id") == id);

  json status = f.sweep(id);
  CHECK(status.at("counts").at("queued") == 3);
  CHECK(status.at("counts").at("skipped") == 3);
  CHECK(status.at("skipped").size() == 3);
  CHECK(status.at("progress") == 0.0);
  CHECK(status.at("state") == "running");

  const auto cancelled =
      f.client().post("/api/v1/sweeps/" + std::to_string(id) + "/cancel", json::object());
  CHECK_MESSAGE(cancelled.status == 200, cancelled.body);
  status = f.sweep(id);
  CHECK(status.at("counts").at("cancelled") == 3);
  CHECK(status.at("counts").at("queued") == 0);
  CHECK(status.at("state") == "cancelled");

  expect_error(f.client().get("/api/v1/sweeps/99"), 404);
  expect_error(f.client().get("/api/v1/sweeps/abc"), 404);
  expect_error(f.client().post("/api/v1/sweeps/99/cancel", json::object()), 404);
}

TEST_CASE("http: results as JSON and CSV, one per done job") {
  HttpFixture f;
  const auto id = f.submit(gemm_sweep("results", 2));
  const auto worker = f.register_worker("w1");
  for (int i = 0; i < 2; ++i) {
    const json job = f.lease(worker);
    REQUIRE(job.is_object());
    CHECK(f.post_result(job, worker).status == 200);
  }
  const json results = f.client().get("/api/v1/sweeps/" + std::to_string(id) + "/results").json();
  CHECK(results.at("id") == id);
  CHECK(results.at("results").size() == 2);
  CHECK(f.sweep(id).at("counts").at("done") == 2);  // len(results) == counts.done

  const auto csv = f.client().get("/api/v1/sweeps/" + std::to_string(id) + "/results?format=csv");
  CHECK(csv.status == 200);
  CHECK(csv.content_type.starts_with("text/csv"));
  CHECK(csv.body.starts_with("config_hash,status,"));
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 3);  // header and two rows
  CHECK(csv.body.find(",passed,") != std::string::npos);

  const auto error = expect_error(
      f.client().get("/api/v1/sweeps/" + std::to_string(id) + "/results?format=xml"), 400);
  CHECK(error.at("message").get<std::string>().find("format") != std::string::npos);
}

TEST_CASE("http: artifacts are content-addressed and verified") {
  HttpFixture f;
  const std::string text = "a trained model's bytes";
  const std::vector<std::uint8_t> bytes(text.begin(), text.end());
  const std::string hash = lowbit::coordinator::artifact_hash(bytes);
  const std::string url = "/api/v1/artifacts/" + hash;

  CHECK(f.client().request(http::verb::put, url, text).status == 201);
  CHECK(f.client().request(http::verb::put, url, text).status == 200);  // already there
  const auto got = f.client().get(url);
  CHECK(got.status == 200);
  CHECK(got.body == text);

  const std::string before = f.snapshot();
  const std::string wrong(32, '0');
  expect_error(f.client().request(http::verb::put, "/api/v1/artifacts/" + wrong, text), 400);
  expect_error(f.client().request(http::verb::put, "/api/v1/artifacts/nothex", text), 400);
  expect_error(f.client().get("/api/v1/artifacts/" + wrong), 404);
  CHECK(f.snapshot() == before);
}

TEST_CASE("http: workers and targets, health and metrics") {
  HttpFixture f;
  f.register_worker("big");
  f.register_worker("small", "avx2", 1);
  f.register_worker("big2");
  const json workers = f.client().get("/api/v1/workers").json().at("workers");
  REQUIRE(workers.size() == 3);
  CHECK(workers[0].at("name") == "big");
  CHECK(workers[0].at("target").at("label") == "native-t2");
  const json targets = f.client().get("/api/v1/targets").json().at("targets");
  REQUIRE(targets.size() == 2);  // big and big2 share one fingerprint
  for (const json& t : targets) {
    CHECK(t.at("workers").size() == (t.at("label") == "native-t2" ? 2u : 1u));
  }

  // Registering again under the same name updates the worker, it does not add one.
  f.register_worker("big", "avx512_core", 2);
  CHECK(f.client().get("/api/v1/workers").json().at("workers").size() == 3);

  const auto health = f.client().get("/healthz");
  CHECK(health.status == 200);
  CHECK(health.json().at("status") == "ok");

  f.submit(gemm_sweep("metrics", 2));
  const auto metrics = f.client().get("/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type.starts_with("text/plain"));
  CHECK(metrics.body.find("lowbit_jobs{state=\"queued\"} 2\n") != std::string::npos);
  CHECK(metrics.body.find("lowbit_leases_active 0\n") != std::string::npos);
  CHECK(metrics.body.find("lowbit_workers 3\n") != std::string::npos);
  CHECK(metrics.body.find(
            "lowbit_http_requests_total{route=\"POST /api/v1/workers\",status=\"200\"} 4\n") !=
        std::string::npos);
  CHECK(metrics.body.find(
            "lowbit_http_request_seconds_bucket{route=\"GET /healthz\",le=\"+Inf\"} 1") !=
        std::string::npos);
}

}  // namespace
