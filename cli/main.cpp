// The `lowbit` executable. Each subcommand lives in its own file and registers
// itself here; this file only sets up logging, dispatches and maps errors to
// exit codes (0 ok, 1 the work failed, 2 bad usage or input, 3 regression).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // Logs go to stderr so that `--json` output on stdout stays one document.
  spdlog::set_default_logger(spdlog::stderr_color_mt("lowbit"));
  spdlog::set_pattern("%^[%T %l]%$ %v");

  CLI::App app{"lowbit: benchmark and evaluate compressed models and low-precision kernels"};
  app.require_subcommand(1);
  lowbit::cli::add_eval_command(app, argv);
  lowbit::cli::add_coordinator_command(app);
  lowbit::cli::add_worker_command(app, argv);
  lowbit::cli::add_run_command(app);
  lowbit::cli::add_submit_command(app);
  lowbit::cli::add_status_command(app);
  lowbit::cli::add_cancel_command(app);
  lowbit::cli::add_results_command(app);
  lowbit::cli::add_compare_command(app);
  lowbit::cli::add_regressions_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 returns 0 for --help and its own codes otherwise; the contract
    // says bad usage is exit 2.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : lowbit::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "lowbit: " << e.what() << "\n";
    return lowbit::cli::kExitFailed;
  }
  return lowbit::cli::exit_code();
}
