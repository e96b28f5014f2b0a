#pragma once
// A coordinator served over real HTTP on loopback (port 0) with a real SQLite file in a temp dir,
// and a small synchronous Beast client to talk to it. The server runs in-process so a test can
// restart it on the same file; one test also starts the real `lowbit coordinator`.

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/http_server.h"
#include "coordinator/scheduler.h"
#include "coordinator/sqlite.h"
#include "coordinator/store.h"
#include "tests/coordinator/scheduler_fixture.h"
#include "tests/support/subprocess.h"

namespace lowbit::testing {

namespace http = coordinator::http_api::http;
namespace net = coordinator::http_api::net;

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  nlohmann::json json() const {
    return body.empty() ? nlohmann::json() : nlohmann::json::parse(body);
  }
};

// One keep-alive connection; reconnects when the server closed it.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port) : port_(port) {}

  HttpReply request(http::verb method, const std::string& target, const std::string& body = "",
                    const std::string& token = "") {
    for (int attempt = 0;; ++attempt) {
      try {
        return exchange(method, target, body, token);
      } catch (const boost::system::system_error&) {
        stream_.reset();
        if (attempt == 1) throw;
      }
    }
  }
  HttpReply get(const std::string& target) { return request(http::verb::get, target); }
  HttpReply post(const std::string& target, const nlohmann::json& body,
                 const std::string& token = "") {
    return request(http::verb::post, target, body.dump(), token);
  }

 private:
  HttpReply exchange(http::verb method, const std::string& target, const std::string& body,
                     const std::string& token) {
    if (!stream_) {
      stream_ = std::make_unique<coordinator::http_api::beast::tcp_stream>(ioc_);
      stream_->connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(*stream_, req);
    coordinator::http_api::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::size_t{1} << 30);
    http::read(*stream_, buffer, parser);
    auto res = parser.release();
    HttpReply reply{static_cast<int>(res.result_int()), res.body(),
                    std::string(res[http::field::content_type]),
                    std::string(res[http::field::allow])};
    if (!res.keep_alive()) stream_.reset();
    return reply;
  }

  std::uint16_t port_;
  net::io_context ioc_;
  std::unique_ptr<coordinator::http_api::beast::tcp_stream> stream_;
};

// Sends raw bytes and reads what comes back until the server closes or `timeout` passes.
std::string raw_exchange(std::uint16_t port, const std::string& bytes);

struct HttpServerConfig {
  coordinator::SchedulerOptions scheduler;
  coordinator::http_api::ServerOptions server;
};

class HttpFixture {
 public:
  explicit HttpFixture(HttpServerConfig config = {}) : dir_("lowbit-http"), config_(config) {
    config_.server.host = "127.0.0.1";
    config_.server.port = 0;
    start();
  }
  ~HttpFixture() { stop(); }

  void start() {
    store_ = std::make_unique<coordinator::Store>(db_path());
    scheduler_ = std::make_unique<coordinator::Scheduler>(*store_, config_.scheduler);
    server_ = std::make_unique<coordinator::http_api::Server>(
        coordinator::http_api::Backend{*store_, *scheduler_}, config_.server);
    server_->start();
    client_ = std::make_unique<HttpClient>(server_->port());
  }
  void stop() {
    client_.reset();
    server_.reset();
    scheduler_.reset();
    store_.reset();
  }
  // A new coordinator on the same file, as after a restart.
  void restart() {
    stop();
    start();
  }

  std::string db_path() const { return dir_.path() + "/lowbit.db"; }
  const std::string& dir() const { return dir_.path(); }
  std::uint16_t port() const { return server_->port(); }
  HttpClient& client() { return *client_; }

  // What the tables hold, read through a second connection (WAL lets it read beside the
  // server's): equal snapshots mean a request changed nothing.
  std::string snapshot() const {
    coordinator::Database db(db_path());
    std::string out;
    for (const char* sql :
         {"SELECT count(*) || ':' || coalesce(group_concat(id || '/' || coalesce(cancelled_ms, "
          "'')), '') FROM sweeps",
          "SELECT count(*) || ':' || coalesce(group_concat(id || '/' || state || '/' || "
          "attempt || '/' || coalesce(last_error, '')), '') FROM jobs",
          "SELECT count(*) || ':' || coalesce(group_concat(id || '/' || state || '/' || "
          "deadline_ms), '') FROM leases",
          "SELECT count(*) || ':' || coalesce(group_concat(job_id), '') FROM results",
          "SELECT count(*) || ':' || coalesce(group_concat(name || '/' || fingerprint), '') "
          "FROM workers",
          "SELECT count(*) FROM skipped", "SELECT count(*) FROM artifacts"}) {
      out += db.scalar_text(sql) + "\n";
    }
    return out;
  }

  std::int64_t register_worker(const std::string& name, const std::string& isa = "native",
                               int threads = 2, const std::string& token = "") {
    const auto reply = client().post(
        "/api/v1/workers", {{"name", name}, {"target", fingerprint(isa, threads)}}, token);
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
    return reply.json().at("id").get<std::int64_t>();
  }

  std::int64_t submit(const nlohmann::json& sweep, const std::string& token = "") {
    const auto reply = client().post("/api/v1/sweeps", sweep, token);
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
    return reply.json().at("id").get<std::int64_t>();
  }

  // POST /leases; the job document, or null on 204.
  nlohmann::json lease(std::int64_t worker, double wait_s = 0) {
    const auto reply = client().post("/api/v1/leases", {{"worker_id", worker}, {"wait_s", wait_s}});
    REQUIRE_MESSAGE((reply.status == 200 || reply.status == 204), reply.body);
    return reply.status == 204 ? nlohmann::json() : reply.json();
  }

  HttpReply post_result(const nlohmann::json& job, std::int64_t worker,
                        const std::string& note = "") {
    const std::int64_t lease = job.at("lease").at("id").get<std::int64_t>();
    // A prepare job delivers its models (protocol/prepare_result.h); variants get them as
    // `prepared`, which schemas/job.schema.json checks.
    const nlohmann::json prepared = {{"models",
                                      {{{"role", "base"},
                                        {"cache_key", "0123456789abcdef"},
                                        {"hash", "0123456789abcdef0123456789abcdef"},
                                        {"test_top1", 0.89},
                                        {"validation_top1", 0.88}}}},
                                     {"data_hash", note.empty() ? "d" : note},
                                     {"train_seconds", 1.0},
                                     {"target", nlohmann::json::object()},
                                     {"version", nlohmann::json::object()}};
    const nlohmann::json result = job.at("kind") == "prepare"
                                      ? prepared
                                      : nlohmann::json{{"config", job.at("config")},
                                                       {"config_hash", job.at("config_hash")},
                                                       {"status", "passed"},
                                                       {"note", note}};
    return client().post("/api/v1/leases/" + std::to_string(lease) + "/result",
                         {{"worker_id", worker}, {"result", result}});
  }

  nlohmann::json sweep(std::int64_t id) {
    const auto reply = client().get("/api/v1/sweeps/" + std::to_string(id));
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
    return reply.json();
  }

 private:
  TempDir dir_;
  HttpServerConfig config_;
  std::unique_ptr<coordinator::Store> store_;
  std::unique_ptr<coordinator::Scheduler> scheduler_;
  std::unique_ptr<coordinator::http_api::Server> server_;
  std::unique_ptr<HttpClient> client_;
};

// Checks the API's one error shape (docs/coordinator.md "Errors") and returns the error object.
inline nlohmann::json expect_error(const HttpReply& reply, int status) {
  CHECK_MESSAGE(reply.status == status, reply.body);
  const nlohmann::json doc = nlohmann::json::parse(reply.body, nullptr, false);
  REQUIRE_MESSAGE(doc.is_object(), reply.body);
  REQUIRE(doc.contains("error"));
  const nlohmann::json& error = doc.at("error");
  CHECK(error.at("status") == status);
  CHECK(error.at("message").is_string());
  CHECK_FALSE(error.at("message").get<std::string>().empty());
  return error;
}

}  // namespace lowbit::testing
