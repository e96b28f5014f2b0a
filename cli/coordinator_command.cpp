// `lowbit coordinator`: the HTTP API over a SQLite file. Argument parsing and start-up only; the
// server is coordinator/http_server.h. The bound URL is the first line on stderr
// (docs/coordinator.md "`lowbit coordinator`"), so scripts and tests can start it on port 0 and
// read where it listens.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/serve_options.h"
#include "coordinator/http_server.h"
#include "coordinator/scheduler.h"
#include "coordinator/store.h"

namespace lowbit::cli {

namespace {

struct CoordinatorOptions {
  std::string listen = "127.0.0.1:8080";
  std::string db = "lowbit.db";
  std::string token_file;
  double lease_ttl_s = 30;
  int max_attempts = 3;
  double job_timeout_s = 3600;
  bool durable = false;
  std::int64_t max_grid = protocol::kDefaultMaxGridPoints;
  int threads = 1;
};

coordinator::TimeMs to_ms(double seconds) {
  return static_cast<coordinator::TimeMs>(std::llround(seconds * 1000.0));
}

void run_coordinator(const CoordinatorOptions& o) {
  const auto [host, port] = parse_listen(o.listen);
  coordinator::http_api::ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.threads = o.threads;
  server_options.handle_signals = true;
  if (!o.token_file.empty()) {
    try {
      server_options.auth =
          coordinator::http_api::AuthPolicy(coordinator::http_api::TokenTable::load(o.token_file));
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
  }
  coordinator::SchedulerOptions scheduler_options;
  scheduler_options.lease_ttl_ms = to_ms(o.lease_ttl_s);
  scheduler_options.max_attempts = o.max_attempts;
  scheduler_options.job_timeout_ms = to_ms(o.job_timeout_s);
  scheduler_options.max_grid_points = o.max_grid;
  server_options.reap_interval = reap_interval(scheduler_options.lease_ttl_ms);

  coordinator::Store store(o.db, {.durable = o.durable});
  coordinator::Scheduler scheduler(store, scheduler_options);
  coordinator::http_api::Server server({store, scheduler}, server_options);
  // First line on stderr, before any log line: the contract scripts read.
  std::cerr << server.url() << std::endl;
  spdlog::info("coordinator on {} with {} (schema version {}, synchronous={})", server.url(), o.db,
               store.schema_version(), o.durable ? "FULL" : "NORMAL");
  if (!server_options.auth.has_tokens()) {
    spdlog::warn("no --token-file: only loopback clients are accepted, without tokens");
  }
  server.run();
  spdlog::info("coordinator stopped");
}

}  // namespace

void add_coordinator_command(CLI::App& app) {
  auto options = std::make_shared<CoordinatorOptions>();
  CLI::App* cmd = app.add_subcommand(
      "coordinator", "serve the HTTP API: accept sweeps, lease jobs to workers, keep results");
  cmd->add_option("--listen", options->listen, "HOST:PORT to listen on; port 0 picks a free one")
      ->capture_default_str();
  cmd->add_option("--db", options->db, "SQLite file (created when missing)")->capture_default_str();
  cmd->add_option("--token-file", options->token_file,
                  "lines ROLE TOKEN (roles submit, worker); without it only loopback clients")
      ->check(CLI::ExistingFile);
  cmd->add_option("--lease-ttl", options->lease_ttl_s, "seconds a lease lasts without a heartbeat")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  cmd->add_option("--max-attempts", options->max_attempts, "attempts per job before it fails")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--job-timeout", options->job_timeout_s,
                  "seconds a job may run, heartbeats or not")
      ->check(CLI::Range(0.01, 30.0 * 86400.0))
      ->capture_default_str();
  cmd->add_flag("--durable", options->durable,
                "synchronous=FULL: survive a power cut, at an fsync per commit");
  cmd->add_option("--max-grid", options->max_grid, "largest sweep grid accepted, in points")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}))
      ->capture_default_str();
  cmd->add_option("--threads", options->threads, "network threads (the database has its own)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->callback([options] {
    try {
      run_coordinator(*options);
      set_exit_code(kExitOk);
    } catch (const std::invalid_argument& e) {  // UsageError, and --listen's errors
      std::cerr << "lowbit coordinator: " << e.what() << "\n";
      set_exit_code(kExitUsage);
    }
  });
}

}  // namespace lowbit::cli
