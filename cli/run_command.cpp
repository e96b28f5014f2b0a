// `lowbit run SWEEP.json`: the embedded default. A coordinator on loopback with a SQLite file,
// N local worker processes, a progress bar on stderr, then the results table and the
// accuracy/latency Pareto front on stdout (or one JSON document with --json); then it keeps
// serving the API until Ctrl-C unless --no-serve. The sweep goes in over HTTP like any other
// client's, so it meets exactly the validation a remote submission meets.
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/local_workers.h"
#include "cli/progress_bar.h"
#include "cli/results_table.h"
#include "cli/serve_options.h"
#include "coordinator/http_server.h"
#include "coordinator/scheduler.h"
#include "coordinator/store.h"
#include "protocol/pareto.h"
#include "worker/backoff.h"
#include "worker/coordinator_client.h"
#include "worker/eval_inputs.h"
#include "worker/isa_cap.h"

namespace lowbit::cli {
namespace {

struct RunOptions {
  std::string sweep_file;
  int workers = 2;
  std::string db = "lowbit.db";
  std::string listen;  // default 127.0.0.1:8080, or port 0 with --no-serve
  bool no_serve = false;
  bool json = false;
  double lease_ttl_s = 30;
  int max_attempts = 3;
  double job_timeout_s = 3600;
  int worker_threads = 1;
  std::vector<std::string> worker_isa{"native"};
  std::string data_dir = worker::default_data_dir().string();
  std::string cache_dir;
};

nlohmann::json read_sweep_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("{}: cannot read the sweep file", path));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw UsageError(fmt::format("{}: not JSON: {}", path, e.what()));
  }
}

// SIGINT/SIGTERM, received by one thread: the run's main loop and the serve phase poll it.
std::atomic<bool>& interrupted() {
  static std::atomic<bool> flag{false};
  return flag;
}

void watch_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    int received = 0;
    sigwait(&signals, &received);
    interrupted() = true;
  }).detach();
}

std::vector<LocalWorkerSpec> worker_specs(const RunOptions& o, const std::string& url) {
  std::vector<LocalWorkerSpec> specs;
  for (int i = 0; i < o.workers; ++i) {
    const std::string& isa = o.worker_isa[static_cast<std::size_t>(i) % o.worker_isa.size()];
    LocalWorkerSpec s;
    s.args = {"--coordinator", url,        "--name",       fmt::format("run-w{}-{}", i + 1, isa),
              "--max-isa",     isa,        "--threads",    std::to_string(o.worker_threads),
              "--data",        o.data_dir, "--lease-wait", "1",
              "--backoff-max", "1"};
    if (!o.cache_dir.empty()) s.args.insert(s.args.end(), {"--cache", o.cache_dir});
    s.log_path = fmt::format("{}.worker-{}.log", o.db, i + 1);
    specs.push_back(std::move(s));
  }
  return specs;
}

long count(const nlohmann::json& status, const char* state) {
  return status.at("counts").value(state, 0L);
}

void check_worker_isa(const RunOptions& o) {
  const auto names = worker::isa_cap_names();
  for (const std::string& isa : o.worker_isa) {
    if (std::find(names.begin(), names.end(), isa) == names.end()) {
      throw UsageError(fmt::format("--worker-isa: unknown ISA cap \"{}\"", isa));
    }
  }
}

// The coordinator `run` embeds: store, scheduler and HTTP server on the --listen address,
// serving from construction on.
struct EmbeddedCoordinator {
  EmbeddedCoordinator(const RunOptions& o, const std::string& host, std::uint16_t port)
      : store(o.db),
        scheduler(store, scheduler_options(o)),
        server({store, scheduler}, server_options(host, port, o)) {
    std::cerr << server.url() << std::endl;  // the contract: the bound URL first on stderr
    server.start();
  }

  static coordinator::SchedulerOptions scheduler_options(const RunOptions& o) {
    coordinator::SchedulerOptions options;
    options.lease_ttl_ms = static_cast<coordinator::TimeMs>(o.lease_ttl_s * 1000);
    options.max_attempts = o.max_attempts;
    options.job_timeout_ms = static_cast<coordinator::TimeMs>(o.job_timeout_s * 1000);
    return options;
  }

  static coordinator::http_api::ServerOptions server_options(const std::string& host,
                                                             std::uint16_t port,
                                                             const RunOptions& o) {
    coordinator::http_api::ServerOptions options;
    options.host = host;
    options.port = port;
    options.reap_interval = reap_interval(scheduler_options(o).lease_ttl_ms);
    return options;
  }

  coordinator::Store store;
  coordinator::Scheduler scheduler;
  coordinator::http_api::Server server;
};

// Runs local workers until the sweep is over (or Ctrl-C), drawing the progress bar; returns the
// sweep's last status.
nlohmann::json wait_for_sweep(const RunOptions& o, worker::CoordinatorClient& client,
                              const std::string& url, std::int64_t id) {
  nlohmann::json status;
  LocalWorkers workers(worker_specs(o, url));
  ProgressBar progress(std::cerr, ::isatty(STDERR_FILENO) == 1);
  for (;;) {
    status = client.get(fmt::format("/api/v1/sweeps/{}", id));
    const long failed = count(status, "failed") + count(status, "cancelled");
    std::string note;
    if (!status.at("waiting").empty()) note = status.at("waiting").dump();
    progress.update(count(status, "done") + failed, status.at("jobs").get<long>(), failed, note);
    if (status.at("state") != "running" || interrupted().load()) break;
    workers.restart_exited();
    worker::sleep_unless_stopped(0.2, interrupted());
  }
  progress.finish();
  workers.stop();
  return status;
}

// The results table and Pareto fronts, or with --json the whole outcome as one document.
void print_outcome(const RunOptions& o, worker::CoordinatorClient& client, std::int64_t id,
                   const nlohmann::json& status, const nlohmann::json& submitted) {
  const nlohmann::json results_doc =
      client.get(fmt::format("/api/v1/sweeps/{}/results?format=json", id));
  std::vector<protocol::Result> results;
  for (const nlohmann::json& r : results_doc.at("results"))
    results.push_back(r.get<protocol::Result>());
  const std::vector<protocol::ParetoFront> fronts = protocol::pareto_fronts(results);
  if (o.json) {
    std::cout << nlohmann::json{{"id", id},
                                {"counts", status.at("counts")},
                                {"results", results_doc.at("results")},
                                {"pareto", fronts},
                                {"skipped", submitted.at("skipped")}}
                     .dump(2)
              << std::endl;
    return;
  }
  print_results_table(std::cout, results);
  print_pareto_fronts(std::cout, fronts);
  for (const nlohmann::json& f : status.at("failures")) {
    std::cout << fmt::format("failed: job {}: {}\n", f.at("job").get<long>(),
                             f.at("error").get<std::string>());
  }
  std::cout << std::flush;
}

int run(const RunOptions& o) {
  const nlohmann::json sweep = read_sweep_file(o.sweep_file);
  check_worker_isa(o);
  const auto [host, port] =
      parse_listen(o.listen.empty() ? (o.no_serve ? "127.0.0.1:0" : "127.0.0.1:8080") : o.listen);
  watch_signals();  // before any thread starts, so that every thread inherits the blocked set
  EmbeddedCoordinator embedded(o, host, port);
  const std::string url = embedded.server.url();

  worker::CoordinatorClient client(url, "");
  nlohmann::json submitted;
  try {
    submitted = client.post("/api/v1/sweeps", sweep);
  } catch (const worker::ApiError& e) {
    throw UsageError(fmt::format("{}: {}", o.sweep_file, e.what()));
  }
  const std::int64_t id = submitted.at("id").get<std::int64_t>();
  spdlog::info("sweep {}: {} jobs, {} grid points skipped; {} workers, logs {}.worker-N.log", id,
               submitted.at("jobs").get<long>(), submitted.at("skipped").size(), o.workers, o.db);

  const nlohmann::json status = wait_for_sweep(o, client, url, id);
  if (interrupted().load()) {
    spdlog::warn("interrupted: sweep {} stays in {} for a later coordinator", id, o.db);
    embedded.server.stop();
    return kExitFailed;
  }
  print_outcome(o, client, id, status, submitted);
  const bool complete = count(status, "failed") == 0 && count(status, "cancelled") == 0;
  if (!o.no_serve) {
    spdlog::info("serving the API on {} until Ctrl-C", url);
    while (!interrupted().load()) worker::sleep_unless_stopped(3600, interrupted());
  }
  embedded.server.stop();
  return complete ? kExitOk : kExitFailed;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  RunOptions& o = *options;
  auto* cmd = app.add_subcommand(
      "run", "run a sweep here: a coordinator, local workers, a results table and Pareto front");
  cmd->add_option("sweep", o.sweep_file, "the sweep file (schemas/sweep.schema.json)")->required();
  cmd->add_option("--workers", o.workers, "local worker processes")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--db", o.db, "SQLite file of the coordinator (created when missing)")
      ->capture_default_str();
  cmd->add_option("--listen", o.listen,
                  "HOST:PORT of the API (default 127.0.0.1:8080; port 0 with --no-serve)");
  cmd->add_flag("--no-serve", o.no_serve, "exit when the sweep is done instead of serving the API");
  cmd->add_flag("--json", o.json, "print {id, counts, results, pareto, skipped} on stdout");
  cmd->add_option("--lease-ttl", o.lease_ttl_s, "seconds a lease lasts without a heartbeat")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 86400.0));
  cmd->add_option("--max-attempts", o.max_attempts, "attempts per job before it fails")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--job-timeout", o.job_timeout_s, "seconds a job may run")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 30.0 * 86400.0));
  cmd->add_option("--worker-threads", o.worker_threads, "compute threads of each worker")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--worker-isa", o.worker_isa,
                  "ISA caps of the workers, assigned in turn (e.g. native,avx2)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--data", o.data_dir, "folder with the Fashion-MNIST IDX files")
      ->capture_default_str();
  cmd->add_option("--cache", o.cache_dir,
                  "model cache of the workers (default $XDG_CACHE_HOME/lowbit or ~/.cache/lowbit)");
  cmd->callback([options] {
    try {
      set_exit_code(run(*options));
    } catch (const std::invalid_argument& e) {  // UsageError, and --listen's errors
      std::cerr << "lowbit run: " << e.what() << "\n";
      set_exit_code(kExitUsage);
    }
  });
}

}  // namespace lowbit::cli
