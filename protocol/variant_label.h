#pragma once
// A variant's configuration in a few words, for tables and the Pareto front:
// "int8 b8 · magnitude 0.5", "fp32 · distilled from 784-512-256-10". The full
// config and its hash stay in the result; this is for people reading a table.

#include <string>

#include "protocol/eval_config.h"

namespace lowbit::protocol {

std::string variant_label(const EvalConfig& config);

}  // namespace lowbit::protocol
