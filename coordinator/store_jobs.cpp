// The job, lease and result tables of Store (store.h): the rows the scheduler works on.

#include <fmt/format.h>

#include "coordinator/store.h"

namespace lowbit::coordinator {

namespace {

constexpr const char* kJobColumns =
    "id, sweep_id, kind, state, prepare_job_id, target_id, config, config_hash, attempt, "
    "last_error, error_workers";

JobRow read_job(const Query& q) {
  JobRow row;
  row.id = q.int64(0);
  row.sweep_id = q.int64(1);
  row.kind = q.text(2) == "prepare" ? protocol::JobKind::kPrepare : protocol::JobKind::kVariant;
  row.state = parse_job_state(q.text(3));
  row.prepare_job_id = q.optional_int64(4);
  row.target_id = q.int64(5);
  row.config = q.text(6);
  row.config_hash = q.text(7);
  row.attempt = static_cast<int>(q.int64(8));
  row.last_error = q.optional_text(9).value_or("");
  row.error_workers = nlohmann::json::parse(q.text(10)).get<std::vector<WorkerId>>();
  return row;
}

constexpr const char* kLeaseColumns =
    "id, job_id, worker_id, state, issued_ms, deadline_ms, timeout_ms";

LeaseRow read_lease(const Query& q) {
  LeaseRow row;
  row.id = q.int64(0);
  row.job_id = q.int64(1);
  row.worker_id = q.int64(2);
  row.state = parse_lease_state(q.text(3));
  row.issued_ms = q.int64(4);
  row.deadline_ms = q.int64(5);
  row.timeout_ms = q.int64(6);
  return row;
}

// "SELECT <columns> <rest>", built once per call site: the statement cache is keyed by text.
std::string select(const char* columns, const char* rest) {
  return fmt::format("SELECT {} {}", columns, rest);
}

}  // namespace

std::optional<JobRow> Store::job(JobId id) {
  static const std::string kSql = select(kJobColumns, "FROM jobs WHERE id = ?");
  auto q = db_.query(kSql);
  q.bind_all(id);
  if (!q.step()) return std::nullopt;
  return read_job(q);
}

std::optional<std::pair<SweepId, JobId>> Store::first_queued(TargetId target, SweepId after_sweep) {
  auto q = db_.query(
      "SELECT sweep_id, id FROM jobs WHERE state = 'queued' AND target_id = ? AND sweep_id > ? "
      "ORDER BY sweep_id, id LIMIT 1");
  q.bind_all(target, after_sweep);
  if (!q.step()) return std::nullopt;
  return std::pair{q.int64(0), q.int64(1)};
}

void Store::update_job(const JobRow& job, TimeMs now) {
  db_.query(
         "UPDATE jobs SET state = ?, attempt = ?, last_error = ?, error_workers = ?, "
         "updated_ms = ? WHERE id = ?")
      .bind_all(to_string(job.state), job.attempt,
                job.last_error.empty() ? std::optional<std::string>() : job.last_error,
                nlohmann::json(job.error_workers).dump(), now, job.id)
      .run();
}

std::int64_t Store::release_dependents(JobId prepare, TimeMs now) {
  db_.query(
         "UPDATE jobs SET state = 'queued', updated_ms = ? "
         "WHERE prepare_job_id = ? AND state = 'blocked'")
      .bind_all(now, prepare)
      .run();
  return db_.changes();
}

std::int64_t Store::fail_dependents(JobId prepare, const std::string& error, TimeMs now) {
  db_.query(
         "UPDATE jobs SET state = 'failed', last_error = ?, updated_ms = ? "
         "WHERE prepare_job_id = ? AND state = 'blocked'")
      .bind_all(error, now, prepare)
      .run();
  return db_.changes();
}

std::int64_t Store::cancel_jobs(SweepId sweep, TimeMs now) {
  // Leases first: they are found through jobs that are still leased.
  db_.query(
         "UPDATE leases SET state = 'cancelled' WHERE state = 'active' AND job_id IN "
         "(SELECT id FROM jobs WHERE sweep_id = ? AND state = 'leased')")
      .bind_all(sweep)
      .run();
  db_.query(
         "UPDATE jobs SET state = 'cancelled', updated_ms = ? "
         "WHERE sweep_id = ? AND state IN ('queued', 'blocked', 'leased')")
      .bind_all(now, sweep)
      .run();
  return db_.changes();
}

std::map<JobState, std::int64_t> Store::variant_counts(SweepId sweep) {
  auto q = db_.query(
      "SELECT state, count(*) FROM jobs WHERE sweep_id = ? AND kind = 'variant' GROUP BY state");
  q.bind_all(sweep);
  std::map<JobState, std::int64_t> counts;
  while (q.step()) counts[parse_job_state(q.text(0))] = q.int64(1);
  return counts;
}

std::map<JobState, std::int64_t> Store::job_counts() {
  auto q = db_.query("SELECT state, count(*) FROM jobs GROUP BY state");
  std::map<JobState, std::int64_t> counts;
  while (q.step()) counts[parse_job_state(q.text(0))] = q.int64(1);
  return counts;
}

std::int64_t Store::active_lease_count() {
  auto q = db_.query("SELECT count(*) FROM leases WHERE state = 'active'");
  q.step();
  return q.int64(0);
}

std::optional<JobRow> Store::prepare_job(SweepId sweep) {
  static const std::string kSql =
      select(kJobColumns, "FROM jobs WHERE sweep_id = ? AND kind = 'prepare' LIMIT 1");
  auto q = db_.query(kSql);
  q.bind_all(sweep);
  if (!q.step()) return std::nullopt;
  return read_job(q);
}

std::vector<std::pair<TargetId, std::int64_t>> Store::waiting_by_target(SweepId sweep) {
  auto q = db_.query(
      "SELECT target_id, count(*) FROM jobs WHERE sweep_id = ? AND state IN ('queued', 'blocked') "
      "GROUP BY target_id ORDER BY target_id");
  q.bind_all(sweep);
  std::vector<std::pair<TargetId, std::int64_t>> rows;
  while (q.step()) rows.emplace_back(q.int64(0), q.int64(1));
  return rows;
}

std::vector<JobRow> Store::failed_jobs(SweepId sweep, int limit) {
  static const std::string kSql =
      select(kJobColumns,
             "FROM jobs WHERE sweep_id = ? AND kind = 'variant' AND state = 'failed' "
             "ORDER BY id LIMIT ?");
  auto q = db_.query(kSql);
  q.bind_all(sweep, limit);
  std::vector<JobRow> rows;
  while (q.step()) rows.push_back(read_job(q));
  return rows;
}

LeaseId Store::insert_lease(const LeaseRow& lease) {
  db_.query(
         "INSERT INTO leases(job_id, worker_id, state, issued_ms, deadline_ms, timeout_ms) "
         "VALUES (?, ?, ?, ?, ?, ?)")
      .bind_all(lease.job_id, lease.worker_id, to_string(lease.state), lease.issued_ms,
                lease.deadline_ms, lease.timeout_ms)
      .run();
  return db_.last_insert_rowid();
}

std::optional<LeaseRow> Store::lease(LeaseId id) {
  static const std::string kSql = select(kLeaseColumns, "FROM leases WHERE id = ?");
  auto q = db_.query(kSql);
  q.bind_all(id);
  if (!q.step()) return std::nullopt;
  return read_lease(q);
}

void Store::set_lease_state(LeaseId id, LeaseState state) {
  db_.query("UPDATE leases SET state = ? WHERE id = ?").bind_all(to_string(state), id).run();
}

void Store::renew_lease(LeaseId id, TimeMs deadline) {
  db_.query("UPDATE leases SET deadline_ms = ? WHERE id = ?").bind_all(deadline, id).run();
}

std::vector<LeaseRow> Store::overdue_leases(TimeMs now) {
  static const std::string kSql = select(kLeaseColumns,
                                         "FROM leases WHERE state = 'active' AND deadline_ms <= ? "
                                         "ORDER BY deadline_ms, id");
  auto q = db_.query(kSql);
  q.bind_all(now);
  std::vector<LeaseRow> rows;
  while (q.step()) rows.push_back(read_lease(q));
  return rows;
}

void Store::insert_result(JobId job, LeaseId lease, const std::string& config_hash,
                          const std::string& document, TimeMs now) {
  db_.query(
         "INSERT INTO results(job_id, lease_id, config_hash, document, received_ms) "
         "VALUES (?, ?, ?, ?, ?)")
      .bind_all(job, lease, config_hash, document, now)
      .run();
}

std::optional<std::string> Store::result_of_lease(LeaseId lease) {
  auto q = db_.query("SELECT document FROM results WHERE lease_id = ?");
  q.bind_all(lease);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

std::optional<std::string> Store::result_of_job(JobId job) {
  auto q = db_.query("SELECT document FROM results WHERE job_id = ?");
  q.bind_all(job);
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

std::vector<std::string> Store::results(SweepId sweep) {
  auto q = db_.query(
      "SELECT r.document FROM results r JOIN jobs j ON j.id = r.job_id "
      "WHERE j.sweep_id = ? AND j.kind = 'variant' AND j.state = 'done' ORDER BY j.id");
  q.bind_all(sweep);
  std::vector<std::string> rows;
  while (q.step()) rows.push_back(q.text(0));
  return rows;
}

}  // namespace lowbit::coordinator
