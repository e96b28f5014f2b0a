#pragma once
// Human-readable output of results (the `--json` form is the document itself).

#include <ostream>

#include "protocol/result.h"

namespace lowbit::cli {

void print_result(std::ostream& out, const protocol::Result& result);

}  // namespace lowbit::cli
