// `lowbit submit SWEEP.json [--wait] [--json]`: send a sweep to a coordinator; prints
// {id, jobs, skipped} (or a summary), and with --wait polls until the sweep is finished.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/remote.h"

namespace lowbit::cli {
namespace {

struct SubmitOptions {
  RemoteOptions remote;
  std::string file;
  bool wait = false;
  bool json = false;
  double poll_s = 1.0;
};

}  // namespace

void add_submit_command(CLI::App& app) {
  auto o = std::make_shared<SubmitOptions>();
  auto* cmd = app.add_subcommand("submit", "send a sweep to a coordinator");
  cmd->add_option("sweep", o->file, "the sweep file (schemas/sweep.schema.json)")->required();
  cmd->add_flag("--wait", o->wait, "wait until every job is finished");
  cmd->add_flag("--json", o->json, "print {id, jobs, skipped}");
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
        std::cout << answer.dump(2) << std::endl;
      } else {
        std::cout << fmt::format("sweep {}: {} jobs, {} grid points skipped\n", id,
                                 answer.at("jobs").get<long>(), answer.at("skipped").size());
        for (const nlohmann::json& s : answer.at("skipped"))
          std::cout << "  skipped: " << s.at("reason").get<std::string>() << "\n";
      }
      if (!o->wait) return kExitOk;
      for (;;) {
        const nlohmann::json status = client.get(fmt::format("/api/v1/sweeps/{}", id));
        if (status.at("state") != "running") {
          const auto& counts = status.at("counts");
          return counts.at("failed").get<long>() + counts.at("cancelled").get<long>() == 0
                     ? kExitOk
                     : kExitFailed;
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(o->poll_s));
      }
    });
  });
}

}  // namespace lowbit::cli
