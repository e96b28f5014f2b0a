#pragma once
// A regression report (GET /api/v1/sweeps/{id}/regressions) for people: the baseline named, a
// table of the regressions and improvements, a count line per verdict, and what the comparison
// could not see (noisy hosts, too few samples to catch a lone regression).

#include <nlohmann/json.hpp>
#include <ostream>

namespace lowbit::cli {

void print_regressions(const nlohmann::json& report, std::ostream& out);

// The exit code a report means: kExitRegression when any series regressed, else kExitOk.
int regression_exit_code(const nlohmann::json& report);

}  // namespace lowbit::cli
