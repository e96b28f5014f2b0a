#include "coordinator/migrations.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace lowbit::coordinator {

namespace {

// Times are milliseconds since the Unix epoch (the scheduler's clock). JSON columns hold
// documents as text, exactly as they were accepted. States are checked by the schema so that a
// bug cannot invent one.
const char* const kInitialSchema = R"sql(
CREATE TABLE sweeps (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT    NOT NULL,
  document      TEXT    NOT NULL,  -- the sweep as submitted
  measurement   TEXT    NOT NULL,  -- JSON: batches, repetitions, min_time_ms, warmup_ms
  tags          TEXT    NOT NULL,  -- JSON: commit, branch, text
  grid_points   INTEGER NOT NULL,  -- variant jobs + skipped points
  created_ms    INTEGER NOT NULL,
  cancelled_ms  INTEGER            -- set by cancel
);

-- Each distinct target constraint once ('"any"' or a canonical JSON object), so the scheduler
-- can match a worker against a handful of rows instead of every job.
CREATE TABLE targets (
  id          INTEGER PRIMARY KEY,
  constraint_json TEXT NOT NULL UNIQUE
);

CREATE TABLE jobs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  sweep_id       INTEGER NOT NULL REFERENCES sweeps(id),
  kind           TEXT    NOT NULL CHECK (kind IN ('prepare', 'variant')),
  state          TEXT    NOT NULL
                 CHECK (state IN ('queued', 'blocked', 'leased', 'done', 'failed', 'cancelled')),
  prepare_job_id INTEGER REFERENCES jobs(id),  -- variants of an mlp sweep: blocked until it is done
  target_id      INTEGER NOT NULL REFERENCES targets(id),
  config         TEXT    NOT NULL,
  config_hash    TEXT    NOT NULL,
  attempt        INTEGER NOT NULL DEFAULT 1,   -- the attempt the job is on, from 1
  last_error     TEXT,
  error_workers  TEXT    NOT NULL DEFAULT '[]', -- JSON: ids of workers that reported an error
  updated_ms     INTEGER NOT NULL
);
-- The lease query: the first queued job of a target after a sweep id.
CREATE INDEX jobs_ready ON jobs(state, target_id, sweep_id, id);
CREATE INDEX jobs_by_sweep ON jobs(sweep_id, state);
CREATE INDEX jobs_by_prepare ON jobs(prepare_job_id) WHERE prepare_job_id IS NOT NULL;

-- Grid points that make no job, with the reason; counted as `skipped`.
CREATE TABLE skipped (
  id         INTEGER PRIMARY KEY,
  sweep_id   INTEGER NOT NULL REFERENCES sweeps(id),
  target_id  INTEGER NOT NULL REFERENCES targets(id),
  config     TEXT    NOT NULL,
  reason     TEXT    NOT NULL
);
CREATE INDEX skipped_by_sweep ON skipped(sweep_id);

CREATE TABLE workers (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  name           TEXT    NOT NULL UNIQUE,
  fingerprint    TEXT    NOT NULL,  -- JSON: the target group of the result document
  registered_ms  INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL
);

-- Every lease ever granted: a late call naming an old lease is answered from here.
CREATE TABLE leases (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so an old id stays old
  job_id       INTEGER NOT NULL REFERENCES jobs(id),
  worker_id    INTEGER NOT NULL REFERENCES workers(id),
  state        TEXT    NOT NULL
               CHECK (state IN ('active', 'completed', 'failed', 'expired', 'cancelled')),
  issued_ms    INTEGER NOT NULL,
  deadline_ms  INTEGER NOT NULL,  -- expires here unless renewed; never past timeout_ms
  timeout_ms   INTEGER NOT NULL   -- issued_ms + the job timeout; heartbeats cannot pass it
);
CREATE UNIQUE INDEX leases_one_active_per_job ON leases(job_id) WHERE state = 'active';
CREATE INDEX leases_active_by_deadline ON leases(deadline_ms) WHERE state = 'active';

-- At most one result per job (the primary key) and per lease: nothing is stored twice.
CREATE TABLE results (
  job_id       INTEGER PRIMARY KEY REFERENCES jobs(id),
  lease_id     INTEGER NOT NULL UNIQUE REFERENCES leases(id),
  config_hash  TEXT    NOT NULL,
  document     TEXT    NOT NULL,  -- the whole result: latency samples, correctness bitset, ...
  received_ms  INTEGER NOT NULL
);
CREATE INDEX results_by_config ON results(config_hash);

-- Content-addressed files (trained models): the hash is xxh3-128 of the bytes.
CREATE TABLE artifacts (
  hash        TEXT    PRIMARY KEY,
  bytes       BLOB    NOT NULL,
  size        INTEGER NOT NULL,
  created_ms  INTEGER NOT NULL
);
)sql";

// Regression baselines: the latest earlier sweep of a name.
const char* const kBaselineIndex = R"sql(
CREATE INDEX sweeps_by_name ON sweeps(name, id);
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list{{1, kInitialSchema}, {2, kBaselineIndex}};
  return list;
}

int latest_schema_version() { return migrations().back().version; }

void migrate(Database& db) {
  const std::int64_t current = db.scalar("PRAGMA user_version");
  if (current > latest_schema_version()) {
    throw SqliteError(SQLITE_ERROR,
                      fmt::format("{} has schema version {}, newer than this lowbit knows ({}); "
                                  "use a newer lowbit",
                                  db.path(), current, latest_schema_version()));
  }
  for (const Migration& m : migrations()) {
    if (m.version <= current) continue;
    Transaction tx(db);
    db.exec(m.sql);
    db.exec(fmt::format("PRAGMA user_version = {}", m.version));
    tx.commit();
  }
}

}  // namespace lowbit::coordinator
