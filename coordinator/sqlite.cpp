#include "coordinator/sqlite.h"

#include <fmt/format.h>
#include <sqlite3.h>

namespace lowbit::coordinator {

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw SqliteError(rc, fmt::format("sqlite: {}: {}", what, detail));
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, fmt::format("preparing \"{}\"", sql));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Query::Query(sqlite3* db, Statement& statement) : db_(db), statement_(statement) {}

Query::~Query() {
  sqlite3_reset(statement_.handle());
  sqlite3_clear_bindings(statement_.handle());
}

void Query::check(int rc) const {
  if (rc != SQLITE_OK) fail(db_, rc, fmt::format("binding \"{}\"", statement_.sql()));
}

Query& Query::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(statement_.handle(), index, value));
  return *this;
}

Query& Query::bind(int index, double value) {
  check(sqlite3_bind_double(statement_.handle(), index, value));
  return *this;
}

Query& Query::bind(int index, std::string_view text) {
  check(sqlite3_bind_text64(statement_.handle(), index, text.data(), text.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8));
  return *this;
}

Query& Query::bind(int index, std::nullptr_t) {
  check(sqlite3_bind_null(statement_.handle(), index));
  return *this;
}

Query& Query::bind_blob(int index, const std::vector<std::uint8_t>& bytes) {
  check(sqlite3_bind_blob64(statement_.handle(), index, bytes.data(), bytes.size(),
                            SQLITE_TRANSIENT));
  return *this;
}

bool Query::step() {
  const int rc = sqlite3_step(statement_.handle());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, fmt::format("running \"{}\"", statement_.sql()));
}

void Query::run() {
  while (step()) {
  }
}

bool Query::is_null(int column) const {
  return sqlite3_column_type(statement_.handle(), column) == SQLITE_NULL;
}

std::int64_t Query::int64(int column) const {
  return sqlite3_column_int64(statement_.handle(), column);
}

double Query::real(int column) const { return sqlite3_column_double(statement_.handle(), column); }

std::string Query::text(int column) const {
  const auto* data = sqlite3_column_text(statement_.handle(), column);
  const int size = sqlite3_column_bytes(statement_.handle(), column);
  return data == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::optional<std::string> Query::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Query::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::vector<std::uint8_t> Query::blob(int column) const {
  const auto* data =
      static_cast<const std::uint8_t*>(sqlite3_column_blob(statement_.handle(), column));
  const int size = sqlite3_column_bytes(statement_.handle(), column);
  if (data == nullptr) return {};
  return std::vector<std::uint8_t>(data, data + size);
}

Database::Database(const std::string& path, const DatabaseOptions& options) : path_(path) {
  const int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string detail = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    throw SqliteError(rc, fmt::format("sqlite: opening {}: {}", path, detail));
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, options.busy_timeout_ms);
    // WAL: readers never block the writer, and a commit is one append. A killed process loses
    // nothing committed; NORMAL skips the fsync per commit, so a power cut may lose the last
    // few, which FULL (--durable) prevents.
    const std::string mode = scalar_text("PRAGMA journal_mode=WAL");
    if (mode != "wal")
      throw SqliteError(SQLITE_ERROR, fmt::format("sqlite: {} refuses WAL mode ({})", path, mode));
    exec(options.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    statements_.clear();
    sqlite3_close_v2(db_);
    throw;
  }
}

Database::~Database() {
  statements_.clear();  // finalize every statement before closing
  sqlite3_close_v2(db_);
}

Query Database::query(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(std::string(sql), std::make_unique<Statement>(db_, sql)).first;
  }
  return Query(db_, *it->second);
}

void Database::exec(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    const std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw SqliteError(rc, fmt::format("sqlite: {}: {}", sql.substr(0, 80), detail));
  }
}

std::int64_t Database::scalar(const std::string& sql) {
  Statement statement(db_, sql);
  Query q(db_, statement);
  return q.step() ? q.int64(0) : 0;
}

std::string Database::scalar_text(const std::string& sql) {
  Statement statement(db_, sql);
  Query q(db_, statement);
  return q.step() ? q.text(0) : std::string();
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Transaction::Transaction(Database& db) : db_(db), nested_(db.in_transaction()) {
  db_.exec(nested_ ? "SAVEPOINT step" : "BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    db_.exec(nested_ ? "ROLLBACK TO step; RELEASE step" : "ROLLBACK");
  } catch (const SqliteError&) {
    // The connection already rolled back (SQLite does after some errors); nothing to undo.
  }
}

void Transaction::commit() {
  db_.exec(nested_ ? "RELEASE step" : "COMMIT");
  open_ = false;
}

}  // namespace lowbit::coordinator
