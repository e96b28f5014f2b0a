// `lowbit worker`: argument parsing, the ISA cap and signals; the loop is worker/worker_loop.h.
// SIGINT and SIGTERM go to one thread (sigwait) that gives a running job's lease back to the
// coordinator, so the job is requeued at once instead of after its TTL, and then exits: a job
// in the middle of a kernel cannot be interrupted any sooner, and nothing of it is kept.
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "worker/coordinator_client.h"
#include "worker/eval_inputs.h"
#include "worker/isa_cap.h"
#include "worker/measure_lock.h"
#include "worker/worker_loop.h"

namespace lowbit::cli {
namespace {

struct WorkerCommandOptions {
  worker::WorkerOptions loop;
  std::string token_file;
  std::string max_isa = "native";
  std::string data_dir = worker::default_data_dir().string();
  std::string cache_dir;
  std::string measure_lock = worker::default_measure_lock_path().string();
  int threads = 1;
  std::string inject_slowdown;
};

void run(WorkerCommandOptions& o, char** argv) {
  try {
    worker::parse_coordinator_url(o.loop.coordinator_url);
    if (!o.token_file.empty()) o.loop.token = worker::read_token_file(o.token_file);
    worker::enter_isa_cap(o.max_isa, argv);  // may re-execute this process
    worker::verify_isa_cap(o.max_isa);
    if (!o.inject_slowdown.empty()) {
      try {
        o.loop.settings.injected_slowdown = worker::parse_injected_slowdown(o.inject_slowdown);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format("--inject-slowdown: {}", e.what()));
      }
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "lowbit worker: " << e.what() << "\n";
    set_exit_code(kExitUsage);
    return;
  } catch (const std::runtime_error& e) {
    std::cerr << "lowbit worker: --max-isa: " << e.what() << "\n";
    set_exit_code(kExitFailed);
    return;
  }
  worker::WorkerSettings& s = o.loop.settings;
  s.data_dir = o.data_dir;
  s.cache_dir =
      o.cache_dir.empty() ? worker::default_cache_dir() : std::filesystem::path(o.cache_dir);
  s.threads = o.threads;
  s.isa_cap = o.max_isa;
  if (o.measure_lock != "off") s.measure_lock = o.measure_lock;

  // Every thread started from here on inherits the blocked set; only the watcher receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto state = std::make_shared<worker::WorkerState>();
  std::thread([state, signals, options = o.loop] {
    int received = 0;
    sigwait(&signals, &received);
    state->stop = true;
    spdlog::info("{}: stopping", received == SIGTERM ? "SIGTERM" : "SIGINT");
    if (const std::int64_t lease = state->current_lease.load(); lease != 0) {
      worker::release_lease(options, state->worker_id.load(), lease);
    } else {
      // Idle, or a lease request in flight: the loop sees `stop` when it returns and hands
      // back any job it got. Wait for that (one long-poll at most), then leave regardless.
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::duration<double>(options.lease_wait_s + 12.0);
      while (std::chrono::steady_clock::now() < deadline) {
        if (const std::int64_t started = state->current_lease.load(); started != 0) {
          worker::release_lease(options, state->worker_id.load(),
                                started);  // it started one anyway
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    spdlog::default_logger()->flush();
    std::_Exit(
        kExitOk);  // the job thread holds no state worth unwinding; the kernel frees the rest
  }).detach();

  try {
    const int jobs = worker::run_worker(o.loop, *state);
    spdlog::info("{} job(s) run", jobs);
  } catch (const worker::ApiError& e) {
    std::cerr << "lowbit worker: the coordinator refused this worker (" << e.status
              << "): " << e.what() << "\n";
    set_exit_code(kExitUsage);
  }
}

}  // namespace

void add_worker_command(CLI::App& app, char** argv) {
  auto options = std::make_shared<WorkerCommandOptions>();
  WorkerCommandOptions& o = *options;
  o.loop.coordinator_url = worker::default_coordinator_url();
  auto* cmd = app.add_subcommand(
      "worker", "lease jobs from a coordinator that match this host, run them, report results");
  cmd->add_option("--coordinator", o.loop.coordinator_url,
                  "coordinator URL (default $LOWBIT_COORDINATOR or http://127.0.0.1:8080)")
      ->capture_default_str();
  cmd->add_option("--name", o.loop.name,
                  "worker name shown by the coordinator (default: chosen by it)");
  cmd->add_option("--max-isa", o.max_isa, "cap the ISA to stand in for an older target")
      ->capture_default_str()
      ->check(CLI::IsMember(worker::isa_cap_names()));
  cmd->add_option("--threads", o.threads, "compute threads (part of the target)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--token-file", o.token_file, "file holding this worker's token");
  cmd->add_option("--data", o.data_dir, "folder with the Fashion-MNIST IDX files")
      ->capture_default_str();
  cmd->add_option(
      "--cache", o.cache_dir,
      "model and peak cache folder (default $XDG_CACHE_HOME/lowbit or ~/.cache/lowbit)");
  cmd->add_option("--measure-lock", o.measure_lock, "host-wide lock held while timing; off: none")
      ->capture_default_str();
  cmd->add_option("--lease-wait", o.loop.lease_wait_s,
                  "seconds one lease request waits for a job (long-poll)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 300.0));
  cmd->add_option("--backoff-max", o.loop.backoff_max_s,
                  "longest wait between retries while the coordinator is unreachable, seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 600.0));
  cmd->add_option("--max-jobs", o.loop.max_jobs, "exit after this many jobs (0: run until stopped)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--inject-slowdown", o.inject_slowdown,
                  "F[:CONFIG_HASH]: make every timed call (of that configuration only) F × its "
                  "own time slower, to test regression detectors; results are marked injected");
  cmd->callback([options, argv] { run(*options, argv); });
}

}  // namespace lowbit::cli
