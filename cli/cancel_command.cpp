// `lowbit cancel ID`: cancel a sweep's unfinished jobs; finished results stay.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/remote.h"

namespace lowbit::cli {

void add_cancel_command(CLI::App& app) {
  auto remote = std::make_shared<RemoteOptions>();
  auto id = std::make_shared<std::int64_t>(0);
  auto* cmd = app.add_subcommand("cancel", "cancel a sweep's unfinished jobs");
  cmd->add_option("id", *id, "sweep id")->required();
  add_remote_options(*cmd, *remote);
  cmd->callback([remote, id] {
    run_remote("lowbit cancel", *remote, [&](worker::CoordinatorClient& client) {
      const nlohmann::json s =
          client.post(fmt::format("/api/v1/sweeps/{}/cancel", *id), nlohmann::json::object());
      std::cout << fmt::format("sweep {}: {}\n", *id, s.at("state").get<std::string>());
      return kExitOk;
    });
  });
}

}  // namespace lowbit::cli
