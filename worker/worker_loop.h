#pragma once
// `lowbit worker`: register this host's fingerprint with the coordinator,
// then lease jobs that match it, run each (job_runner.h) while a second thread
// heartbeats the lease, and post one result or failure per job. A coordinator
// that is down is retried with backoff; a stop request ends the loop between
// jobs (the CLI's signal thread gives a running job's lease back first).

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "worker/job_runner.h"

namespace lowbit::worker {

struct WorkerOptions {
  std::string coordinator_url;
  std::string token;
  std::string name;  // empty: the coordinator names it
  WorkerSettings settings;
  double lease_wait_s = 10.0;  // long-poll bound of one lease request
  double backoff_min_s = 0.1;
  double backoff_max_s = 5.0;
  int max_jobs = 0;  // stop after this many jobs; 0: run until stopped
};

// What the loop is doing, for the CLI's signal thread: the lease a running job holds.
struct WorkerState {
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> worker_id{0};
  std::atomic<std::int64_t> current_lease{0};  // 0: idle
};

// Runs until state.stop is set or max_jobs are done; returns the number of jobs run. Throws
// ApiError when the coordinator refuses the worker itself (a missing or wrong token).
int run_worker(const WorkerOptions& options, WorkerState& state);

// Hands a running job's lease back so it is requeued at once, without counting as an error or
// an attempt. Best effort, one try: used on the way out.
void release_lease(const WorkerOptions& options, std::int64_t worker_id, std::int64_t lease_id);

}  // namespace lowbit::worker
