#pragma once
// All database work runs here, on one thread with its own event loop, never on the network
// threads: SQLite calls block, and the scheduler is single-threaded by design. The
// loop also owns the timers of the database side: long-polling lease requests waiting for a job,
// and the reaper that expires silent workers' leases so their jobs are requeued without waiting
// for the next lease request.
//
// Group commit: the steps waiting when the thread gets to them run in one transaction (each
// scheduler call inside it is a savepoint, so a refused call still undoes only itself), and
// their answers are sent only after that transaction commits. Under load this turns hundreds
// of commits, each with its WAL frames and file locks, into a few, without answering anything
// that is not yet in the file. Should the database fail inside a batch, the whole batch is
// rolled back and every request in it answered 500.
//
// The queue is bounded: past `max_queued` steps waiting to run, submit() refuses and the request
// is answered 503 at once instead of piling up memory and latency.

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

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
  // Finishes the batch running now and drops the rest; a batch is one transaction, so nothing
  // is left half-written.
  void stop();

  // False when the queue is full. A step answering nullopt is retried after every step that
  // may free jobs and after reaps, until `wait_s` passes; then the reply is 204 No Content.
  bool submit(DbStep step, double wait_s, bool may_free_jobs, Reply reply);

 private:
  struct Item {
    DbStep step;
    double wait_s = 0;
    bool may_free_jobs = false;
    Reply reply;
  };
  struct Waiter;
  // Answers held back until their batch has committed.
  struct Batch {
    std::vector<std::pair<Reply, Response>> answers;
    bool failed = false;
  };

  void drain();
  void in_batch(const std::function<void(Batch&)>& body);
  std::optional<Response> run_guarded(const DbStep& step, Batch& batch);
  void run_item(Item& item, Batch& batch);
  void wake_waiters(Batch& batch);
  void schedule_reap();

  static constexpr std::size_t kMaxBatch = 128;

  Backend backend_;
  std::size_t max_queued_;
  std::chrono::milliseconds reap_interval_;
  std::mutex mutex_;         // guards queue_ and drain_posted_
  std::vector<Item> queue_;  // submitted, not yet run
  bool drain_posted_ = false;
  net::io_context ioc_{1};
  net::executor_work_guard<net::io_context::executor_type> work_;
  net::steady_timer reap_timer_;
  std::list<std::shared_ptr<Waiter>> waiters_;  // oldest first: served in arrival order
  std::thread thread_;
};

}  // namespace lowbit::coordinator::http_api
