#pragma once
// The store's schema, as an ordered list of migrations. The file's `PRAGMA user_version` is the
// number of migrations applied; opening a file applies the missing ones in order, each in its
// own transaction together with the version bump, so a crash between two leaves the file at a
// version it fully has. A migration, once released, is never edited: a change is a new one.

#include <string>
#include <vector>

#include "coordinator/sqlite.h"

namespace lowbit::coordinator {

struct Migration {
  int version;      // user_version after it runs: 1, 2, ...
  std::string sql;  // statements without parameters
};

const std::vector<Migration>& migrations();

// Applies what `db` lacks. Throws SqliteError when the file is newer than this program (its
// user_version is past the last migration known here): an older coordinator must not write to
// a schema it does not understand.
void migrate(Database& db);

int latest_schema_version();

}  // namespace lowbit::coordinator
