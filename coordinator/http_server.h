#pragma once
// The coordinator's HTTP/1.1 server on Boost.Beast, after Beast's advanced server: an acceptor,
// one session per connection on its own strand, a read timeout on every read, body limits
// decided from the headers before the body is read (413 also under `Expect: 100-continue`, so a
// client never sends what would be refused), one request in flight per connection and a bounded
// number of connections. What a request means is api_routes' pure function; database work goes
// to the DbThread; SIGINT/SIGTERM (with handle_signals) stop accepting and return from run().

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/api_routes.h"
#include "coordinator/auth.h"
#include "coordinator/db_thread.h"
#include "coordinator/http_types.h"
#include "coordinator/metrics.h"

namespace lowbit::coordinator::http_api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port; url() tells which
  int threads = 1;            // network threads; the database has its own
  ApiLimits limits;
  AuthPolicy auth;
  std::chrono::milliseconds read_timeout{30'000};  // a whole request, headers and body
  std::size_t max_connections = 1024;
  std::size_t max_db_queue = 4096;
  std::chrono::milliseconds reap_interval{1000};
  bool handle_signals = false;
};

class Server {
 public:
  // Binds and listens at once, so port() and url() are valid when the constructor returns.
  // Throws std::runtime_error naming the address when it cannot bind.
  Server(Backend backend, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const;

  // Serves until stop() or, with handle_signals, SIGINT/SIGTERM.
  void run();
  // run() on a thread of its own, for tests and embedding; stop() joins it.
  void start();
  void stop();

  Metrics& metrics() { return metrics_; }

 private:
  class Session;
  void accept();

  ServerOptions options_;
  Metrics metrics_;
  // Before ioc_: sessions destroyed with ioc_ still count themselves out here.
  std::atomic<std::size_t> connections_{0};
  net::io_context ioc_;
  // Declared after ioc_ so that it is destroyed first: its queued steps and waiting long-polls
  // hold sessions whose sockets belong to ioc_.
  DbThread db_;
  net::ip::tcp::acceptor acceptor_;
  net::signal_set signals_;
  std::uint16_t port_ = 0;
  std::thread runner_;
};

}  // namespace lowbit::coordinator::http_api
