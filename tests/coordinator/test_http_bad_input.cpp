// Every bad input gets its status code with the API's one error shape (docs/coordinator.md
// "Errors"), and the database is the same afterwards: malformed JSON, schema violations, unknown
// fields, bodies over the limit (also under Expect: 100-continue), a grid over the maximum, missing
// or wrong tokens, unknown routes and wrong methods.

#include <doctest/doctest.h>

#include <fstream>

#include "tests/coordinator/http_fixture.h"

namespace {

using lowbit::coordinator::http_api::AuthPolicy;
using lowbit::coordinator::http_api::TokenTable;
using lowbit::testing::expect_error;
using lowbit::testing::gemm_sweep;
using lowbit::testing::HttpFixture;
using lowbit::testing::HttpServerConfig;
using lowbit::testing::mlp_sweep;
using lowbit::testing::raw_exchange;
using nlohmann::json;
namespace http = lowbit::testing::http;

TEST_CASE("http: bad sweeps are 400 with the pointer, and nothing is written") {
  HttpServerConfig config;
  config.scheduler.max_grid_points = 100;
  HttpFixture f(config);
  f.submit(gemm_sweep("existing", 1));
  const std::string before = f.snapshot();

  SUBCASE("malformed JSON") {
    const auto reply = f.client().request(http::verb::post, "/api/v1/sweeps", R"({"name": "x", )");
    const json error = expect_error(reply, 400);
    CHECK(error.at("pointer") == "");
    CHECK(error.at("message").get<std::string>().starts_with("malformed JSON"));
  }
  SUBCASE("an empty body") {
    expect_error(f.client().request(http::verb::post, "/api/v1/sweeps", ""), 400);
  }
  SUBCASE("a schema violation names its place") {
    json doc = mlp_sweep("bad bits", {32, 33});
    const json error = expect_error(f.client().post("/api/v1/sweeps", doc), 400);
    CHECK(error.at("pointer") == "/axes/bits/1");
    CHECK(error.at("message").get<std::string>().find("33 is not one of") != std::string::npos);
  }
  SUBCASE("an unknown field is named by its pointer") {
    json doc = mlp_sweep("typo");
    doc["axes"]["precisions"] = {"fp32"};
    const json error = expect_error(f.client().post("/api/v1/sweeps", doc), 400);
    CHECK(error.at("pointer") == "/axes/precisions");
  }
  SUBCASE("a grid over the configured maximum") {
    const json error = expect_error(f.client().post("/api/v1/sweeps", gemm_sweep("big", 101)), 400);
    CHECK(error.at("pointer") == "/axes");
  }
  SUBCASE("a body over the limit, answered from Content-Length") {
    const std::string reply =
        raw_exchange(f.port(),
                     "POST /api/v1/sweeps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2000000\r\n\r\n");
    CHECK(reply.starts_with("HTTP/1.1 413"));
    CHECK(reply.find("\"status\":413") != std::string::npos);
  }
  SUBCASE("a body over the limit under Expect: 100-continue gets 413, never 100") {
    const std::string reply =
        raw_exchange(f.port(),
                     "POST /api/v1/sweeps HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n"
                     "Expect: 100-continue\r\n\r\n");
    CHECK(reply.starts_with("HTTP/1.1 413"));
    CHECK(reply.find("100 Continue") == std::string::npos);
  }
  SUBCASE("a chunked body that grows past the limit") {
    const std::string chunk(64 * 1024, ' ');
    std::string request =
        "POST /api/v1/sweeps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) request += "10000\r\n" + chunk + "\r\n";
    request += "0\r\n\r\n";
    const std::string reply = raw_exchange(f.port(), request);
    CHECK(reply.starts_with("HTTP/1.1 413"));
  }
  SUBCASE("a small body under Expect: 100-continue is let in") {
    const std::string body = gemm_sweep("continued", 1).dump();
    const std::string reply =
        raw_exchange(f.port(),
                     "POST /api/v1/sweeps HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Expect: 100-continue\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body);
    CHECK(reply.starts_with("HTTP/1.1 100 Continue"));
    CHECK(reply.find("HTTP/1.1 201") != std::string::npos);
    return;  // this one writes, by design
  }
  SUBCASE("malformed HTTP") {
    const std::string reply = raw_exchange(f.port(), "NOT HTTP AT ALL\r\n\r\n");
    CHECK(reply.starts_with("HTTP/1.1 400"));
  }
  CHECK(f.snapshot() == before);
}

TEST_CASE("http: bad worker-protocol bodies are 400 and change nothing") {
  HttpFixture f;
  f.submit(gemm_sweep("one", 1));
  const auto w = f.register_worker("w");
  const std::string before = f.snapshot();

  json bad_fingerprint = {{"name", "x"}, {"target", {{"cpu", "?"}}}};
  const json error = expect_error(f.client().post("/api/v1/workers", bad_fingerprint), 400);
  CHECK(error.at("pointer").get<std::string>().starts_with("/target"));
  expect_error(f.client().post("/api/v1/leases", json::object()), 400);  // no worker_id
  const json unknown =
      expect_error(f.client().post("/api/v1/leases", {{"worker_id", w}, {"wait", 1}}), 400);
  CHECK(unknown.at("pointer") == "/wait");
  expect_error(f.client().post("/api/v1/leases", {{"worker_id", w}, {"wait_s", -1}}), 400);
  expect_error(f.client().post("/api/v1/leases", {{"worker_id", 99}}), 404);  // unregistered
  expect_error(f.client().post("/api/v1/leases/1/heartbeat", {{"worker_id", "w"}}), 400);
  expect_error(f.client().post("/api/v1/leases/1/result", {{"worker_id", w}}), 400);
  expect_error(f.client().post("/api/v1/leases/1/result", {{"worker_id", w}, {"result", 3}}), 400);
  expect_error(f.client().post("/api/v1/leases/1/failure", {{"worker_id", w}, {"error", ""}}), 400);
  expect_error(f.client().post("/api/v1/leases/x/failure", {{"worker_id", w}, {"error", "e"}}),
               404);
  expect_error(f.client().post("/api/v1/sweeps/1/cancel", {{"now", true}}), 400);
  CHECK(f.snapshot() == before);
}

TEST_CASE("http: unknown routes are 404, wrong methods 405") {
  HttpFixture f;
  expect_error(f.client().get("/api/v1/nothing"), 404);
  expect_error(f.client().get("/api/v2/sweeps"), 404);
  expect_error(f.client().get("/"), 404);
  const auto reply = f.client().request(http::verb::delete_, "/api/v1/sweeps");
  expect_error(reply, 405);
  CHECK(reply.allow == "POST, GET");
  expect_error(f.client().get("/api/v1/leases"), 405);
}

TEST_CASE("http: with a token file, mutations need a token of their role") {
  lowbit::testing::TempDir dir("lowbit-tokens");
  { std::ofstream(dir.path() + "/tokens") << "# roles\nsubmit s3cret\nworker w0rker\n"; }
  HttpServerConfig config;
  config.server.auth = AuthPolicy(TokenTable::load(dir.path() + "/tokens"));
  HttpFixture f(config);
  const std::string before = f.snapshot();
  const json sweep = gemm_sweep("auth", 1);

  CHECK(expect_error(f.client().post("/api/v1/sweeps", sweep), 401)
            .at("message")
            .get<std::string>()
            .find("submit") != std::string::npos);
  expect_error(f.client().post("/api/v1/sweeps", sweep, "guess"), 401);
  expect_error(f.client().post("/api/v1/sweeps", sweep, "s3cre"), 401);
  expect_error(f.client().post("/api/v1/sweeps", sweep, "w0rker"), 403);
  expect_error(f.client().post("/api/v1/workers",
                               {{"target", lowbit::testing::fingerprint("native", 2)}}, "s3cret"),
               403);
  expect_error(f.client().post("/api/v1/leases", {{"worker_id", 1}}), 401);
  CHECK(f.snapshot() == before);

  // Reads stay open; the right roles go through.
  CHECK(f.client().get("/api/v1/sweeps").status == 200);
  const auto id = f.submit(sweep, "s3cret");
  const auto w = f.register_worker("w", "native", 2, "w0rker");
  const auto leased = f.client().post("/api/v1/leases", {{"worker_id", w}}, "w0rker");
  CHECK_MESSAGE(leased.status == 200, leased.body);
  CHECK(f.sweep(id).at("counts").at("leased") == 1);
}

TEST_CASE("without a token file only loopback clients are served") {
  const AuthPolicy open_to_loopback;
  lowbit::coordinator::http_api::Request request{http::verb::get, "/api/v1/sweeps", 11};
  CHECK_FALSE(open_to_loopback.check(request, std::nullopt, true).has_value());
  const auto refused = open_to_loopback.check(request, std::nullopt, false);
  REQUIRE(refused.has_value());
  CHECK(refused->result_int() == 403);
  CHECK(refused->body().find("loopback") != std::string::npos);
}

TEST_CASE("token files: roles, comments and errors naming the line") {
  const TokenTable table = TokenTable::from_text("submit a\n\n# note\nworker b\nsubmit b\n", "t");
  using lowbit::coordinator::http_api::Role;
  CHECK(table.roles_of("a") == std::set<Role>{Role::kSubmit});
  CHECK(table.roles_of("b") == std::set<Role>{Role::kSubmit, Role::kWorker});
  CHECK(table.roles_of("c").empty());
  CHECK(table.roles_of("").empty());
  CHECK_THROWS_WITH(TokenTable::from_text("admin x\n", "t"),
                    doctest::Contains("t:1: unknown role \"admin\""));
  CHECK_THROWS_WITH(TokenTable::from_text("submit\n", "t"), doctest::Contains("t:1"));
  CHECK_THROWS_WITH(TokenTable::from_text("submit a b\n", "t"), doctest::Contains("t:1"));
  CHECK_THROWS_WITH(TokenTable::from_text("# nothing\n", "t"), doctest::Contains("no ROLE"));
}

}  // namespace
