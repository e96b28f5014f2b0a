#pragma once
// The coordinator's state in one SQLite file (docs/coordinator.md has the tables): sweeps, jobs
// and the grid points they skip, workers, leases, results and artifacts. The store is SQL and
// nothing else — no policy: which job a worker gets and what an expired lease means are the
// scheduler's (scheduler.h). Every statement is prepared once and bound; a whole sweep is
// written in one transaction, so a sweep is either all there or not at all.
//
// Not thread-safe: one Store (one connection) per thread. The coordinator gives it its own
// database thread so no network thread ever waits on the disk.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/clock.h"
#include "coordinator/sqlite.h"
#include "protocol/sweep_expand.h"
#include "protocol/target_constraint.h"

namespace lowbit::coordinator {

using SweepId = std::int64_t;
using JobId = std::int64_t;
using LeaseId = std::int64_t;
using WorkerId = std::int64_t;
using TargetId = std::int64_t;

// The job states of docs/coordinator.md "Job states". `skipped` is not among them here: a skipped
// grid point makes no job (it is a row of `skipped`), yet sweep counts list it beside these.
enum class JobState { kQueued, kBlocked, kLeased, kDone, kFailed, kCancelled };
std::string to_string(JobState state);
JobState parse_job_state(const std::string& text);

enum class LeaseState { kActive, kCompleted, kFailed, kExpired, kCancelled };
std::string to_string(LeaseState state);
LeaseState parse_lease_state(const std::string& text);

struct StoreOptions {
  bool durable = false;  // synchronous=FULL: survive a power cut, at an fsync per commit
  int busy_timeout_ms = 5000;
};

struct SweepRow {
  SweepId id = 0;
  std::string name;
  std::string document;     // as submitted
  std::string measurement;  // JSON
  std::string tags;         // JSON
  std::int64_t grid_points = 0;
  TimeMs created_ms = 0;
  std::optional<TimeMs> cancelled_ms;
};

struct JobRow {
  JobId id = 0;
  SweepId sweep_id = 0;
  protocol::JobKind kind = protocol::JobKind::kVariant;
  JobState state = JobState::kQueued;
  std::optional<JobId> prepare_job_id;
  TargetId target_id = 0;
  std::string config;  // JSON
  std::string config_hash;
  int attempt = 1;
  std::string last_error;
  std::vector<WorkerId> error_workers;  // distinct workers that reported an error
};

struct LeaseRow {
  LeaseId id = 0;
  JobId job_id = 0;
  WorkerId worker_id = 0;
  LeaseState state = LeaseState::kActive;
  TimeMs issued_ms = 0;
  TimeMs deadline_ms = 0;
  TimeMs timeout_ms = 0;
};

struct WorkerRow {
  WorkerId id = 0;
  std::string name;
  std::string fingerprint;  // JSON: a protocol::Target
  TimeMs registered_ms = 0;
  TimeMs last_seen_ms = 0;
};

struct SkippedRow {
  std::string config;  // JSON
  std::string target;  // JSON constraint
  std::string reason;
};

// What insert_sweep() writes.
struct NewSweep {
  std::string name;
  std::string document;
  std::string measurement;
  std::string tags;
  const protocol::Expansion* expansion = nullptr;
};

struct InsertedSweep {
  SweepId id = 0;
  std::int64_t jobs = 0;  // variant jobs; the prepare job is not counted
};

class Store {
 public:
  // Opens or creates the file and brings its schema up to date (migrations.h).
  explicit Store(const std::string& path, const StoreOptions& options = {});

  Database& database() { return db_; }
  int schema_version();

  // --- sweeps (store.cpp) ---
  // One transaction: the sweep, its targets, its prepare job, its variants (blocked on the
  // prepare job, or queued when there is none) and its skipped points.
  InsertedSweep insert_sweep(const NewSweep& sweep, TimeMs now);
  std::optional<SweepRow> sweep(SweepId id);
  std::vector<SweepRow> sweeps();
  // The latest sweep before `before` with this name and tags.branch ("" matches an untagged
  // sweep) that is finished (no job queued, blocked or leased) and not cancelled: a regression
  // baseline.
  std::optional<SweepRow> latest_finished_sweep(const std::string& name, const std::string& branch,
                                                SweepId before);
  void mark_sweep_cancelled(SweepId id, TimeMs now);
  std::vector<SkippedRow> skipped(SweepId id);
  std::int64_t skipped_count(SweepId id);
  std::vector<std::pair<TargetId, protocol::TargetConstraint>> targets();

  // --- workers (store.cpp) ---
  // Inserts, or updates the fingerprint of the worker with this name.
  WorkerId upsert_worker(const std::string& name, const std::string& fingerprint, TimeMs now);
  std::optional<WorkerRow> worker(WorkerId id);
  std::vector<WorkerRow> workers();
  void touch_worker(WorkerId id, TimeMs now);
  std::int64_t next_worker_number();

  // --- artifacts (store.cpp) ---
  // False when the hash was already stored (the bytes are then the same by construction).
  bool put_artifact(const std::string& hash, const std::vector<std::uint8_t>& bytes, TimeMs now);
  std::optional<std::vector<std::uint8_t>> artifact(const std::string& hash);

  // --- jobs (store_jobs.cpp) ---
  std::optional<JobRow> job(JobId id);
  // The first queued job of `target` in a sweep with id > after_sweep, by (sweep, job id).
  std::optional<std::pair<SweepId, JobId>> first_queued(TargetId target, SweepId after_sweep);
  // Writes state, attempt, last_error and error_workers.
  void update_job(const JobRow& job, TimeMs now);
  std::int64_t release_dependents(JobId prepare, TimeMs now);  // blocked -> queued
  std::int64_t fail_dependents(JobId prepare, const std::string& error, TimeMs now);
  // Cancels every unfinished job of the sweep and its active leases.
  std::int64_t cancel_jobs(SweepId sweep, TimeMs now);
  // Variant jobs by state (states with no job are absent).
  std::map<JobState, std::int64_t> variant_counts(SweepId sweep);
  // Over the whole store, prepare jobs included: what /metrics reports.
  std::map<JobState, std::int64_t> job_counts();
  std::int64_t active_lease_count();
  std::optional<JobRow> prepare_job(SweepId sweep);
  // Jobs still waiting for a worker (queued or blocked), per target.
  std::vector<std::pair<TargetId, std::int64_t>> waiting_by_target(SweepId sweep);
  // The first few failed variant jobs, for the sweep status (the prepare job is reported apart).
  std::vector<JobRow> failed_jobs(SweepId sweep, int limit);

  // --- leases (store_jobs.cpp) ---
  LeaseId insert_lease(const LeaseRow& lease);
  std::optional<LeaseRow> lease(LeaseId id);
  void set_lease_state(LeaseId id, LeaseState state);
  void renew_lease(LeaseId id, TimeMs deadline);
  std::vector<LeaseRow> overdue_leases(TimeMs now);  // active with deadline ≤ now

  // --- results (store_jobs.cpp) ---
  void insert_result(JobId job, LeaseId lease, const std::string& config_hash,
                     const std::string& document, TimeMs now);
  std::optional<std::string> result_of_lease(LeaseId lease);
  std::optional<std::string> result_of_job(JobId job);
  // Documents of the sweep's done variant jobs, by job id.
  std::vector<std::string> results(SweepId sweep);

 private:
  TargetId target_id(const protocol::TargetConstraint& constraint);

  Database db_;
};

}  // namespace lowbit::coordinator
