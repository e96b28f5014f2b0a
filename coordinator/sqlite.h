#pragma once
// A thin RAII layer over the SQLite C API: one connection (Database), prepared statements that
// are compiled once and reused (Statement), a borrowed, auto-resetting use of one (Query), and
// transactions that roll back unless committed (Transaction). Every SQL text with a value in it
// goes through bind(), never through string formatting.
//
// Errors are exceptions (SqliteError): a failing statement here means a broken file, a full disk
// or a bug, not bad user input, and the caller cannot do better than report it.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace lowbit::coordinator {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// A compiled statement, finalized by the destructor.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* handle() const { return stmt_; }
  const std::string& sql() const { return sql_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// One use of a cached Statement: bind, step through rows, read columns. The destructor resets
// the statement and clears its bindings, so a half-read SELECT never keeps a read transaction
// open. Parameters and columns are numbered from 1 and 0, as in SQLite.
class Query {
 public:
  Query(sqlite3* db, Statement& statement);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::int64_t value);
  Query& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Query& bind(int index, double value);
  Query& bind(int index, std::string_view text);
  Query& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Query& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Query& bind(int index, std::nullptr_t);
  Query& bind_blob(int index, const std::vector<std::uint8_t>& bytes);
  template <typename T>
  Query& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, nullptr);
  }

  // Binds the arguments to parameters 1, 2, ... in order.
  template <typename... Args>
  Query& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // True when a row is ready; false when the statement is done.
  bool step();
  // Steps a statement that returns no rows (INSERT, UPDATE, DELETE).
  void run();

  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  std::vector<std::uint8_t> blob(int column) const;

 private:
  void check(int rc) const;

  sqlite3* db_;
  Statement& statement_;
};

struct DatabaseOptions {
  bool durable = false;        // synchronous=FULL instead of NORMAL
  int busy_timeout_ms = 5000;  // how long a write waits for another connection's lock
};

// One connection. Not thread-safe: use it from one thread (the coordinator's database thread).
class Database {
 public:
  // Opens or creates the file, then sets WAL, synchronous, foreign keys and the busy timeout.
  explicit Database(const std::string& path, const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // A use of the statement compiled from `sql`, compiled on its first use and kept.
  // `sql` must not contain values: bind them.
  Query query(std::string_view sql);

  // Runs SQL without parameters (schema changes, pragmas, BEGIN/COMMIT).
  void exec(const std::string& sql);

  // A single integer from a PRAGMA or SELECT without parameters.
  std::int64_t scalar(const std::string& sql);
  std::string scalar_text(const std::string& sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  bool in_transaction() const;
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> statements_;
};

// BEGIN IMMEDIATE: takes the write lock at once, so two writers never both read and then fail to
// upgrade. Rolls back in the destructor unless commit() ran.
// BEGIN IMMEDIATE ... COMMIT, or, inside a transaction already open (the HTTP database thread
// commits a batch of requests at once), a SAVEPOINT released on commit and rolled back to when
// abandoned: each scheduler call stays all-or-nothing either way.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Database& db_;
  bool nested_ = false;
  bool open_ = true;
};

}  // namespace lowbit::coordinator
