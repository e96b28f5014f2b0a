#pragma once
// All database work runs here, on one thread with its own event loop, never on the network
// threads (DESIGN.md): SQLite calls block, and the scheduler is single-threaded by design. The
// loop also owns the timers of the database side: long-polling lease requests waiting for a job,
// and the reaper that expires silent workers' leases so their jobs are requeued without waiting
// for the next lease request.
//
// The queue is bounded: past `max_queued` steps waiting to run, submit() refuses and the request
// is answered 503 at once instead of piling up memory and latency.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <thread>

#include "coordinator/api_routes.h"
#include "coordinator/http_types.h"

namespace lowbit::coordinator::http_api {

class DbThread {
 public:
  using Reply = std::function<void(Response)>;  // called on the database thread

  DbThread(Backend backend, std::size_t max_queued, std::chrono::milliseconds reap_interval);
  ~DbThread();
  DbThread(const DbThread&) = delete;
  DbThread& operator=(const DbThread&) = delete;

  void start();
  // Finishes the step running now and drops the rest; every step is one transaction, so
  // nothing is left half-written.
  void stop();

  // False when the queue is full. A step answering nullopt is retried after every step that
  // may free jobs and after reaps, until `wait_s` passes; then the reply is 204 No Content.
  bool submit(DbStep step, double wait_s, bool may_free_jobs, Reply reply);

 private:
  struct Waiter;
  void run_step(DbStep step, double wait_s, bool may_free_jobs, Reply reply);
  void wake_waiters();
  void schedule_reap();

  Backend backend_;
  std::size_t max_queued_;
  std::chrono::milliseconds reap_interval_;
  std::atomic<std::size_t> queued_{0};
  net::io_context ioc_{1};
  net::executor_work_guard<net::io_context::executor_type> work_;
  net::steady_timer reap_timer_;
  std::list<std::shared_ptr<Waiter>> waiters_;  // oldest first: served in arrival order
  std::thread thread_;
};

}  // namespace lowbit::coordinator::http_api
