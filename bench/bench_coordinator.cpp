// The coordinator's worker protocol under load: simulated workers (HTTP clients on loopback, no
// kernels) lease trivial GEMM jobs and post results until every job is done, against an
// in-process server with a real SQLite file. Reports lease+result round trips per second, and
// checks the answer: every job done exactly once (each lease's result accepted once, no job
// leased after it was done, the store's results table holding one row per job).
// Bar (issue 6): 64 workers, 20,000 jobs, ≥ 2,000 round trips/s on 2 cores.
// Run: build/bench/bench_coordinator [workers=64] [jobs=20000] [sweeps=4] [network_threads=1]
#include <sys/sysinfo.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/http_server.h"
#include "coordinator/scheduler.h"
#include "coordinator/sqlite.h"
#include "coordinator/store.h"
#include "protocol/target.h"

namespace {

using namespace lowbit;
namespace http = coordinator::http_api::http;
namespace net = coordinator::http_api::net;
namespace beast = coordinator::http_api::beast;
using nlohmann::json;

protocol::Target bench_target() {
  protocol::Target t;
  t.cpu = "simulated";
  t.isa_flags = {"avx2", "fma"};
  t.isa_effective = "avx2";
  t.isa_cap = "native";
  t.threads = 1;
  t.num_cpus = 2;
  t.memory_bytes = std::int64_t{8} << 30;
  t.os = "Linux";
  t.label = protocol::make_target_label(t);
  t.id = protocol::compute_target_id(t);
  return t;
}

class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(ioc_) {
    stream_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  std::pair<int, json> post(const std::string& target, const json& body) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    return {static_cast<int>(res.result_int()),
            res.body().empty() ? json() : json::parse(res.body())};
  }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

double load_average() {
  double loads[3] = {0, 0, 0};
  return ::getloadavg(loads, 3) > 0 ? loads[0] : -1;
}

struct Settings {
  int workers = 64;
  int jobs = 20000;
  int sweeps = 4;
  int network_threads = 1;
};

// Submits `jobs` trivial GEMM jobs in `sweeps` sweeps over HTTP; false (with a message) when the
// coordinator refuses one.
bool submit_sweeps(std::uint16_t port, const Settings& settings) {
  Client admin(port);
  const auto submit_start = std::chrono::steady_clock::now();
  for (int s = 0; s < settings.sweeps; ++s) {
    const int count =
        settings.jobs / settings.sweeps + (s < settings.jobs % settings.sweeps ? 1 : 0);
    json shapes = json::array();
    for (int i = 1; i <= count; ++i) shapes.push_back({{"m", i}, {"k", s + 1}, {"n", 1}});
    const json sweep = {{"name", "bench-" + std::to_string(s)},
                        {"workload", {{"kind", "gemm"}, {"shapes", shapes}}},
                        {"axes", {{"bits", {32}}, {"precision", {"fp32"}}}}};
    const auto [status, receipt] = admin.post("/api/v1/sweeps", sweep);
    if (status != 201 || receipt.at("jobs") != count) {
      std::fprintf(stderr, "submit failed: %d %s\n", status, receipt.dump().c_str());
      return false;
    }
  }
  const double submit_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - submit_start).count();
  std::printf("submit: %d jobs validated, expanded and stored over HTTP in %.3f s\n", settings.jobs,
              submit_s);
  return true;
}

// What the simulated workers saw, shared between their threads.
struct Tally {
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::atomic<int> duplicates{0};
  std::mutex seen_mutex;
  std::multiset<std::int64_t> seen_jobs;  // every job a client completed, as it saw it
};

// One simulated worker: registers, waits for `ready`, then leases and posts a result until every
// job has been accepted.
void simulate_worker(int w, std::uint16_t port, const json& target, int jobs,
                     const std::atomic<bool>& ready, Tally& tally) {
  Client client(port);
  const auto [rs, registered] =
      client.post("/api/v1/workers", {{"name", "bench-" + std::to_string(w)}, {"target", target}});
  if (rs != 200) {
    ++tally.refused;
    return;
  }
  const std::int64_t id = registered.at("id").get<std::int64_t>();
  while (!ready.load()) std::this_thread::yield();
  std::vector<std::int64_t> mine;
  for (;;) {
    const auto [ls, job] = client.post("/api/v1/leases", {{"worker_id", id}, {"wait_s", 0}});
    if (ls == 204) {
      if (tally.accepted.load() >= jobs) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (ls != 200) {
      ++tally.refused;
      break;
    }
    const std::int64_t lease = job.at("lease").at("id").get<std::int64_t>();
    const json result = {
        {"config", job.at("config")}, {"config_hash", job.at("config_hash")}, {"status", "passed"}};
    const auto [ps, ack] = client.post("/api/v1/leases/" + std::to_string(lease) + "/result",
                                       {{"worker_id", id}, {"result", result}});
    if (ps != 200) {
      ++tally.refused;
      continue;
    }
    if (ack.at("duplicate").get<bool>()) ++tally.duplicates;
    mine.push_back(job.at("id").get<std::int64_t>());
    ++tally.accepted;
  }
  const std::lock_guard lock(tally.seen_mutex);
  tally.seen_jobs.insert(mine.begin(), mine.end());
}

// Starts every worker, releases them at once, and returns the seconds until the last finished.
double run_workers(std::uint16_t port, const Settings& settings, Tally& tally) {
  std::atomic<bool> ready{false};
  const json target = bench_target();
  std::vector<std::thread> threads;
  for (int w = 0; w < settings.workers; ++w) {
    threads.emplace_back([&, w] { simulate_worker(w, port, target, settings.jobs, ready, tally); });
  }
  const auto start = std::chrono::steady_clock::now();
  ready = true;
  for (std::thread& t : threads) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The answer, from the store itself (the server has stopped): true when every job was done
// exactly once.
bool check_exactly_once(const std::string& db, const Settings& settings, Tally& tally,
                        double seconds) {
  const int jobs = settings.jobs;
  coordinator::Database reader(db);
  const std::int64_t done = reader.scalar("SELECT count(*) FROM jobs WHERE state = 'done'");
  const std::int64_t result_rows = reader.scalar("SELECT count(*) FROM results");
  const std::int64_t distinct_result_jobs =
      reader.scalar("SELECT count(DISTINCT job_id) FROM results");
  const std::set<std::int64_t> distinct(tally.seen_jobs.begin(), tally.seen_jobs.end());

  std::printf("run: %d results accepted in %.3f s: %.0f lease+result round trips/s\n",
              tally.accepted.load(), seconds, tally.accepted.load() / seconds);
  std::printf(
      "check: jobs done %lld/%d, result rows %lld (distinct jobs %lld), jobs completed "
      "by clients %zu (distinct %zu), duplicates %d, refused %d\n",
      static_cast<long long>(done), jobs, static_cast<long long>(result_rows),
      static_cast<long long>(distinct_result_jobs), tally.seen_jobs.size(), distinct.size(),
      tally.duplicates.load(), tally.refused.load());
  std::printf("load average %.2f at end\n", load_average());
  const bool exactly_once = done == jobs && result_rows == jobs && distinct_result_jobs == jobs &&
                            tally.seen_jobs.size() == static_cast<std::size_t>(jobs) &&
                            distinct.size() == static_cast<std::size_t>(jobs) &&
                            tally.duplicates == 0 && tally.refused == 0;
  std::printf("every job done exactly once: %s\n", exactly_once ? "yes" : "NO");
  std::printf("bar (>= 2000 round trips/s): %s\n",
              tally.accepted.load() / seconds >= 2000 ? "met" : "NOT met");
  return exactly_once;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (argc > 1) settings.workers = std::atoi(argv[1]);
  if (argc > 2) settings.jobs = std::atoi(argv[2]);
  if (argc > 3) settings.sweeps = std::atoi(argv[3]);
  if (argc > 4) settings.network_threads = std::atoi(argv[4]);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lowbit-bench-coordinator-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "bench.db").string();

  std::printf("host: %ld CPUs online, load average %.2f at start\n",
              ::sysconf(_SC_NPROCESSORS_ONLN), load_average());
  std::printf(
      "setup: %d workers, %d jobs in %d gemm sweeps, %d network thread(s), SQLite WAL "
      "synchronous=NORMAL at %s\n",
      settings.workers, settings.jobs, settings.sweeps, settings.network_threads, db.c_str());

  int exit_code = 0;
  {
    coordinator::Store store(db);
    coordinator::Scheduler scheduler(store, {});
    coordinator::http_api::ServerOptions options;
    options.port = 0;
    options.threads = settings.network_threads;
    coordinator::http_api::Server server({store, scheduler}, options);
    server.start();
    if (!submit_sweeps(server.port(), settings)) return 1;
    Tally tally;
    const double seconds = run_workers(server.port(), settings, tally);
    server.stop();
    if (!check_exactly_once(db, settings, tally, seconds)) exit_code = 1;
  }
  std::filesystem::remove_all(dir);
  return exit_code;
}
