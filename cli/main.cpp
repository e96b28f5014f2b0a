// The `lowbit` executable. Each subcommand lives in its own file and registers
// itself here; this file only dispatches and maps errors to exit codes.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"lowbit: benchmark and evaluate compressed models and low-precision kernels"};
  app.require_subcommand(1);
  lowbit::cli::add_eval_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 returns 0 for --help and its own non-zero codes otherwise;
    // the contract says bad usage is exit 2.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : lowbit::cli::kExitUsage;
  }
  return lowbit::cli::exit_code();
}
