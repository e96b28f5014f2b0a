#pragma once
// The worker processes `lowbit run` starts on this host: each is this same
// executable as `lowbit worker`, with its log in a file of its own. A worker
// that dies is started again (up to a limit), so a run finishes even when one crashes.

#include <sys/types.h>

#include <string>
#include <vector>

namespace lowbit::cli {

struct LocalWorkerSpec {
  std::vector<std::string> args;  // after "lowbit worker"
  std::string log_path;
};

class LocalWorkers {
 public:
  explicit LocalWorkers(std::vector<LocalWorkerSpec> specs);
  ~LocalWorkers();  // stops them
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  // Starts again every worker that exited; returns how many.
  int restart_exited();
  // SIGTERM (they give their leases back), then wait; SIGKILL after `grace_s`.
  void stop(double grace_s = 5.0);

 private:
  void start(std::size_t i);
  std::vector<LocalWorkerSpec> specs_;
  std::vector<pid_t> pids_;
  std::vector<int> restarts_ = std::vector<int>(specs_.size(), 0);
  // A worker that keeps dying (a bad flag, an ISA cap the CPU lacks) is given up on rather than
  // restarted in a loop; a run that loses every worker stops making progress and says so.
  static constexpr int kMaxRestarts = 10;
};

}  // namespace lowbit::cli
