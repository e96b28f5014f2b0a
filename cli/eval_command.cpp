#include "cli/commands.h"

namespace lowbit::cli {

void add_eval_command(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "train or load a model, evaluate it, print one result");
  eval->callback([] { set_exit_code(kExitFailed); });
}

}  // namespace lowbit::cli
