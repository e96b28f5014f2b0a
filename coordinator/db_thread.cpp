#include "coordinator/db_thread.h"

#include <spdlog/spdlog.h>

#include "coordinator/http_errors.h"

namespace lowbit::coordinator::http_api {

struct DbThread::Waiter {
  DbStep step;
  Reply reply;
  net::steady_timer deadline;
  bool answered = false;
  Waiter(DbStep s, Reply r, net::io_context& ioc)
      : step(std::move(s)), reply(std::move(r)), deadline(ioc) {}
};

DbThread::DbThread(Backend backend, std::size_t max_queued, std::chrono::milliseconds reap_interval)
    : backend_(backend),
      max_queued_(max_queued),
      reap_interval_(reap_interval),
      work_(net::make_work_guard(ioc_)),
      reap_timer_(ioc_) {}

DbThread::~DbThread() { stop(); }

void DbThread::start() {
  schedule_reap();
  thread_ = std::thread([this] { ioc_.run(); });
}

void DbThread::stop() {
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

bool DbThread::submit(DbStep step, double wait_s, bool may_free_jobs, Reply reply) {
  if (queued_.fetch_add(1) >= max_queued_) {
    --queued_;
    return false;
  }
  net::post(ioc_, [this, step = std::move(step), wait_s, may_free_jobs,
                   reply = std::move(reply)]() mutable {
    --queued_;
    run_step(std::move(step), wait_s, may_free_jobs, std::move(reply));
  });
  return true;
}

// A step that throws (a database error: disk full, a corrupt file) is a server error, answered
// 500; the scheduler's transaction has rolled back, so nothing is half-written.
static std::optional<Response> guarded(const DbStep& step, Backend& backend) {
  try {
    return step(backend);
  } catch (const std::exception& e) {
    spdlog::error("database step failed: {}", e.what());
    return error_response(http::status::internal_server_error,
                          fmt::format("internal error: {}", e.what()));
  }
}

void DbThread::run_step(DbStep step, double wait_s, bool may_free_jobs, Reply reply) {
  std::optional<Response> response = guarded(step, backend_);
  if (response) {
    reply(std::move(*response));
  } else if (wait_s <= 0) {
    reply(empty_response(http::status::no_content));
  } else {
    auto waiter = std::make_shared<Waiter>(std::move(step), std::move(reply), ioc_);
    waiters_.push_back(waiter);
    waiter->deadline.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(wait_s)));
    waiter->deadline.async_wait([this, waiter](const boost::system::error_code& ec) {
      if (ec || waiter->answered) return;
      waiter->answered = true;
      waiters_.remove(waiter);
      waiter->reply(empty_response(http::status::no_content));
    });
  }
  if (may_free_jobs) wake_waiters();
}

void DbThread::wake_waiters() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    const std::shared_ptr<Waiter> waiter = *it;
    std::optional<Response> response = guarded(waiter->step, backend_);
    if (!response) {
      ++it;
      continue;
    }
    waiter->answered = true;
    waiter->deadline.cancel();
    it = waiters_.erase(it);
    waiter->reply(std::move(*response));
  }
}

void DbThread::schedule_reap() {
  reap_timer_.expires_after(reap_interval_);
  reap_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    try {
      if (backend_.scheduler.reap() > 0) wake_waiters();
    } catch (const std::exception& e) {
      spdlog::error("reaping expired leases failed: {}", e.what());
    }
    schedule_reap();
  });
}

}  // namespace lowbit::coordinator::http_api
