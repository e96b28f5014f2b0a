#include "cli/local_workers.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace lowbit::cli {

LocalWorkers::LocalWorkers(std::vector<LocalWorkerSpec> specs)
    : specs_(std::move(specs)), pids_(specs_.size(), -1) {
  for (std::size_t i = 0; i < specs_.size(); ++i) start(i);
}

LocalWorkers::~LocalWorkers() { stop(); }

void LocalWorkers::start(std::size_t i) {
  std::vector<std::string> argv_text{"lowbit", "worker"};
  argv_text.insert(argv_text.end(), specs_[i].args.begin(), specs_[i].args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log =
      ::open(specs_[i].log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open worker log " + specs_[i].log_path);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    throw std::runtime_error("fork failed: cannot start a worker");
  }
  if (pid == 0) {
    // The child: default signal handling and mask (the parent blocks SIGINT/SIGTERM for its
    // own signal thread), its log as stdout and stderr, then this executable as a worker.
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    // A worker must not outlive its `lowbit run` (killed by a CI timeout, say) and retry a dead
    // coordinator forever.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() == 1) ::_exit(1);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  ::close(log);
  pids_[i] = pid;
  spdlog::debug("worker {} started (pid {}), log {}", i + 1, pid, specs_[i].log_path);
}

int LocalWorkers::restart_exited() {
  int restarted = 0;
  for (std::size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] <= 0) continue;
    int status = 0;
    if (const pid_t pid = pids_[i]; ::waitpid(pid, &status, WNOHANG) == pid) {
      pids_[i] = -1;
      if (++restarts_[i] > kMaxRestarts) {
        spdlog::error("worker {} exited {} times; not starting it again (log {})", i + 1,
                      restarts_[i], specs_[i].log_path);
        continue;
      }
      spdlog::warn("worker {} (pid {}) exited ({}); starting it again, log {}", i + 1, pid,
                   WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                       : "status " + std::to_string(WEXITSTATUS(status)),
                   specs_[i].log_path);
      start(i);
      ++restarted;
    }
  }
  return restarted;
}

void LocalWorkers::stop(double grace_s) {
  for (pid_t pid : pids_) {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  for (pid_t& pid : pids_) {
    if (pid <= 0) continue;
    for (;;) {
      if (::waitpid(pid, nullptr, WNOHANG) != 0) break;  // exited (or not ours any more)
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid = -1;
  }
}

}  // namespace lowbit::cli
