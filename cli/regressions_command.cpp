// `lowbit regressions SWEEP_ID [--baseline ID] [--alpha A] [--min-effect F] [--min-drop D]
// [--json]`: the sweep's series against its baseline; exit 3 when any regressed.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/regression_printer.h"
#include "cli/remote.h"

namespace lowbit::cli {
namespace {

struct RegressionsOptions {
  RemoteOptions remote;
  std::int64_t id = 0;
  std::optional<std::int64_t> baseline;
  std::optional<double> alpha;
  std::optional<double> min_effect;
  std::optional<double> min_drop;
  bool json = false;
};

}  // namespace

std::string regressions_path(std::int64_t sweep, std::optional<std::int64_t> baseline,
                             std::optional<double> alpha, std::optional<double> min_effect,
                             std::optional<double> min_drop) {
  std::string query;
  auto add = [&query](const char* name, const std::string& value) {
    query += fmt::format("{}{}={}", query.empty() ? "?" : "&", name, value);
  };
  if (baseline) add("baseline", std::to_string(*baseline));
  if (alpha) add("alpha", fmt::format("{}", *alpha));
  if (min_effect) add("min_effect", fmt::format("{}", *min_effect));
  if (min_drop) add("min_drop", fmt::format("{}", *min_drop));
  return fmt::format("/api/v1/sweeps/{}/regressions{}", sweep, query);
}

void add_regressions_command(CLI::App& app) {
  auto o = std::make_shared<RegressionsOptions>();
  auto* cmd = app.add_subcommand(
      "regressions", "the sweep's series against its baseline; exit 3 when any regressed");
  cmd->add_option("id", o->id, "sweep id")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--baseline", o->baseline,
                  "compare with this sweep (default: the latest earlier finished sweep of the "
                  "same name on the same branch, else on main)");
  cmd->add_option("--alpha", o->alpha, "false-discovery rate over every series (default 0.05)");
  cmd->add_option("--min-effect", o->min_effect,
                  "smallest relative latency change that counts (default 0.05)");
  cmd->add_option("--min-drop", o->min_drop, "smallest top-1 change that counts (default 0.002)");
  cmd->add_flag("--json", o->json, "print the whole report: every compared series");
  add_remote_options(*cmd, o->remote);
  cmd->callback([o] {
    run_remote("lowbit regressions", o->remote, [&](worker::CoordinatorClient& client) {
      const nlohmann::json report =
          client.get(regressions_path(o->id, o->baseline, o->alpha, o->min_effect, o->min_drop));
      if (o->json) {
        std::cout << report.dump(2) << std::endl;
      } else {
        print_regressions(report, std::cout);
      }
      return regression_exit_code(report);
    });
  });
}

}  // namespace lowbit::cli
