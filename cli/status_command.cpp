// `lowbit status [ID] [--json]`: one sweep's counts, progress and why jobs wait, or every sweep.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/remote.h"
#include "cli/text_table.h"

namespace lowbit::cli {
namespace {

struct StatusOptions {
  RemoteOptions remote;
  std::int64_t id = 0;
  bool json = false;
};

std::string counts_text(const nlohmann::json& counts) {
  std::string out;
  for (const auto& [state, n] : counts.items()) {
    if (n.get<long>() == 0) continue;
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n.get<long>(), state);
  }
  return out.empty() ? "no jobs" : out;
}

void print_sweep(const nlohmann::json& s) {
  std::cout << fmt::format("sweep {} \"{}\": {}, {:.0f} % done\n", s.at("id").get<long>(),
                           s.at("name").get<std::string>(), s.at("state").get<std::string>(),
                           100.0 * s.at("progress").get<double>());
  std::cout << fmt::format("  jobs: {}\n", counts_text(s.at("counts")));
  if (s.contains("prepare"))
    std::cout << fmt::format("  prepare job: {}\n", s.at("prepare").at("state").get<std::string>());
  for (const nlohmann::json& w : s.at("waiting"))
    std::cout << "  waiting: " << (w.is_string() ? w.get<std::string>() : w.dump()) << "\n";
  for (const nlohmann::json& f : s.at("failures")) {
    std::cout << fmt::format("  failed: job {}: {}\n", f.at("job").get<long>(),
                             f.at("error").get<std::string>());
  }
}

}  // namespace

void add_status_command(CLI::App& app) {
  auto o = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "a sweep's progress and why jobs wait, or every sweep");
  cmd->add_option("id", o->id, "sweep id (default: list every sweep)");
  cmd->add_flag("--json", o->json, "print the coordinator's JSON");
  add_remote_options(*cmd, o->remote);
  cmd->callback([o] {
    run_remote("lowbit status", o->remote, [&](worker::CoordinatorClient& client) {
      if (o->id > 0) {
        const nlohmann::json s = client.get(fmt::format("/api/v1/sweeps/{}", o->id));
        if (o->json) {
          std::cout << s.dump(2) << "\n";
        } else {
          print_sweep(s);
        }
        return kExitOk;
      }
      const nlohmann::json list = client.get("/api/v1/sweeps");
      if (o->json) {
        std::cout << list.dump(2) << "\n";
        return kExitOk;
      }
      TextTable table({{"id", TextTable::Align::kRight},
                       {"name"},
                       {"state"},
                       {"done", TextTable::Align::kRight},
                       {"jobs"}});
      for (const nlohmann::json& s : list.at("sweeps")) {
        table.add_row({std::to_string(s.at("id").get<long>()), s.at("name").get<std::string>(),
                       s.at("state").get<std::string>(),
                       fmt::format("{:.0f} %", 100.0 * s.at("progress").get<double>()),
                       counts_text(s.at("counts"))});
      }
      table.print(std::cout);
      return kExitOk;
    });
  });
}

}  // namespace lowbit::cli
