#include "coordinator/http_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "coordinator/http_errors.h"

namespace lowbit::coordinator::http_api {

// One connection: read a request, answer it, repeat while keep-alive. One request at a time, so
// a connection holds at most one request and one response (the bounded queue per connection).
class Server::Session : public std::enable_shared_from_this<Server::Session> {
 public:
  Session(net::ip::tcp::socket socket, Server& server)
      : stream_(std::move(socket)), server_(server) {
    boost::system::error_code ec;
    const auto remote = stream_.socket().remote_endpoint(ec);
    loopback_ = !ec && remote.address().is_loopback();
    ++server_.connections_;
  }
  ~Session() { --server_.connections_; }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

 private:
  void read_header() {
    parser_.emplace();
    // The largest limit any route has; the route's own limit is applied once the header is in.
    parser_->body_limit(server_.options_.limits.artifact_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(server_.options_.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail(ec);
    const Request& head = parser_->get();
    const std::size_t limit = body_limit(head, server_.options_.limits);
    const auto length = parser_->content_length();
    if (length && *length > limit) {
      // Refused from the header alone: the body is never read, so the connection must close.
      return reject_too_large(head, limit);
    }
    parser_->body_limit(limit);  // chunked bodies: enforced while reading
    if (head[http::field::expect] == "100-continue") {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
                          if (wec) return self->fail(wec);
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void reject_too_large(const Request& head, std::size_t limit) {
    started_ = std::chrono::steady_clock::now();
    route_ = route_of(head);
    Response response =
        error_response(http::status::payload_too_large,
                       fmt::format("the body is over this route's limit of {} bytes", limit));
    response.keep_alive(false);
    write(std::move(response));
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return reject_too_large(parser_->get(), body_limit(parser_->get(), server_.options_.limits));
    }
    if (ec) return fail(ec);
    started_ = std::chrono::steady_clock::now();
    request_ = parser_->release();
    stream_.expires_never();  // a long-poll may take its time; the answer comes from us

    const RequestContext context{server_.options_.auth, server_.options_.limits, server_.metrics_,
                                 loopback_};
    Plan plan = plan_request(request_, context);
    route_ = plan.route;
    if (plan.answer) return write(std::move(*plan.answer));

    auto self = shared_from_this();
    const bool queued = server_.db_.submit(
        std::move(plan.step), plan.wait_s, plan.may_free_jobs, [self](Response response) {
          net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
            self->write(std::move(response));
          });
        });
    if (!queued) {
      write(error_response(http::status::service_unavailable,
                           "the coordinator is overloaded: retry later"));
    }
  }

  void write(Response response) {
    response.version(11);
    response.set(http::field::server, "lowbit");
    if (!request_.keep_alive()) response.keep_alive(false);
    response.prepare_payload();
    status_ = response.result_int();
    close_after_ = !response.keep_alive();
    response_ = std::make_shared<Response>(std::move(response));
    stream_.expires_after(server_.options_.read_timeout);
    http::async_write(
        stream_, *response_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    server_.metrics_.observe(route_, static_cast<int>(status_), seconds);
    response_.reset();
    if (ec) return fail(ec);
    if (close_after_) return linger();
    request_ = {};
    read_header();
  }

  // After answering without reading the whole request (a 413), closing at once would make the
  // kernel reset the connection over the unread bytes, and the client could lose the answer. So
  // half-close, then read and discard for a bounded time and size, as servers' lingering close.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    if (lingered_ == 0) stream_.expires_after(std::chrono::seconds(2));
    if (lingered_ > kLingerBytes) return;
    drain_.resize(64 * 1024);
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return;
                              self->lingered_ += n;
                              self->linger();
                            });
  }

  void fail(beast::error_code ec) {
    // A client that went away or timed out is ordinary; only log what is not.
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::eof) {
      beast::error_code ignored;
      stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
      return;
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      // An unparsable request: answer 400 once, then close.
      route_ = "unparsable";
      started_ = std::chrono::steady_clock::now();
      Response response = error_response(http::status::bad_request,
                                         fmt::format("malformed HTTP request: {}", ec.message()));
      response.keep_alive(false);
      request_ = {};
      request_.keep_alive(false);
      return write(std::move(response));
    }
    spdlog::debug("connection: {}", ec.message());
  }

  beast::tcp_stream stream_;
  Server& server_;
  bool loopback_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request request_;
  std::shared_ptr<Response> response_;
  std::string route_;
  unsigned status_ = 0;
  bool close_after_ = false;
  static constexpr std::size_t kLingerBytes = 8u << 20;
  std::size_t lingered_ = 0;
  std::vector<char> drain_;
  std::chrono::steady_clock::time_point started_;
};

Server::Server(Backend backend, ServerOptions options)
    : options_(std::move(options)),
      ioc_(std::max(1, options_.threads)),
      db_(backend, options_.max_db_queue, options_.reap_interval),
      acceptor_(ioc_),
      signals_(ioc_) {
  boost::system::error_code ec;
  const auto address = net::ip::make_address(options_.host, ec);
  if (ec)
    throw std::runtime_error(fmt::format("--listen: \"{}\" is not an IP address", options_.host));
  const net::ip::tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("--listen: cannot listen on {}:{}: {}", options_.host,
                                         options_.port, ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
}

Server::~Server() { stop(); }

std::string Server::url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", options_.host, v6 ? "]" : "", port_);
}

void Server::accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [this](beast::error_code ec, net::ip::tcp::socket socket) {
                           if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
                           if (!ec) {
                             if (connections_.load() >= options_.max_connections) {
                               // Over the bound: refuse by closing rather than queueing without
                               // limit.
                               beast::error_code ignored;
                               socket.close(ignored);
                             } else {
                               std::make_shared<Session>(std::move(socket), *this)->start();
                             }
                           }
                           accept();
                         });
}

void Server::run() {
  if (options_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("signal {}: stopping", signal);
      beast::error_code ignored;
      acceptor_.close(ignored);
      ioc_.stop();
    });
  }
  db_.start();
  accept();
  std::vector<std::thread> extra;
  for (int i = 1; i < options_.threads; ++i) extra.emplace_back([this] { ioc_.run(); });
  ioc_.run();
  for (std::thread& t : extra) t.join();
  db_.stop();
}

void Server::start() {
  runner_ = std::thread([this] { run(); });
}

void Server::stop() {
  ioc_.stop();
  if (runner_.joinable()) runner_.join();
  db_.stop();
}

}  // namespace lowbit::coordinator::http_api
