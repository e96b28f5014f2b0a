#include "cli/remote.h"

#include <iostream>

#include "cli/commands.h"

namespace lowbit::cli {

void add_remote_options(CLI::App& cmd, RemoteOptions& options) {
  cmd.add_option("--coordinator", options.coordinator,
                 "coordinator URL (default $LOWBIT_COORDINATOR or http://127.0.0.1:8080)")
      ->capture_default_str();
  cmd.add_option("--token-file", options.token_file, "file holding a submit token");
}

void run_remote(const std::string& name, const RemoteOptions& options,
                const std::function<int(worker::CoordinatorClient&)>& body) {
  try {
    const std::string token =
        options.token_file.empty() ? "" : worker::read_token_file(options.token_file);
    worker::CoordinatorClient client(options.coordinator, token);
    set_exit_code(body(client));
  } catch (const std::invalid_argument& e) {
    std::cerr << name << ": " << e.what() << "\n";
    set_exit_code(kExitUsage);
  } catch (const worker::ApiError& e) {
    std::cerr << name << ": " << e.what() << (e.pointer.empty() ? "" : " (at " + e.pointer + ")")
              << "\n";
    set_exit_code(e.status >= 500 ? kExitFailed : kExitUsage);
  } catch (const worker::Unreachable& e) {
    std::cerr << name << ": " << e.what() << "\n";
    set_exit_code(kExitFailed);
  }
}

}  // namespace lowbit::cli
