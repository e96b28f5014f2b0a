// The read side of Scheduler (scheduler.h): cancel, status, listing, results, and the JSON
// documents the HTTP layer returns.

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

#include "coordinator/scheduler.h"

namespace lowbit::coordinator {

namespace {

// The job states in `counts`, in a fixed order (docs/coordinator.md "Job states"), with
// `skipped`, the grid points that made no job, before `cancelled`.
constexpr const char* kCountedStates[] = {"queued", "blocked", "leased",   "done",
                                          "failed", "skipped", "cancelled"};

constexpr int kFailuresShown = 5;

bool unfinished(JobState state) {
  return state == JobState::kQueued || state == JobState::kBlocked || state == JobState::kLeased;
}

}  // namespace

Outcome<Empty> Scheduler::cancel(SweepId sweep) {
  const TimeMs now = clock_();
  Transaction tx(store_.database());
  if (!store_.sweep(sweep)) {
    return Outcome<Empty>::failure(Code::kNotFound, fmt::format("unknown sweep {}", sweep));
  }
  store_.cancel_jobs(sweep, now);
  store_.mark_sweep_cancelled(sweep, now);
  tx.commit();
  return Outcome<Empty>::success({});
}

Outcome<SweepStatus> Scheduler::status(SweepId sweep) {
  const std::optional<SweepRow> row = store_.sweep(sweep);
  if (!row)
    return Outcome<SweepStatus>::failure(Code::kNotFound, fmt::format("unknown sweep {}", sweep));
  return Outcome<SweepStatus>::success(build_status(*row));
}

std::vector<SweepStatus> Scheduler::list() {
  std::vector<SweepStatus> all;
  for (const SweepRow& row : store_.sweeps()) all.push_back(build_status(row));
  return all;
}

SweepStatus Scheduler::build_status(const SweepRow& sweep) {
  SweepStatus s;
  s.id = sweep.id;
  s.name = sweep.name;
  s.created_ms = sweep.created_ms;
  s.cancelled = sweep.cancelled_ms.has_value();
  s.grid_points = sweep.grid_points;
  s.tags = nlohmann::json::parse(sweep.tags);
  for (const char* state : kCountedStates) s.counts[state] = 0;

  std::int64_t pending = 0;
  for (const auto& [state, n] : store_.variant_counts(sweep.id)) {
    s.counts[to_string(state)] = n;
    s.jobs += n;
    if (unfinished(state)) pending += n;
  }
  s.counts["skipped"] = store_.skipped_count(sweep.id);
  s.progress =
      s.jobs == 0 ? 1.0 : static_cast<double>(s.jobs - pending) / static_cast<double>(s.jobs);

  bool prepare_pending = false;
  if (const std::optional<JobRow> prepare = store_.prepare_job(sweep.id)) {
    s.prepare_state = to_string(prepare->state);
    if (prepare->state == JobState::kFailed) s.prepare_error = prepare->last_error;
    prepare_pending = unfinished(prepare->state);
  }
  s.finished = pending == 0 && !prepare_pending;
  s.waiting = waiting_reasons(sweep.id);
  for (const JobRow& job : store_.failed_jobs(sweep.id, kFailuresShown)) {
    s.failures.push_back({job.id, job.last_error});
  }
  return s;
}

// Only the targets nobody can serve: a target some registered worker matches is merely busy.
std::vector<std::string> Scheduler::waiting_reasons(SweepId sweep) {
  std::vector<std::string> reasons;
  for (const auto& [target_id, count] : store_.waiting_by_target(sweep)) {
    const protocol::TargetConstraint& constraint = targets_.at(target_id);
    const bool served = std::any_of(workers_.begin(), workers_.end(), [&](const auto& entry) {
      return constraint.satisfied_by(entry.second.fingerprint);
    });
    if (served) continue;
    if (workers_.empty()) {
      reasons.push_back(fmt::format("{} jobs wait for a worker; none is registered", count));
      continue;
    }
    std::vector<std::string> known;
    for (const auto& [id, w] : workers_) {
      known.push_back(fmt::format("{} ({})", w.name, w.fingerprint.label));
    }
    reasons.push_back(
        fmt::format("{} jobs need target {}; no registered worker matches it (registered: {})",
                    count, protocol::describe(constraint), fmt::join(known, ", ")));
  }
  return reasons;
}

Outcome<std::vector<nlohmann::json>> Scheduler::results(SweepId sweep) {
  using Result = Outcome<std::vector<nlohmann::json>>;
  if (!store_.sweep(sweep))
    return Result::failure(Code::kNotFound, fmt::format("unknown sweep {}", sweep));
  std::vector<nlohmann::json> documents;
  for (const std::string& text : store_.results(sweep))
    documents.push_back(nlohmann::json::parse(text));
  return Result::success(std::move(documents));
}

Outcome<std::vector<protocol::SkippedPoint>> Scheduler::skipped(SweepId sweep) {
  using Result = Outcome<std::vector<protocol::SkippedPoint>>;
  if (!store_.sweep(sweep))
    return Result::failure(Code::kNotFound, fmt::format("unknown sweep {}", sweep));
  std::vector<protocol::SkippedPoint> points;
  for (const SkippedRow& row : store_.skipped(sweep)) {
    points.push_back({nlohmann::json::parse(row.config),
                      nlohmann::json::parse(row.target).get<protocol::TargetConstraint>(),
                      row.reason});
  }
  return Result::success(std::move(points));
}

void to_json(nlohmann::json& j, const SubmitReceipt& receipt) {
  j = {{"id", receipt.id}, {"jobs", receipt.jobs}, {"skipped", receipt.skipped}};
}

void to_json(nlohmann::json& j, const LeaseGrant& grant) {
  j = {{"id", grant.job_id},
       {"sweep_id", grant.sweep_id},
       {"kind", protocol::to_string(grant.kind)},
       {"attempt", grant.attempt},
       {"config", grant.config},
       {"config_hash", grant.config_hash},
       {"target", grant.target},
       {"measurement", grant.measurement},
       {"lease",
        {{"id", grant.lease_id},
         {"ttl_s", static_cast<double>(grant.ttl_ms) / 1000.0},
         {"timeout_s", static_cast<double>(grant.timeout_ms) / 1000.0}}}};
  if (grant.prepare_job_id) j["prepare_job_id"] = *grant.prepare_job_id;
  if (grant.prepared) j["prepared"] = *grant.prepared;
}

void to_json(nlohmann::json& j, const SweepStatus& s) {
  const char* state = s.cancelled ? "cancelled" : s.finished ? "finished" : "running";
  nlohmann::json counts = nlohmann::json::object();
  for (const char* name : kCountedStates) counts[name] = s.counts.at(name);
  j = {{"id", s.id},
       {"name", s.name},
       {"created", iso_utc(s.created_ms)},
       {"state", state},
       {"counts", counts},
       {"jobs", s.jobs},
       {"grid_points", s.grid_points},
       {"progress", s.progress},
       {"waiting", s.waiting},
       {"tags", s.tags}};
  if (!s.prepare_state.empty()) {
    j["prepare"] = {{"state", s.prepare_state}};
    if (!s.prepare_error.empty()) j["prepare"]["error"] = s.prepare_error;
  }
  nlohmann::json failures = nlohmann::json::array();
  for (const FailedJob& f : s.failures) failures.push_back({{"job", f.id}, {"error", f.error}});
  j["failures"] = failures;
}

}  // namespace lowbit::coordinator
