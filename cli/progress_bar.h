#pragma once
// One line of progress on stderr — jobs done of total, failures, ETA — redrawn
// in place on a terminal and printed as a plain line on change otherwise, so
// logs of a run in CI stay readable.

#include <chrono>
#include <ostream>
#include <string>

namespace lowbit::cli {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  // `finished` counts done, failed and cancelled jobs; `total` the sweep's jobs.
  void update(long finished, long total, long failed, const std::string& note = "");
  void finish();

  // "[#####.....] 12/39 jobs" and an ETA from the rate so far ("ETA 1m20s", "ETA ?" at 0).
  static std::string render(long finished, long total, long failed, double elapsed_s);

 private:
  std::ostream& out_;
  bool terminal_;
  std::string last_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace lowbit::cli
