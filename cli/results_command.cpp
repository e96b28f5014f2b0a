// `lowbit results ID --format table|json|csv`: a sweep's results; the table ends with the
// accuracy/latency Pareto front per batch size.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/remote.h"
#include "cli/results_table.h"
#include "protocol/pareto.h"

namespace lowbit::cli {
namespace {

struct ResultsOptions {
  RemoteOptions remote;
  std::int64_t id = 0;
  std::string format = "table";
};

}  // namespace

void add_results_command(CLI::App& app) {
  auto o = std::make_shared<ResultsOptions>();
  auto* cmd = app.add_subcommand("results",
                                 "a sweep's results: a table with the Pareto front, JSON or CSV");
  cmd->add_option("id", o->id, "sweep id")->required();
  cmd->add_option("--format", o->format, "table, json ({id, results}) or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "csv"}));
  add_remote_options(*cmd, o->remote);
  cmd->callback([o] {
    run_remote("lowbit results", o->remote, [&](worker::CoordinatorClient& client) {
      const std::string target = fmt::format("/api/v1/sweeps/{}/results?format=", o->id);
      if (o->format == "csv") {
        std::cout << client.get_text(target + "csv");
        return kExitOk;
      }
      const nlohmann::json doc = client.get(target + "json");
      if (o->format == "json") {
        std::cout << doc.dump(2) << "\n";
        return kExitOk;
      }
      std::vector<protocol::Result> results;
      for (const nlohmann::json& r : doc.at("results"))
        results.push_back(r.get<protocol::Result>());
      print_results_table(std::cout, results);
      print_pareto_fronts(std::cout, protocol::pareto_fronts(results));
      return kExitOk;
    });
  });
}

}  // namespace lowbit::cli
