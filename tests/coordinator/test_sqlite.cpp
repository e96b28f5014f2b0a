// The SQLite layer and the migrations: pragmas as docs/coordinator.md "The store" sets them (WAL,
// synchronous=NORMAL, foreign keys on), statements that reset themselves, transactions that roll
// back, and a file newer than the code refused.

#include <doctest/doctest.h>

#include <string>

#include "coordinator/migrations.h"
#include "coordinator/sqlite.h"
#include "coordinator/store.h"
#include "tests/support/subprocess.h"

namespace {

using lowbit::coordinator::Database;
using lowbit::coordinator::DatabaseOptions;
using lowbit::coordinator::SqliteError;
using lowbit::coordinator::Store;
using lowbit::coordinator::Transaction;
using lowbit::testing::TempDir;

TEST_CASE(
    "a database opens in WAL with foreign keys, NORMAL sync by default and FULL when durable") {
  const TempDir dir("lowbit-sqlite");
  {
    Database db(dir.path() + "/a.db");
    CHECK(db.scalar_text("PRAGMA journal_mode") == "wal");
    CHECK(db.scalar("PRAGMA foreign_keys") == 1);
    CHECK(db.scalar("PRAGMA synchronous") == 1);  // NORMAL
    CHECK(db.scalar("PRAGMA busy_timeout") == 5000);
  }
  Database durable(dir.path() + "/b.db", DatabaseOptions{.durable = true});
  CHECK(durable.scalar("PRAGMA synchronous") == 2);  // FULL
}

TEST_CASE("a query binds by position, resets itself and can be reused") {
  const TempDir dir("lowbit-sqlite");
  Database db(dir.path() + "/a.db");
  db.exec("CREATE TABLE t(a INTEGER, b TEXT, c REAL)");
  for (int i = 0; i < 3; ++i) {
    db.query("INSERT INTO t VALUES (?, ?, ?)")
        .bind_all(i, std::string("x") + std::to_string(i), i * 0.5)
        .run();
  }
  for (int round = 0; round < 2; ++round) {
    auto q = db.query("SELECT a, b, c FROM t WHERE a >= ? ORDER BY a");
    q.bind_all(1);
    REQUIRE(q.step());  // read one row and drop the query half-way: the next use starts afresh
    CHECK(q.int64(0) == 1);
    CHECK(q.text(1) == "x1");
    CHECK(q.real(2) == 0.5);
  }
  auto count = db.query("SELECT count(*) FROM t WHERE b IS ?");
  count.bind(1, nullptr);
  REQUIRE(count.step());
  CHECK(count.int64(0) == 0);
}

TEST_CASE("a transaction rolls back unless committed") {
  const TempDir dir("lowbit-sqlite");
  Database db(dir.path() + "/a.db");
  db.exec("CREATE TABLE t(a INTEGER)");
  {
    Transaction tx(db);
    db.query("INSERT INTO t VALUES (1)").run();
  }
  CHECK(db.scalar("SELECT count(*) FROM t") == 0);
  {
    Transaction tx(db);
    db.query("INSERT INTO t VALUES (1)").run();
    tx.commit();
  }
  CHECK(db.scalar("SELECT count(*) FROM t") == 1);
}

TEST_CASE("a bad statement names itself in the error") {
  const TempDir dir("lowbit-sqlite");
  Database db(dir.path() + "/a.db");
  CHECK_THROWS_WITH_AS(db.query("SELECT * FROM nowhere"), doctest::Contains("nowhere"),
                       SqliteError);
}

TEST_CASE("migrations set user_version once, and a newer file is refused") {
  const TempDir dir("lowbit-sqlite");
  const std::string path = dir.path() + "/store.db";
  {
    Store store(path);
    CHECK(store.schema_version() == lowbit::coordinator::latest_schema_version());
  }
  {
    Store again(path);  // nothing left to apply: opening twice is harmless
    CHECK(again.schema_version() == lowbit::coordinator::latest_schema_version());
    again.database().exec("PRAGMA user_version = 999");
  }
  CHECK_THROWS_WITH_AS(Store{path}, doctest::Contains("newer than this lowbit"), SqliteError);
}

}  // namespace

namespace {

// The HTTP database thread wraps several scheduler calls in one transaction; each call's own
// Transaction then becomes a savepoint, and a call that gives up must undo only itself.
TEST_CASE("a transaction inside a transaction is a savepoint that undoes only itself") {
  const TempDir dir("lowbit-sqlite");
  Database db(dir.path() + "/a.db");
  db.exec("CREATE TABLE t(a INTEGER)");
  CHECK_FALSE(db.in_transaction());
  db.exec("BEGIN IMMEDIATE");
  {
    Transaction kept(db);
    db.exec("INSERT INTO t VALUES (1)");
    kept.commit();
  }
  {
    Transaction abandoned(db);
    db.exec("INSERT INTO t VALUES (2)");
  }
  CHECK(db.in_transaction());  // the outer transaction is still open
  db.exec("COMMIT");
  CHECK(db.scalar("SELECT group_concat(a) FROM t") == 1);
  {
    Transaction outer(db);  // no transaction open: a real one again
    db.exec("INSERT INTO t VALUES (3)");
  }
  CHECK(db.scalar("SELECT count(*) FROM t") == 1);
}

}  // namespace
