#pragma once
// The coordinator's HTTP API as a worker and the remote CLI call it: JSON in,
// JSON out, the token as `Authorization: Bearer`, one keep-alive connection,
// a deadline on every exchange. A 4xx answer is an ApiError carrying the
// coordinator's error shape; a coordinator that cannot be reached, does not
// answer in time, or answers 5xx (overloaded, nothing changed) is Unreachable,
// which callers retry with backoff.

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace lowbit::worker {

// The coordinator answered with an error: {"error": {status, message, pointer}}.
struct ApiError : std::runtime_error {
  ApiError(int http_status, const std::string& message, std::string json_pointer)
      : std::runtime_error(message), status(http_status), pointer(std::move(json_pointer)) {}
  int status;
  std::string pointer;
};

// No answer: refused, reset, timed out, or not HTTP.
struct Unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string content_type;
};

// "http://HOST:PORT" (a trailing slash is fine). Throws std::invalid_argument otherwise.
struct CoordinatorUrl {
  std::string host;
  std::uint16_t port = 0;
};
CoordinatorUrl parse_coordinator_url(const std::string& url);

// $LOWBIT_COORDINATOR, else http://127.0.0.1:8080.
std::string default_coordinator_url();

// The token in a worker's or the CLI's --token-file: its first non-empty line, trimmed. Throws
// std::invalid_argument naming the file when it cannot be read or holds no token.
std::string read_token_file(const std::string& path);

class CoordinatorClient {
 public:
  CoordinatorClient(const std::string& url, std::string token,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~CoordinatorClient();
  CoordinatorClient(const CoordinatorClient&) = delete;
  CoordinatorClient& operator=(const CoordinatorClient&) = delete;

  // Any status comes back; only a failed exchange throws (Unreachable). `timeout` overrides the
  // client's for this exchange (a long-poll waits longer than a plain call).
  HttpAnswer exchange(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& content_type,
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // 2xx: the JSON body (null for 204). Otherwise ApiError.
  nlohmann::json get(const std::string& target);
  nlohmann::json post(const std::string& target, const nlohmann::json& body,
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  std::string get_text(const std::string& target);  // e.g. CSV

  void put_bytes(const std::string& target, std::span<const std::uint8_t> bytes);
  std::optional<std::vector<std::uint8_t>> get_bytes(const std::string& target);  // nothing on 404

  const std::string& url() const { return url_; }

 private:
  struct Connection;
  nlohmann::json json_or_throw(const HttpAnswer& answer);

  std::string url_;
  CoordinatorUrl where_;
  std::string token_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace lowbit::worker
