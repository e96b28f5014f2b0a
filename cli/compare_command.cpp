// `lowbit compare ID --targets A,B`: the same configurations side by side on two targets (ids or
// labels): per configuration and batch size, B's median latency over A's and B's top-1 minus A's.
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/remote.h"
#include "cli/text_table.h"
#include "protocol/result.h"
#include "protocol/variant_label.h"

namespace lowbit::cli {
namespace {

struct CompareOptions {
  RemoteOptions remote;
  std::int64_t id = 0;
  std::vector<std::string> targets;
};

bool names(const protocol::Target& t, const std::string& name) {
  return t.id == name || t.label == name;
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto o = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand(
      "compare", "the same configurations on two targets: latency ratio and accuracy delta");
  cmd->add_option("id", o->id, "sweep id")->required();
  cmd->add_option("--targets", o->targets, "two targets, by id or label: A,B")
      ->required()
      ->delimiter(',')
      ->expected(2);
  add_remote_options(*cmd, o->remote);
  cmd->callback([o] {
    run_remote("lowbit compare", o->remote, [&](worker::CoordinatorClient& client) {
      const nlohmann::json doc =
          client.get(fmt::format("/api/v1/sweeps/{}/results?format=json", o->id));
      std::map<std::string, protocol::Result> a, b;  // by config hash
      for (const nlohmann::json& j : doc.at("results")) {
        protocol::Result r = j.get<protocol::Result>();
        if (r.status != protocol::kStatusPassed) continue;
        if (names(r.target, o->targets[0]))
          a[r.config_hash] = r;
        else if (names(r.target, o->targets[1]))
          b[r.config_hash] = r;
      }
      if (a.empty() || b.empty()) {
        throw std::invalid_argument(fmt::format("--targets: sweep {} has no passed results on {}",
                                                o->id, a.empty() ? o->targets[0] : o->targets[1]));
      }
      TextTable table({{"variant"},
                       {"batch", TextTable::Align::kRight},
                       {o->targets[0] + " µs", TextTable::Align::kRight},
                       {o->targets[1] + " µs", TextTable::Align::kRight},
                       {"B/A", TextTable::Align::kRight},
                       {"Δ top-1 (B−A)", TextTable::Align::kRight}});
      int rows = 0;
      for (const auto& [hash, ra] : a) {
        const auto it = b.find(hash);
        if (it == b.end()) continue;
        const protocol::Result& rb = it->second;
        for (const protocol::Latency& la : ra.latency) {
          for (const protocol::Latency& lb : rb.latency) {
            if (lb.batch != la.batch) continue;
            const std::string delta =
                ra.accuracy && rb.accuracy
                    ? fmt::format("{:+.4f}", rb.accuracy->top1 - ra.accuracy->top1)
                    : fmt::format("err {:.2g}/{:.2g}", ra.error ? ra.error->max_rel : 0.0,
                                  rb.error ? rb.error->max_rel : 0.0);
            table.add_row({protocol::variant_label(ra.config), std::to_string(la.batch),
                           fmt::format("{:.2f}", la.median_us), fmt::format("{:.2f}", lb.median_us),
                           fmt::format("{:.2f}", lb.median_us / la.median_us), delta});
            ++rows;
          }
        }
      }
      table.print(std::cout);
      std::cout << fmt::format("{} configurations on both targets\n", rows);
      return kExitOk;
    });
  });
}

}  // namespace lowbit::cli
