#pragma once
// Subcommand registration. A subcommand stores its exit code with
// set_exit_code(); main returns it. Exit codes are the CLI contract.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace lowbit::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRegression = 3;

// Bad input found after CLI11 has parsed the flags (a file that is not a sweep, flags that
// exclude each other): the message names the flag or file and the reason, and the command exits
// with kExitUsage. A std::invalid_argument, so one catch also takes the parsers' own errors.
struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// argv is kept for commands that re-execute the process (--max-isa).
void add_eval_command(CLI::App& app, char** argv);
void add_coordinator_command(CLI::App& app);
void add_worker_command(CLI::App& app, char** argv);
void add_run_command(CLI::App& app);
void add_submit_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_cancel_command(CLI::App& app);
void add_results_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_regressions_command(CLI::App& app);

// GET /api/v1/sweeps/{id}/regressions with the options given (absent: the coordinator's
// defaults).
std::string regressions_path(std::int64_t sweep, std::optional<std::int64_t> baseline,
                             std::optional<double> alpha = {},
                             std::optional<double> min_effect = {},
                             std::optional<double> min_drop = {});

void set_exit_code(int code);
int exit_code();

}  // namespace lowbit::cli
