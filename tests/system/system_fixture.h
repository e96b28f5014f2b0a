#pragma once
// Real processes for the whole-run tests: `lowbit coordinator` and `lowbit worker` started as a
// user starts them, each logging to its own file, killed with real signals; an HTTP client for
// the coordinator's API. Short TTLs and small measurements come from flags, never long sleeps:
// every wait polls for the state it needs, with a deadline.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"
#include "worker/coordinator_client.h"

namespace lowbit::testing {

inline const std::string kLowbit = LOWBIT_BINARY;

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Polls `done` every 20 ms until it holds or `seconds` pass; false on timeout.
inline bool wait_until(const std::function<bool()>& done, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// A `lowbit SUBCOMMAND ARGS...` child with stdout and stderr in `log`.
class Process {
 public:
  Process(const std::string& subcommand, std::vector<std::string> args, std::string log)
      : log_(std::move(log)) {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    REQUIRE(fd >= 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv{const_cast<char*>(kLowbit.c_str()),
                              const_cast<char*>(subcommand.c_str())};
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(kLowbit.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fd);
  }
  ~Process() { kill(SIGKILL); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Sends `sig` and reaps the process; returns its exit status as waitpid gives it.
  int kill(int sig) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  // Reaps the process if it has exited, so a later kill() never signals a reused pid.
  bool running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }
  std::string log() const { return read_text(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

// `lowbit coordinator` on loopback; its URL is the first line of its log.
class Coordinator {
 public:
  Coordinator(const std::string& dir, std::vector<std::string> extra,
              const std::string& listen = "127.0.0.1:0")
      : db_(dir + "/lowbit.db") {
    std::vector<std::string> args{"--listen", listen, "--db", db_};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string log = dir + "/coordinator.log";
    const std::size_t before = read_text(log).size();
    process_ = std::make_unique<Process>("coordinator", args, log);
    REQUIRE(wait_until([&] { return read_text(log).find('\n', before) != std::string::npos; }, 10));
    const std::string text = read_text(log).substr(before);
    url_ = text.substr(0, text.find('\n'));
    REQUIRE(url_.starts_with("http://"));
  }
  const std::string& url() const { return url_; }
  const std::string& db() const { return db_; }
  std::string listen() const { return url_.substr(7); }
  Process& process() { return *process_; }

 private:
  std::string db_;
  std::string url_;
  std::unique_ptr<Process> process_;
};

// A worker of the coordinator at `url`, with fast reconnects and short long-polls. Each has a
// measurement lock of its own: a SIGSTOPped worker keeps its flock, and the tests stop workers
// mid-measurement on purpose.
inline std::unique_ptr<Process> start_worker(const std::string& dir, const std::string& url,
                                             const std::string& name, const std::string& cache,
                                             std::vector<std::string> extra = {}) {
  std::vector<std::string> args{
      "--coordinator", url,   "--name",        name,  "--cache",        cache,
      "--lease-wait",  "0.5", "--backoff-max", "0.2", "--measure-lock", dir + "/" + name + ".lock"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<Process>("worker", args, dir + "/" + name + ".log");
}

inline nlohmann::json sweep_status(worker::CoordinatorClient& client, std::int64_t id) {
  return client.get("/api/v1/sweeps/" + std::to_string(id));
}

inline bool sweep_finished(worker::CoordinatorClient& client, std::int64_t id) {
  try {
    return sweep_status(client, id).at("state") != "running";
  } catch (const worker::Unreachable&) {
    return false;
  }
}

// A GEMM sweep of `shapes` × {fp32, fp16, int8, fixed} × bits {32, 8}: 6 jobs a shape, no
// training; min_time_ms sets how long each job measures.
inline nlohmann::json gemm_sweep(int shapes, double min_time_ms, nlohmann::json targets = "any") {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < shapes; ++i) list.push_back({{"m", 2 + i}, {"k", 16}, {"n", 8}});
  return {{"name", "system"},
          {"workload", {{"kind", "gemm"}, {"shapes", list}}},
          {"axes", {{"bits", {32, 8}}, {"precision", {"fp32", "fp16", "int8", "fixed"}}}},
          {"measurement", {{"repetitions", 2}, {"min_time_ms", min_time_ms}, {"warmup_ms", 0}}},
          {"targets", targets}};
}

}  // namespace lowbit::testing
