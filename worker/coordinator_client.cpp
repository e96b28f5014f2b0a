// Boost 1.74's Asio uses std::exchange without including <utility>: it must come first.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
// clang-format on

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "worker/coordinator_client.h"

namespace lowbit::worker {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;

CoordinatorUrl parse_coordinator_url(const std::string& url) {
  static const std::regex kUrl(R"(^http://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):([0-9]{1,5})/?$)");
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) {
    throw std::invalid_argument(fmt::format("coordinator: {:?} is not http://HOST:PORT", url));
  }
  const int port = std::stoi(m[2].str());
  if (port < 1 || port > 65535) {
    throw std::invalid_argument(fmt::format("coordinator: port {} is out of range", port));
  }
  std::string host = m[1].str();
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, static_cast<std::uint16_t>(port)};
}

std::string default_coordinator_url() {
  if (const char* env = std::getenv("LOWBIT_COORDINATOR"); env != nullptr && *env != '\0')
    return env;
  return "http://127.0.0.1:8080";
}

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("--token-file: cannot read {}", path));
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    return line.substr(first, last - first + 1);
  }
  throw std::invalid_argument(fmt::format("--token-file: {} holds no token", path));
}

struct CoordinatorClient::Connection {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  bool open = false;
};

CoordinatorClient::CoordinatorClient(const std::string& url, std::string token,
                                     std::chrono::milliseconds timeout)
    : url_(url), where_(parse_coordinator_url(url)), token_(std::move(token)), timeout_(timeout) {}

CoordinatorClient::~CoordinatorClient() = default;

namespace {

// Runs one asynchronous operation to completion on `ioc`. Beast's stream timeouts apply only to
// asynchronous calls, so every step goes through here: a coordinator that stops answering
// without closing the socket ends in a timeout instead of a worker blocked forever.
template <typename Start>
void run_until_done(net::io_context& ioc, Start&& start) {
  beast::error_code result;
  bool done = false;
  start([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  ioc.run();
  if (!done) result = net::error::operation_aborted;
  if (result) throw boost::system::system_error(result);
}

}  // namespace

HttpAnswer CoordinatorClient::exchange(const std::string& method, const std::string& target,
                                       const std::string& body, const std::string& content_type,
                                       std::optional<std::chrono::milliseconds> timeout) {
  const auto deadline = timeout.value_or(timeout_);
  // A kept-alive connection the server has since closed fails on first use: one retry on a
  // fresh connection tells that apart from a coordinator that is really gone. Only a request
  // that never got out is retried, so a POST the server received is never sent twice.
  for (int attempt = 0;; ++attempt) {
    const bool reused = connection_ && connection_->open;
    bool sent = false;
    try {
      if (!reused) {
        connection_ = std::make_unique<Connection>();
        net::ip::tcp::resolver resolver(connection_->ioc);
        const auto endpoints = resolver.resolve(where_.host, std::to_string(where_.port));
        connection_->stream.expires_after(deadline);
        run_until_done(connection_->ioc, [&](auto handler) {
          connection_->stream.async_connect(endpoints, handler);
        });
        connection_->open = true;
      }
      http::request<http::string_body> req{http::string_to_verb(method), target, 11};
      req.set(http::field::host, where_.host);
      req.keep_alive(true);
      if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
      if (!content_type.empty()) req.set(http::field::content_type, content_type);
      req.body() = body;
      req.prepare_payload();
      connection_->stream.expires_after(deadline);
      run_until_done(connection_->ioc,
                     [&](auto handler) { http::async_write(connection_->stream, req, handler); });
      sent = true;
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::size_t{1} << 31);
      run_until_done(connection_->ioc, [&](auto handler) {
        http::async_read(connection_->stream, buffer, parser, handler);
      });
      auto res = parser.release();
      if (!res.keep_alive()) connection_.reset();
      return {static_cast<int>(res.result_int()), std::move(res.body()),
              std::string(res[http::field::content_type])};
    } catch (const boost::system::system_error& e) {
      connection_.reset();
      // A closed keep-alive connection shows up as end of stream before any answer byte.
      const bool stale = reused && (!sent || e.code() == http::error::end_of_stream);
      if (!stale || attempt > 0) {
        throw Unreachable(
            fmt::format("coordinator {}: {} {}: {}", url_, method, target, e.code().message()));
      }
    }
  }
}

nlohmann::json CoordinatorClient::json_or_throw(const HttpAnswer& answer) {
  nlohmann::json doc;
  if (!answer.body.empty()) {
    doc = nlohmann::json::parse(answer.body, nullptr, false);
    if (doc.is_discarded()) {
      throw Unreachable(fmt::format("coordinator {}: answered {} with a body that is not JSON",
                                    url_, answer.status));
    }
  }
  if (answer.status >= 200 && answer.status < 300) return doc;
  // 503 (overloaded) and 500 (a database batch rolled back, nothing changed) say "try again":
  // callers retry them as they retry a coordinator they cannot reach.
  if (answer.status >= 500) {
    const std::string message = doc.is_object() && doc.contains("error") && doc["error"].is_object()
                                    ? doc["error"].value("message", "")
                                    : "";
    throw Unreachable(fmt::format("coordinator {}: HTTP {}: {}", url_, answer.status, message));
  }
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const nlohmann::json& e = doc["error"];
    throw ApiError(answer.status, e.value("message", "error " + std::to_string(answer.status)),
                   e.value("pointer", ""));
  }
  throw ApiError(answer.status, fmt::format("HTTP {}", answer.status), "");
}

nlohmann::json CoordinatorClient::get(const std::string& target) {
  return json_or_throw(exchange("GET", target, "", ""));
}

nlohmann::json CoordinatorClient::post(const std::string& target, const nlohmann::json& body,
                                       std::optional<std::chrono::milliseconds> timeout) {
  return json_or_throw(exchange("POST", target, body.dump(), "application/json", timeout));
}

std::string CoordinatorClient::get_text(const std::string& target) {
  HttpAnswer answer = exchange("GET", target, "", "");
  if (answer.status >= 200 && answer.status < 300) return std::move(answer.body);
  json_or_throw(answer);
  return {};
}

void CoordinatorClient::put_bytes(const std::string& target, std::span<const std::uint8_t> bytes) {
  json_or_throw(
      exchange("PUT", target, std::string(bytes.begin(), bytes.end()), "application/octet-stream"));
}

std::optional<std::vector<std::uint8_t>> CoordinatorClient::get_bytes(const std::string& target) {
  HttpAnswer answer = exchange("GET", target, "", "");
  if (answer.status == 404) return std::nullopt;
  if (answer.status != 200) json_or_throw(answer);
  return std::vector<std::uint8_t>(answer.body.begin(), answer.body.end());
}

}  // namespace lowbit::worker
