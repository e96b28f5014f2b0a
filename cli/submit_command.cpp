// `lowbit submit SWEEP.json [--wait [--fail-on-regression]] [--json]`: send a sweep to a
// coordinator; prints {id, jobs, skipped} (or a summary), and with --wait polls until the sweep
// is finished. With --fail-on-regression it then compares the sweep with its baseline, prints
// the report and exits 3 when a series regressed: the CI gate.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/regression_printer.h"
#include "cli/remote.h"

namespace lowbit::cli {
namespace {

struct SubmitOptions {
  RemoteOptions remote;
  std::string file;
  bool wait = false;
  bool json = false;
  bool fail_on_regression = false;
  double poll_s = 1.0;
};

// Exit 1 when a job failed or was cancelled: a sweep with holes is not a green run.
int finished_exit_code(const nlohmann::json& status) {
  const auto& counts = status.at("counts");
  return counts.at("failed").get<long>() + counts.at("cancelled").get<long>() == 0 ? kExitOk
                                                                                   : kExitFailed;
}

}  // namespace

void add_submit_command(CLI::App& app) {
  auto o = std::make_shared<SubmitOptions>();
  auto* cmd = app.add_subcommand("submit", "send a sweep to a coordinator");
  cmd->add_option("sweep", o->file, "the sweep file (schemas/sweep.schema.json)")->required();
  auto* wait = cmd->add_flag("--wait", o->wait, "wait until every job is finished");
  cmd->add_flag("--fail-on-regression", o->fail_on_regression,
                "after --wait, compare with the baseline, print the report, exit 3 on a "
                "regression")
      ->needs(wait);
  cmd->add_flag("--json", o->json,
                "print {id, jobs, skipped}; with --fail-on-regression one document "
                "{id, jobs, skipped, counts, regressions} at the end");
  cmd->add_option("--poll", o->poll_s, "seconds between status polls with --wait")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 60.0));
  add_remote_options(*cmd, o->remote);
  cmd->callback([o] {
    run_remote("lowbit submit", o->remote, [&](worker::CoordinatorClient& client) {
      std::ifstream in(o->file);
      if (!in) throw std::invalid_argument(fmt::format("{}: cannot read the sweep file", o->file));
      const nlohmann::json sweep = nlohmann::json::parse(in, nullptr, false);
      if (sweep.is_discarded()) throw std::invalid_argument(fmt::format("{}: not JSON", o->file));
      const nlohmann::json answer = client.post("/api/v1/sweeps", sweep);
      const std::int64_t id = answer.at("id").get<std::int64_t>();
      if (o->json) {
        // With --fail-on-regression, one document at the end holds this answer too.
        if (!o->fail_on_regression) std::cout << answer.dump(2) << std::endl;
      } else {
        std::cout << fmt::format("sweep {}: {} jobs, {} grid points skipped\n", id,
                                 answer.at("jobs").get<long>(), answer.at("skipped").size());
        for (const nlohmann::json& s : answer.at("skipped"))
          std::cout << "  skipped: " << s.at("reason").get<std::string>() << "\n";
      }
      if (!o->wait) return kExitOk;
      nlohmann::json status;
      for (;;) {
        status = client.get(fmt::format("/api/v1/sweeps/{}", id));
        if (status.at("state") != "running") break;
        std::this_thread::sleep_for(std::chrono::duration<double>(o->poll_s));
      }
      if (!o->fail_on_regression) return finished_exit_code(status);
      const nlohmann::json report = client.get(regressions_path(id, std::nullopt));
      if (o->json) {
        std::cout << nlohmann::json{{"id", id},
                                    {"jobs", answer.at("jobs")},
                                    {"skipped", answer.at("skipped")},
                                    {"counts", status.at("counts")},
                                    {"regressions", report}}
                         .dump(2)
                  << std::endl;
      } else {
        print_regressions(report, std::cout);
      }
      // A regression is what CI asks about first; holes in the sweep come next.
      const int regression = regression_exit_code(report);
      return regression != kExitOk ? regression : finished_exit_code(status);
    });
  });
}

}  // namespace lowbit::cli
