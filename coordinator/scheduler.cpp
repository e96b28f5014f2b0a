#include "coordinator/scheduler.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

#include "coordinator/artifact_hash.h"
#include "protocol/sweep.h"

namespace lowbit::coordinator {

namespace {

template <typename T, typename U>
Outcome<T> pass_on(const Outcome<U>& failed) {
  return Outcome<T>::failure(failed.code, failed.message, failed.pointer);
}

std::string seconds_text(TimeMs ms) {
  return fmt::format("{:g} s", static_cast<double>(ms) / 1000.0);
}

}  // namespace

Scheduler::Scheduler(Store& store, SchedulerOptions options, Clock clock)
    : store_(store), options_(options), clock_(std::move(clock)) {
  load_targets();
  load_workers();
}

void Scheduler::reload() {
  load_targets();
  load_workers();
  measurements_.clear();
}

void Scheduler::load_targets() {
  targets_.clear();
  for (auto& [id, constraint] : store_.targets()) targets_.emplace(id, std::move(constraint));
}

void Scheduler::load_workers() {
  workers_.clear();
  for (const WorkerRow& row : store_.workers()) {
    workers_[row.id] = {row.name, nlohmann::json::parse(row.fingerprint).get<protocol::Target>()};
  }
}

Outcome<SubmitReceipt> Scheduler::submit(const nlohmann::json& sweep_document) {
  const protocol::SweepParse parse = protocol::parse_sweep(sweep_document);
  if (!parse.errors.empty()) {
    const protocol::SchemaError& first = parse.errors.front();
    std::string message = first.to_string();
    if (parse.errors.size() > 1) message += fmt::format(" (and {} more)", parse.errors.size() - 1);
    return Outcome<SubmitReceipt>::failure(Code::kInvalid, std::move(message), first.pointer);
  }
  const protocol::Sweep& sweep = *parse.sweep;
  protocol::ExpansionOutcome expanded =
      protocol::expand_sweep(sweep, {.max_grid_points = options_.max_grid_points});
  if (expanded.error) {
    return Outcome<SubmitReceipt>::failure(Code::kInvalid, expanded.error->to_string(),
                                           expanded.error->pointer);
  }
  protocol::Expansion& expansion = *expanded.expansion;
  const NewSweep row{sweep.name, sweep_document.dump(), nlohmann::json(sweep.measurement).dump(),
                     nlohmann::json(sweep.tags).dump(), &expansion};
  const InsertedSweep inserted = store_.insert_sweep(row, clock_());
  load_targets();
  return Outcome<SubmitReceipt>::success(
      {inserted.id, inserted.jobs, std::move(expansion.skipped)});
}

Outcome<WorkerId> Scheduler::register_worker(const std::optional<std::string>& name,
                                             const protocol::Target& fingerprint) {
  const TimeMs now = clock_();
  Transaction tx(store_.database());
  const std::string chosen = name.value_or(fmt::format("worker-{}", store_.next_worker_number()));
  const WorkerId id = store_.upsert_worker(chosen, nlohmann::json(fingerprint).dump(), now);
  tx.commit();
  workers_[id] = {chosen, fingerprint};
  return Outcome<WorkerId>::success(id);
}

std::vector<TargetId> Scheduler::targets_for(const protocol::Target& fingerprint) const {
  std::vector<TargetId> ids;
  for (const auto& [id, constraint] : targets_) {
    if (constraint.satisfied_by(fingerprint)) ids.push_back(id);
  }
  return ids;
}

std::string Scheduler::worker_name(WorkerId worker) const {
  const auto it = workers_.find(worker);
  return it == workers_.end() ? fmt::format("#{}", worker) : it->second.name;
}

const nlohmann::json& Scheduler::measurement_of(SweepId sweep) {
  auto it = measurements_.find(sweep);
  if (it == measurements_.end()) {
    it =
        measurements_.emplace(sweep, nlohmann::json::parse(store_.sweep(sweep)->measurement)).first;
  }
  return it->second;
}

Outcome<std::optional<LeaseGrant>> Scheduler::lease(WorkerId worker) {
  using Result = Outcome<std::optional<LeaseGrant>>;
  const auto known = workers_.find(worker);
  if (known == workers_.end()) {
    return Result::failure(Code::kNotFound,
                           fmt::format("unknown worker {}: register first", worker));
  }
  const TimeMs now = clock_();
  Transaction tx(store_.database());
  reap_locked(now);
  store_.touch_worker(worker, now);

  // Round-robin: the first sweep after the one served last that has a job for this worker,
  // wrapping around to the lowest.
  const std::vector<TargetId> targets = targets_for(known->second.fingerprint);
  std::optional<std::pair<SweepId, JobId>> next;
  for (const SweepId after : {last_served_sweep_, SweepId{0}}) {
    for (const TargetId target : targets) {
      const auto candidate = store_.first_queued(target, after);
      if (candidate && (!next || *candidate < *next)) next = candidate;
    }
    if (next) break;
  }
  if (!next) {
    tx.commit();
    return Result::success(std::nullopt);
  }

  JobRow job = *store_.job(next->second);
  LeaseRow lease;
  lease.job_id = job.id;
  lease.worker_id = worker;
  lease.issued_ms = now;
  lease.timeout_ms = now + options_.job_timeout_ms;
  lease.deadline_ms = std::min(now + options_.lease_ttl_ms, lease.timeout_ms);
  lease.id = store_.insert_lease(lease);
  job.state = JobState::kLeased;
  store_.update_job(job, now);

  LeaseGrant grant;
  grant.lease_id = lease.id;
  grant.job_id = job.id;
  grant.sweep_id = job.sweep_id;
  grant.kind = job.kind;
  grant.attempt = job.attempt;
  grant.config = nlohmann::json::parse(job.config);
  grant.config_hash = job.config_hash;
  grant.target = targets_.at(job.target_id);
  grant.measurement = measurement_of(job.sweep_id);
  grant.prepare_job_id = job.prepare_job_id;
  if (job.prepare_job_id) {
    if (auto prepared = store_.result_of_job(*job.prepare_job_id)) {
      grant.prepared = nlohmann::json::parse(*prepared);
    }
  }
  grant.ttl_ms = lease.deadline_ms - now;
  grant.timeout_ms = lease.timeout_ms - now;
  tx.commit();
  last_served_sweep_ = job.sweep_id;
  return Result::success(std::move(grant));
}

Outcome<LeaseRow> Scheduler::current_lease(LeaseId lease_id, WorkerId worker, TimeMs now) {
  using Result = Outcome<LeaseRow>;
  const std::optional<LeaseRow> lease = store_.lease(lease_id);
  if (!lease) return Result::failure(Code::kNotFound, fmt::format("unknown lease {}", lease_id));
  if (lease->worker_id != worker) {
    return Result::failure(Code::kConflict,
                           fmt::format("lease {} belongs to another worker", lease_id));
  }
  switch (lease->state) {
    case LeaseState::kActive:
      break;
    case LeaseState::kCompleted:
      return Result::failure(Code::kConflict,
                             fmt::format("lease {} already delivered its result", lease_id));
    case LeaseState::kFailed:
      return Result::failure(Code::kConflict,
                             fmt::format("lease {} already reported a failure", lease_id));
    case LeaseState::kExpired:
      return Result::failure(
          Code::kConflict,
          fmt::format("lease {} expired; its job went back to the queue", lease_id));
    case LeaseState::kCancelled:
      return Result::failure(Code::kConflict,
                             fmt::format("lease {} was cancelled with its sweep", lease_id));
  }
  if (lease->deadline_ms <= now) {
    expire(*lease, now);
    return Result::failure(
        Code::kConflict, fmt::format("lease {} expired; its job went back to the queue", lease_id));
  }
  return Result::success(*lease);
}

Outcome<HeartbeatAck> Scheduler::heartbeat(LeaseId lease_id, WorkerId worker) {
  const TimeMs now = clock_();
  Transaction tx(store_.database());
  const Outcome<LeaseRow> lease = current_lease(lease_id, worker, now);
  if (!lease.ok()) {
    tx.commit();  // an expiry found on the way is kept
    return pass_on<HeartbeatAck>(lease);
  }
  const TimeMs deadline = std::min(now + options_.lease_ttl_ms, lease.value.timeout_ms);
  store_.renew_lease(lease_id, deadline);
  store_.touch_worker(worker, now);
  tx.commit();
  return Outcome<HeartbeatAck>::success({deadline - now, lease.value.timeout_ms - now});
}

Outcome<ResultAck> Scheduler::submit_result(LeaseId lease_id, WorkerId worker,
                                            const nlohmann::json& result) {
  const TimeMs now = clock_();
  const std::string document = result.dump();
  Transaction tx(store_.database());
  const std::optional<LeaseRow> row = store_.lease(lease_id);
  if (row && row->worker_id == worker && row->state == LeaseState::kCompleted) {
    // A retry of a POST whose answer got lost: the same bytes are fine, other bytes are not.
    if (store_.result_of_lease(lease_id) == document) return Outcome<ResultAck>::success({true});
    return Outcome<ResultAck>::failure(
        Code::kConflict, fmt::format("lease {} already delivered a different result", lease_id));
  }
  const Outcome<LeaseRow> lease = current_lease(lease_id, worker, now);
  if (!lease.ok()) {
    tx.commit();
    return pass_on<ResultAck>(lease);
  }
  JobRow job = *store_.job(lease.value.job_id);
  store_.insert_result(job.id, lease_id, job.config_hash, document, now);
  store_.set_lease_state(lease_id, LeaseState::kCompleted);
  job.state = JobState::kDone;
  store_.update_job(job, now);
  if (job.kind == protocol::JobKind::kPrepare) store_.release_dependents(job.id, now);
  store_.touch_worker(worker, now);
  tx.commit();
  return Outcome<ResultAck>::success({false});
}

Outcome<Empty> Scheduler::release(LeaseId lease_id, WorkerId worker) {
  const TimeMs now = clock_();
  Transaction tx(store_.database());
  const Outcome<LeaseRow> lease = current_lease(lease_id, worker, now);
  if (!lease.ok()) {
    tx.commit();
    return pass_on<Empty>(lease);
  }
  store_.set_lease_state(lease_id, LeaseState::kExpired);
  JobRow job = *store_.job(lease.value.job_id);
  job.state = JobState::kQueued;
  job.last_error =
      fmt::format("lease {} given back by worker {} (stopping)", lease_id, worker_name(worker));
  store_.update_job(job, now);
  store_.touch_worker(worker, now);
  tx.commit();
  return Outcome<Empty>::success({});
}

Outcome<Empty> Scheduler::report_failure(LeaseId lease_id, WorkerId worker,
                                         const std::string& error) {
  const TimeMs now = clock_();
  Transaction tx(store_.database());
  const Outcome<LeaseRow> lease = current_lease(lease_id, worker, now);
  if (!lease.ok()) {
    tx.commit();
    return pass_on<Empty>(lease);
  }
  store_.set_lease_state(lease_id, LeaseState::kFailed);
  JobRow job = *store_.job(lease.value.job_id);
  job.last_error = fmt::format("worker {}: {}", worker_name(worker), error);
  if (std::find(job.error_workers.begin(), job.error_workers.end(), worker) ==
      job.error_workers.end()) {
    job.error_workers.push_back(worker);
  }
  // Two different workers failing on the same job says the job is bad, not the machines.
  constexpr std::size_t kPoisonWorkers = 2;
  if (job.error_workers.size() >= kPoisonWorkers) {
    std::vector<std::string> names;
    for (const WorkerId w : job.error_workers) names.push_back(worker_name(w));
    fail_job(job,
             fmt::format("poison: workers {} reported errors; last: {}", fmt::join(names, ", "),
                         job.last_error),
             now);
  } else {
    end_attempt(job, now);
  }
  store_.touch_worker(worker, now);
  tx.commit();
  return Outcome<Empty>::success({});
}

int Scheduler::reap() {
  const TimeMs now = clock_();
  Transaction tx(store_.database());
  const int expired = reap_locked(now);
  tx.commit();
  return expired;
}

int Scheduler::reap_locked(TimeMs now) {
  const std::vector<LeaseRow> overdue = store_.overdue_leases(now);
  for (const LeaseRow& lease : overdue) expire(lease, now);
  return static_cast<int>(overdue.size());
}

// A lease that ran out is not an error report: the worker may have died, lost the network or
// been killed, none of which says anything about the job. It costs an attempt, not a strike.
void Scheduler::expire(const LeaseRow& lease, TimeMs now) {
  store_.set_lease_state(lease.id, LeaseState::kExpired);
  JobRow job = *store_.job(lease.job_id);
  if (job.state != JobState::kLeased) return;
  const bool timed_out = lease.deadline_ms >= lease.timeout_ms;
  job.last_error =
      timed_out ? fmt::format("ran past the job timeout of {} on worker {}",
                              seconds_text(lease.timeout_ms - lease.issued_ms),
                              worker_name(lease.worker_id))
                : fmt::format("lease expired on worker {}: no heartbeat within {}",
                              worker_name(lease.worker_id), seconds_text(options_.lease_ttl_ms));
  end_attempt(job, now);
}

void Scheduler::end_attempt(JobRow& job, TimeMs now) {
  if (job.attempt >= options_.max_attempts) {
    fail_job(job, fmt::format("gave up after {} attempts; last: {}", job.attempt, job.last_error),
             now);
    return;
  }
  ++job.attempt;
  job.state = JobState::kQueued;
  store_.update_job(job, now);
}

void Scheduler::fail_job(JobRow& job, const std::string& error, TimeMs now) {
  job.state = JobState::kFailed;
  job.last_error = error;
  store_.update_job(job, now);
  if (job.kind == protocol::JobKind::kPrepare) {
    store_.fail_dependents(job.id, fmt::format("its prepare job {} failed: {}", job.id, error),
                           now);
  }
}

Outcome<bool> Scheduler::put_artifact(const std::string& hash,
                                      const std::vector<std::uint8_t>& bytes) {
  const std::string actual = artifact_hash(bytes);
  if (hash != actual) {
    return Outcome<bool>::failure(
        Code::kInvalid, fmt::format("the bytes hash to {}, not {} (xxh3-128)", actual, hash));
  }
  return Outcome<bool>::success(store_.put_artifact(hash, bytes, clock_()));
}

std::optional<std::vector<std::uint8_t>> Scheduler::artifact(const std::string& hash) {
  return store_.artifact(hash);
}

}  // namespace lowbit::coordinator
