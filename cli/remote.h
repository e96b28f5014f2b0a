#pragma once
// What every remote command shares: --coordinator (default $LOWBIT_COORDINATOR, else
// http://127.0.0.1:8080) and --token-file, and how the coordinator's answers become exit codes:
// a refusal (4xx) is the user's input (exit 2, the message and pointer printed), an unreachable
// coordinator or a 5xx is a failure (exit 1).

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "worker/coordinator_client.h"

namespace lowbit::cli {

struct RemoteOptions {
  std::string coordinator = worker::default_coordinator_url();
  std::string token_file;
};

void add_remote_options(CLI::App& cmd, RemoteOptions& options);

// Runs `body` with a client of the coordinator and sets the exit code from its result or from
// the error it threw. `name` prefixes messages ("lowbit status: ...").
void run_remote(const std::string& name, const RemoteOptions& options,
                const std::function<int(worker::CoordinatorClient&)>& body);

}  // namespace lowbit::cli
