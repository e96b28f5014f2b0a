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
  const std::lock_guard lock(mutex_);
  if (queue_.size() >= max_queued_) return false;
  queue_.push_back({std::move(step), wait_s, may_free_jobs, std::move(reply)});
  if (!drain_posted_) {
    drain_posted_ = true;
    net::post(ioc_, [this] { drain(); });
  }
  return true;
}

void DbThread::drain() {
  std::vector<Item> items;
  {
    const std::lock_guard lock(mutex_);
    items.swap(queue_);
    drain_posted_ = false;
  }
  std::size_t next = 0;
  while (next < items.size()) {
    const std::size_t last = std::min(items.size(), next + kMaxBatch);
    bool began = false;
    // A batch that fails has answered the items it ran (500); the rest go into the next one.
    in_batch([&](Batch& batch) {
      began = true;
      while (next < last && !batch.failed) run_item(items[next++], batch);
    });
    if (!began) {  // not even BEGIN went through: the database is unusable right now
      for (; next < last; ++next) {
        items[next].reply(error_response(http::status::internal_server_error,
                                         "internal error: the database is unavailable"));
      }
    }
  }
}

void DbThread::in_batch(const std::function<void(Batch&)>& body) {
  Batch batch;
  Database& db = backend_.store.database();
  std::string error;
  try {
    db.exec("BEGIN IMMEDIATE");
    body(batch);
    if (!batch.failed) db.exec("COMMIT");
  } catch (const std::exception& e) {
    batch.failed = true;
    error = e.what();
  }
  if (batch.failed) {
    try {
      if (db.in_transaction()) db.exec("ROLLBACK");
    } catch (const std::exception& e) {
      spdlog::error("rolling back a failed batch: {}", e.what());
    }
    // The scheduler's caches may hold what the rollback undid.
    backend_.scheduler.reload();
    if (!error.empty()) spdlog::error("database batch failed: {}", error);
    for (auto& answer : batch.answers) {
      answer.second = error_response(http::status::internal_server_error,
                                     "internal error: the database failed; nothing was changed");
    }
  }
  for (auto& [reply, response] : batch.answers) reply(std::move(response));
}

// A step that throws (a database error: disk full, a corrupt file) fails its batch.
std::optional<Response> DbThread::run_guarded(const DbStep& step, Batch& batch) {
  try {
    return step(backend_);
  } catch (const std::exception& e) {
    spdlog::error("database step failed: {}", e.what());
    batch.failed = true;
    return error_response(http::status::internal_server_error,
                          fmt::format("internal error: {}", e.what()));
  }
}

void DbThread::run_item(Item& item, Batch& batch) {
  std::optional<Response> response = run_guarded(item.step, batch);
  if (response) {
    batch.answers.emplace_back(std::move(item.reply), std::move(*response));
  } else if (item.wait_s <= 0) {
    batch.answers.emplace_back(std::move(item.reply), empty_response(http::status::no_content));
  } else {
    auto waiter = std::make_shared<Waiter>(std::move(item.step), std::move(item.reply), ioc_);
    waiters_.push_back(waiter);
    waiter->deadline.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(item.wait_s)));
    waiter->deadline.async_wait([this, waiter](const boost::system::error_code& ec) {
      if (ec || waiter->answered) return;
      waiter->answered = true;
      waiters_.remove(waiter);
      waiter->reply(empty_response(http::status::no_content));
    });
  }
  if (item.may_free_jobs && !batch.failed) wake_waiters(batch);
}

void DbThread::wake_waiters(Batch& batch) {
  for (auto it = waiters_.begin(); it != waiters_.end() && !batch.failed;) {
    const std::shared_ptr<Waiter> waiter = *it;
    std::optional<Response> response = run_guarded(waiter->step, batch);
    if (!response) {
      ++it;
      continue;
    }
    waiter->answered = true;
    waiter->deadline.cancel();
    it = waiters_.erase(it);
    batch.answers.emplace_back(std::move(waiter->reply), std::move(*response));
  }
}

void DbThread::schedule_reap() {
  reap_timer_.expires_after(reap_interval_);
  reap_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    in_batch([this](Batch& batch) {
      if (backend_.scheduler.reap() > 0) wake_waiters(batch);
    });
    schedule_reap();
  });
}

}  // namespace lowbit::coordinator::http_api
