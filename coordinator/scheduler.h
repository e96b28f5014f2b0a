#pragma once
// Who runs what, and when a job is over (docs/coordinator.md "Leases"). Plain library
// code on top of Store: the HTTP layer calls it from its database thread, one call per request.
//
// Job states: a sweep's prepare job starts `queued` and its variants `blocked`; when the prepare
// job is done they become `queued` (when it fails, they fail with it). A worker leases a queued
// job whose target constraint its fingerprint satisfies (`leased`), heartbeats to keep the lease,
// and ends it with a result (`done`) or an error report. A lease not renewed within the TTL, or
// past the job timeout, expires: the job goes back to `queued` on its next attempt. A job fails
// after max_attempts, or at once when workers reported an error for it on two different workers
// (poison): a worker that died or went silent is not a report, so it never makes a job poison.
// Cancelling a sweep cancels its unfinished jobs; their leases then answer conflict.
//
// Every call runs in one transaction, and all state is in the store: a new Scheduler on the same
// file continues where the last one stopped (leases that expired meanwhile are requeued by the
// first call that looks). One Scheduler per file at a time: it caches the small workers and
// targets tables, which only it writes. Not thread-safe: call it from one thread.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/clock.h"
#include "coordinator/outcome.h"
#include "coordinator/store.h"
#include "protocol/sweep_expand.h"
#include "protocol/target.h"
#include "protocol/target_constraint.h"

namespace lowbit::coordinator {

struct SchedulerOptions {
  TimeMs lease_ttl_ms = 30'000;       // --lease-ttl
  int max_attempts = 3;               // --max-attempts
  TimeMs job_timeout_ms = 3'600'000;  // --job-timeout
  std::int64_t max_grid_points = protocol::kDefaultMaxGridPoints;
};

// The answer to POST /sweeps: `{id, jobs, skipped}`.
struct SubmitReceipt {
  SweepId id = 0;
  std::int64_t jobs = 0;  // variant jobs created
  std::vector<protocol::SkippedPoint> skipped;
};

// A job handed to a worker; to_json gives the document of schemas/job.schema.json.
struct LeaseGrant {
  LeaseId lease_id = 0;
  JobId job_id = 0;
  SweepId sweep_id = 0;
  protocol::JobKind kind = protocol::JobKind::kVariant;
  int attempt = 1;
  nlohmann::json config;
  std::string config_hash;
  nlohmann::json target;       // "any" or the constraint
  nlohmann::json measurement;  // batches, repetitions, min_time_ms, warmup_ms
  std::optional<JobId> prepare_job_id;
  // A variant's prepare job's result (protocol/prepare_result.h): the models to start from.
  // A variant is leased only once its prepare job is done, so it is always there for one.
  std::optional<nlohmann::json> prepared;
  TimeMs ttl_ms = 0;      // until the lease expires without a heartbeat
  TimeMs timeout_ms = 0;  // until the job's wall-clock limit
};

struct HeartbeatAck {
  TimeMs ttl_ms = 0;      // the renewed lease's time left
  TimeMs timeout_ms = 0;  // time left before the job timeout
};

struct ResultAck {
  bool duplicate = false;  // the same result was already accepted for this lease
};

struct Empty {};

struct FailedJob {
  JobId id = 0;
  std::string error;
};

// GET /sweeps/{id}.
struct SweepStatus {
  SweepId id = 0;
  std::string name;
  TimeMs created_ms = 0;
  bool cancelled = false;
  // Every job state (docs/coordinator.md "Job states"), zeros included; `skipped` counts skipped
  // grid points.
  std::map<std::string, std::int64_t> counts;
  std::int64_t jobs = 0;         // variant jobs (prepare excluded)
  std::int64_t grid_points = 0;  // jobs + skipped
  double progress = 0.0;         // finished variant jobs / jobs (1 when there are none)
  bool finished = false;         // nothing queued, blocked or leased, prepare included
  std::string prepare_state;     // "" for a sweep without a prepare job
  std::string prepare_error;
  // Why waiting jobs cannot start: targets no registered worker satisfies.
  std::vector<std::string> waiting;
  std::vector<FailedJob> failures;  // the first few failed jobs and why
  nlohmann::json tags;
};

class Scheduler {
 public:
  Scheduler(Store& store, SchedulerOptions options = {}, Clock clock = system_clock());

  // Validates (schema, then semantics), expands and persists in one transaction. kInvalid with
  // the pointer of the first error; nothing is written then.
  Outcome<SubmitReceipt> submit(const nlohmann::json& sweep_document);

  // A fingerprint the worker.schema.json validation has accepted. Without a name the coordinator
  // picks "worker-<n>"; a known name updates that worker's fingerprint.
  Outcome<WorkerId> register_worker(const std::optional<std::string>& name,
                                    const protocol::Target& fingerprint);

  // The next job this worker can run, round-robin across sweeps; nullopt when there is none.
  Outcome<std::optional<LeaseGrant>> lease(WorkerId worker);
  Outcome<HeartbeatAck> heartbeat(LeaseId lease, WorkerId worker);
  // Accepted only for the worker's current, unexpired lease; the same document again is ok
  // (duplicate); anything else is a conflict that changes nothing.
  Outcome<ResultAck> submit_result(LeaseId lease, WorkerId worker, const nlohmann::json& result);
  // The worker could not run the job: counts toward poison and toward max_attempts.
  // The worker gives its lease back (it is stopping): the job is queued again at once, on the
  // same attempt — being stopped says nothing about the job. The lease ends as expired, so a
  // late result from it is refused like any expired lease's.
  Outcome<Empty> release(LeaseId lease, WorkerId worker);
  Outcome<Empty> report_failure(LeaseId lease, WorkerId worker, const std::string& error);

  Outcome<Empty> cancel(SweepId sweep);
  Outcome<SweepStatus> status(SweepId sweep);
  std::vector<SweepStatus> list();
  Outcome<std::vector<nlohmann::json>> results(SweepId sweep);
  Outcome<std::vector<protocol::SkippedPoint>> skipped(SweepId sweep);

  // Content-addressed: kInvalid unless `hash` is the xxh3-128 of `bytes` (32 hex digits).
  Outcome<bool> put_artifact(const std::string& hash, const std::vector<std::uint8_t>& bytes);
  std::optional<std::vector<std::uint8_t>> artifact(const std::string& hash);

  // Expires every overdue lease now (the lease call does it too); returns how many. The HTTP
  // layer may call it on a timer so a silent worker's job is requeued without waiting for the
  // next lease request.
  int reap();

  // Rereads the cached tables from the store: after a transaction around several calls was
  // rolled back (the HTTP database thread's batch), the caches may hold what was undone.
  void reload();

  const SchedulerOptions& options() const { return options_; }

 private:
  struct KnownWorker {
    std::string name;
    protocol::Target fingerprint;
  };

  Outcome<LeaseRow> current_lease(LeaseId lease, WorkerId worker, TimeMs now);
  int reap_locked(TimeMs now);
  void expire(const LeaseRow& lease, TimeMs now);
  void end_attempt(JobRow& job, TimeMs now);
  void fail_job(JobRow& job, const std::string& error, TimeMs now);
  std::vector<TargetId> targets_for(const protocol::Target& fingerprint) const;
  std::string worker_name(WorkerId worker) const;
  const nlohmann::json& measurement_of(SweepId sweep);
  SweepStatus build_status(const SweepRow& sweep);
  std::vector<std::string> waiting_reasons(SweepId sweep);
  void load_targets();
  void load_workers();

  Store& store_;
  SchedulerOptions options_;
  Clock clock_;
  // Caches of small tables that only this scheduler writes, so a lease does not reparse them.
  std::map<TargetId, protocol::TargetConstraint> targets_;
  std::map<WorkerId, KnownWorker> workers_;
  std::map<SweepId, nlohmann::json> measurements_;
  SweepId last_served_sweep_ = 0;  // round-robin cursor
};

void to_json(nlohmann::json& j, const SubmitReceipt& receipt);
void to_json(nlohmann::json& j, const LeaseGrant& grant);
void to_json(nlohmann::json& j, const SweepStatus& status);

}  // namespace lowbit::coordinator
