// The real `lowbit coordinator` process: it prints its bound URL first on stderr, serves, stops
// cleanly on SIGTERM, continues from its file when started again, and refuses bad flags with
// exit 2 and a message naming the flag.

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/coordinator/http_fixture.h"

namespace {

using lowbit::testing::gemm_sweep;
using lowbit::testing::HttpClient;
using lowbit::testing::run_command;
using lowbit::testing::TempDir;

const std::string kLowbit = LOWBIT_BINARY;

// A child `lowbit coordinator` whose stderr we read: the first line is its URL.
class CoordinatorProcess {
 public:
  explicit CoordinatorProcess(std::vector<std::string> args) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(kLowbit.c_str()));
      argv.push_back(const_cast<char*>("coordinator"));
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(kLowbit.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    err_ = ::fdopen(fds[0], "r");
    char line[512] = {};
    REQUIRE(std::fgets(line, sizeof line, err_) != nullptr);
    first_line_ = line;
  }
  ~CoordinatorProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_) std::fclose(err_);
  }

  const std::string& first_line() const { return first_line_; }
  std::uint16_t port() const {
    return static_cast<std::uint16_t>(std::stoi(first_line_.substr(first_line_.rfind(':') + 1)));
  }
  // SIGTERM, then the exit code and the rest of stderr.
  std::pair<int, std::string> terminate() {
    ::kill(pid_, SIGTERM);
    std::string rest;
    char line[512];
    while (std::fgets(line, sizeof line, err_)) rest += line;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), rest};
  }

 private:
  pid_t pid_ = -1;
  FILE* err_ = nullptr;
  std::string first_line_;
};

TEST_CASE("lowbit coordinator: URL first on stderr, serves, stops on SIGTERM, resumes its file") {
  TempDir dir("lowbit-coordinator-process");
  const std::string db = dir.path() + "/c.db";
  std::int64_t sweep = 0;
  {
    CoordinatorProcess process({"--listen", "127.0.0.1:0", "--db", db, "--lease-ttl", "0.5"});
    CHECK(process.first_line().starts_with("http://127.0.0.1:"));
    HttpClient client(process.port());
    CHECK(client.get("/healthz").status == 200);
    const auto reply = client.post("/api/v1/sweeps", gemm_sweep("process", 2));
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
    sweep = reply.json().at("id").get<std::int64_t>();
    const auto [code, err] = process.terminate();
    CHECK(code == 0);
    CHECK(err.find("only loopback clients") != std::string::npos);
  }
  CoordinatorProcess again({"--listen", "127.0.0.1:0", "--db", db});
  HttpClient client(again.port());
  const auto status = client.get("/api/v1/sweeps/" + std::to_string(sweep));
  REQUIRE(status.status == 200);
  CHECK(status.json().at("counts").at("queued") == 2);
  CHECK(again.terminate().first == 0);
}

TEST_CASE("lowbit coordinator: bad flags exit 2 naming the flag") {
  TempDir dir("lowbit-coordinator-flags");
  const std::string db = " --db " + dir.path() + "/c.db";
  struct Case {
    std::string flags;
    std::string named;
  };
  for (const Case& c : std::vector<Case>{
           {"--listen nowhere", "--listen"},
           {"--listen 127.0.0.1:99999", "--listen"},
           {"--listen example.org:80", "--listen"},
           {"--lease-ttl abc", "--lease-ttl"},
           {"--lease-ttl 0", "--lease-ttl"},
           {"--max-attempts 0", "--max-attempts"},
           {"--job-timeout -1", "--job-timeout"},
           {"--max-grid 0", "--max-grid"},
           {"--token-file /nonexistent/tokens", "--token-file"},
           {"--bogus", "--bogus"},
       }) {
    CAPTURE(c.flags);
    const auto r = run_command(kLowbit + " coordinator " + c.flags + db);
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.err.find(c.named) != std::string::npos, r.err);
  }
  // A token file with a bad line is refused before anything listens.
  { std::ofstream(dir.path() + "/tokens") << "admin x\n"; }
  const auto r = run_command(kLowbit + " coordinator --token-file " + dir.path() + "/tokens" + db);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown role") != std::string::npos);
}

}  // namespace
