#include "coordinator/store.h"

#include <fmt/format.h>

#include <stdexcept>

#include "coordinator/migrations.h"

namespace lowbit::coordinator {

namespace {

constexpr const char* kJobStates[] = {"queued", "blocked", "leased", "done", "failed", "cancelled"};
constexpr const char* kLeaseStates[] = {"active", "completed", "failed", "expired", "cancelled"};

template <typename Enum, std::size_t N>
Enum parse_state(const std::string& text, const char* const (&names)[N], const char* what) {
  for (std::size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<Enum>(i);
  }
  throw std::invalid_argument(fmt::format("unknown {} state \"{}\"", what, text));
}

}  // namespace

std::string to_string(JobState state) { return kJobStates[static_cast<int>(state)]; }
JobState parse_job_state(const std::string& text) {
  return parse_state<JobState>(text, kJobStates, "job");
}
std::string to_string(LeaseState state) { return kLeaseStates[static_cast<int>(state)]; }
LeaseState parse_lease_state(const std::string& text) {
  return parse_state<LeaseState>(text, kLeaseStates, "lease");
}

Store::Store(const std::string& path, const StoreOptions& options)
    : db_(path, DatabaseOptions{options.durable, options.busy_timeout_ms}) {
  migrate(db_);
}

int Store::schema_version() { return static_cast<int>(db_.scalar("PRAGMA user_version")); }

TargetId Store::target_id(const protocol::TargetConstraint& constraint) {
  const std::string text = nlohmann::json(constraint).dump();
  db_.query("INSERT INTO targets(constraint_json) VALUES (?) ON CONFLICT DO NOTHING")
      .bind_all(text)
      .run();
  auto q = db_.query("SELECT id FROM targets WHERE constraint_json = ?");
  q.bind_all(text);
  q.step();
  return q.int64(0);
}

InsertedSweep Store::insert_sweep(const NewSweep& sweep, TimeMs now) {
  const protocol::Expansion& expansion = *sweep.expansion;
  Transaction tx(db_);
  InsertedSweep inserted;
  db_.query(
         "INSERT INTO sweeps(name, document, measurement, tags, grid_points, created_ms) "
         "VALUES (?, ?, ?, ?, ?, ?)")
      .bind_all(sweep.name, sweep.document, sweep.measurement, sweep.tags,
                static_cast<std::int64_t>(expansion.variants.size() + expansion.skipped.size()),
                now)
      .run();
  inserted.id = db_.last_insert_rowid();

  // A sweep has a handful of targets: resolve each once, not per job.
  std::vector<std::pair<protocol::TargetConstraint, TargetId>> target_ids;
  const auto resolve = [&](const protocol::TargetConstraint& c) {
    for (const auto& [known, id] : target_ids) {
      if (known == c) return id;
    }
    return target_ids.emplace_back(c, target_id(c)).second;
  };

  std::optional<JobId> prepare_id;
  constexpr const char* kInsertJob =
      "INSERT INTO jobs(sweep_id, kind, state, prepare_job_id, target_id, config, config_hash, "
      "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
  if (expansion.prepare) {
    const protocol::PlannedJob& p = *expansion.prepare;
    db_.query(kInsertJob)
        .bind_all(inserted.id, to_string(p.kind), to_string(JobState::kQueued),
                  std::optional<JobId>(), resolve(p.target), p.config_text, p.config_hash, now)
        .run();
    prepare_id = db_.last_insert_rowid();
  }
  const std::string variant_state = to_string(prepare_id ? JobState::kBlocked : JobState::kQueued);
  const std::string variant_kind = to_string(protocol::JobKind::kVariant);
  for (const protocol::PlannedJob& v : expansion.variants) {
    db_.query(kInsertJob)
        .bind_all(inserted.id, variant_kind, variant_state, prepare_id, resolve(v.target),
                  v.config_text, v.config_hash, now)
        .run();
    ++inserted.jobs;
  }
  for (const protocol::SkippedPoint& s : expansion.skipped) {
    db_.query("INSERT INTO skipped(sweep_id, target_id, config, reason) VALUES (?, ?, ?, ?)")
        .bind_all(inserted.id, resolve(s.target), s.config.dump(), s.reason)
        .run();
  }
  tx.commit();
  return inserted;
}

namespace {

SweepRow read_sweep(const Query& q) {
  SweepRow row;
  row.id = q.int64(0);
  row.name = q.text(1);
  row.document = q.text(2);
  row.measurement = q.text(3);
  row.tags = q.text(4);
  row.grid_points = q.int64(5);
  row.created_ms = q.int64(6);
  row.cancelled_ms = q.optional_int64(7);
  return row;
}

constexpr const char* kSweepColumns =
    "id, name, document, measurement, tags, grid_points, created_ms, cancelled_ms";

WorkerRow read_worker(const Query& q) {
  return {q.int64(0), q.text(1), q.text(2), q.int64(3), q.int64(4)};
}

}  // namespace

std::optional<SweepRow> Store::sweep(SweepId id) {
  static const std::string kSql = fmt::format("SELECT {} FROM sweeps WHERE id = ?", kSweepColumns);
  auto q = db_.query(kSql);
  q.bind_all(id);
  if (!q.step()) return std::nullopt;
  return read_sweep(q);
}

std::vector<SweepRow> Store::sweeps() {
  static const std::string kSql = fmt::format("SELECT {} FROM sweeps ORDER BY id", kSweepColumns);
  auto q = db_.query(kSql);
  std::vector<SweepRow> rows;
  while (q.step()) rows.push_back(read_sweep(q));
  return rows;
}

std::optional<SweepRow> Store::latest_finished_sweep(const std::string& name,
                                                     const std::string& branch, SweepId before) {
  // sweeps_by_name (migration 2) finds the candidates; a name has a few hundred sweeps at most.
  static const std::string kSql = fmt::format(
      "SELECT {} FROM sweeps s WHERE s.name = ? AND s.id < ? AND s.cancelled_ms IS NULL "
      "AND coalesce(json_extract(s.tags, '$.branch'), '') = ? "
      "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.sweep_id = s.id "
      "AND j.state IN ('queued', 'blocked', 'leased')) ORDER BY s.id DESC LIMIT 1",
      kSweepColumns);
  auto q = db_.query(kSql);
  q.bind_all(name, before, branch);
  if (!q.step()) return std::nullopt;
  return read_sweep(q);
}

void Store::mark_sweep_cancelled(SweepId id, TimeMs now) {
  db_.query("UPDATE sweeps SET cancelled_ms = ? WHERE id = ? AND cancelled_ms IS NULL")
      .bind_all(now, id)
      .run();
}

std::vector<SkippedRow> Store::skipped(SweepId id) {
  auto q = db_.query(
      "SELECT s.config, t.constraint_json, s.reason FROM skipped s "
      "JOIN targets t ON t.id = s.target_id WHERE s.sweep_id = ? ORDER BY s.id");
  q.bind_all(id);
  std::vector<SkippedRow> rows;
  while (q.step()) rows.push_back({q.text(0), q.text(1), q.text(2)});
  return rows;
}

std::int64_t Store::skipped_count(SweepId id) {
  auto q = db_.query("SELECT count(*) FROM skipped WHERE sweep_id = ?");
  q.bind_all(id);
  q.step();
  return q.int64(0);
}

std::vector<std::pair<TargetId, protocol::TargetConstraint>> Store::targets() {
  auto q = db_.query("SELECT id, constraint_json FROM targets ORDER BY id");
  std::vector<std::pair<TargetId, protocol::TargetConstraint>> rows;
  while (q.step()) {
    rows.emplace_back(q.int64(0),
                      nlohmann::json::parse(q.text(1)).get<protocol::TargetConstraint>());
  }
  return rows;
}

WorkerId Store::upsert_worker(const std::string& name, const std::string& fingerprint, TimeMs now) {
  db_.query(
         "INSERT INTO workers(name, fingerprint, registered_ms, last_seen_ms) VALUES (?, ?, ?, ?) "
         "ON CONFLICT(name) DO UPDATE SET fingerprint = excluded.fingerprint, "
         "last_seen_ms = excluded.last_seen_ms")
      .bind_all(name, fingerprint, now, now)
      .run();
  auto q = db_.query("SELECT id FROM workers WHERE name = ?");
  q.bind_all(name);
  q.step();
  return q.int64(0);
}

std::optional<WorkerRow> Store::worker(WorkerId id) {
  auto q = db_.query(
      "SELECT id, name, fingerprint, registered_ms, last_seen_ms FROM workers WHERE id = ?");
  q.bind_all(id);
  if (!q.step()) return std::nullopt;
  return read_worker(q);
}

std::vector<WorkerRow> Store::workers() {
  auto q = db_.query(
      "SELECT id, name, fingerprint, registered_ms, last_seen_ms FROM workers ORDER BY id");
  std::vector<WorkerRow> rows;
  while (q.step()) rows.push_back(read_worker(q));
  return rows;
}

void Store::touch_worker(WorkerId id, TimeMs now) {
  db_.query("UPDATE workers SET last_seen_ms = ? WHERE id = ?").bind_all(now, id).run();
}

std::int64_t Store::next_worker_number() {
  auto q = db_.query("SELECT coalesce(max(id), 0) + 1 FROM workers");
  q.step();
  return q.int64(0);
}

bool Store::put_artifact(const std::string& hash, const std::vector<std::uint8_t>& bytes,
                         TimeMs now) {
  auto q = db_.query(
      "INSERT INTO artifacts(hash, bytes, size, created_ms) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(hash) DO NOTHING");
  q.bind(1, hash).bind_blob(2, bytes).bind(3, static_cast<std::int64_t>(bytes.size())).bind(4, now);
  q.run();
  return db_.changes() == 1;
}

std::optional<std::vector<std::uint8_t>> Store::artifact(const std::string& hash) {
  auto q = db_.query("SELECT bytes FROM artifacts WHERE hash = ?");
  q.bind_all(hash);
  if (!q.step()) return std::nullopt;
  return q.blob(0);
}

}  // namespace lowbit::coordinator
