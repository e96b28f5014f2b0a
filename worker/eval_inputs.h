#pragma once
// What a command line needs from the numerical core to read a user's eval flags: the text
// parsers and defaults that kernels/ defines, named here so that cli/ reaches numerics only
// through the worker (cli → worker → kernels). Each parser throws std::invalid_argument with a
// message naming the problem; the caller adds the flag.

#include <filesystem>
#include <string>
#include <vector>

#include "kernels/model/idx_reader.h"
#include "protocol/eval_config.h"

namespace lowbit::worker {

// A data set that is missing or malformed (a file, its magic, its sizes): exit 2, not a crash.
using DataError = kernels::DataError;

// Where Debian's dataset-fashion-mnist installs its files.
std::filesystem::path default_data_dir();

// $XDG_CACHE_HOME/lowbit, else $HOME/.cache/lowbit, else ./.lowbit-cache: trained models and
// measured peaks.
std::filesystem::path default_cache_dir();

// "784,128,10" → {784, 128, 10}: at least an input and an output size, each ≥ 1.
std::vector<int> parse_layer_sizes(const std::string& text);
// {784, 128, 10} → "784-128-10", the way results print a network.
std::string format_layer_sizes(const std::vector<int>& sizes);

// "1,64,1024" → {1, 64, 1024}: a comma-separated list of sizes, each ≥ 1.
std::vector<int> parse_size_list(const std::string& text);

// "M,K,N" → the GEMM workload's shape, each ≥ 1.
protocol::GemmWorkload parse_gemm_shape(const std::string& text);

// The pruning ratio an "N:M" pattern fixes: 1 − N/M.
double nm_pattern_ratio(const std::string& nm);

// The compute paths `--kernel` may force, in priority order (besides "auto").
std::vector<std::string> compute_paths();

// The precision modes `lowbit eval` runs, in the order the CLI lists them.
const std::vector<std::string>& precision_modes();

}  // namespace lowbit::worker
