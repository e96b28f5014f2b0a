#pragma once
// Runs a command line through /bin/sh and captures its exit code, stdout and
// stderr, for tests of the `lowbit` executable as a user runs it.

#include <filesystem>
#include <string>

namespace lowbit::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

ProcessResult run_command(const std::string& command);

// A fresh, empty folder under the system temp dir, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  const std::filesystem::path& folder() const { return folder_; }  // the same, as a path

 private:
  std::filesystem::path folder_;
  std::string path_;
};

}  // namespace lowbit::testing
