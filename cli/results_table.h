#pragma once
// A sweep's results as people read them: one row per result with its
// accuracy, storage and median latency per batch size, then the Pareto front
// per batch size. `lowbit run` and `lowbit results --format table` print these.

#include <ostream>
#include <vector>

#include "protocol/pareto.h"
#include "protocol/result.h"

namespace lowbit::cli {

void print_results_table(std::ostream& out, const std::vector<protocol::Result>& results);
void print_pareto_fronts(std::ostream& out, const std::vector<protocol::ParetoFront>& fronts);

}  // namespace lowbit::cli
