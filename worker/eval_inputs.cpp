#include "worker/eval_inputs.h"

#include "kernels/base/precision_modes.h"
#include "kernels/engine/engine_registry.h"
#include "kernels/gemm/gemm_workload.h"
#include "kernels/model/dataset.h"
#include "kernels/model/mlp.h"
#include "kernels/prune/prune.h"
#include "kernels/train/model_cache.h"

namespace lowbit::worker {

std::filesystem::path default_data_dir() { return kernels::default_fashion_mnist_dir(); }

std::filesystem::path default_cache_dir() { return kernels::default_cache_dir(); }

std::vector<int> parse_layer_sizes(const std::string& text) {
  return kernels::parse_layer_sizes(text);
}

std::string format_layer_sizes(const std::vector<int>& sizes) {
  return kernels::format_layer_sizes(sizes);
}

std::vector<int> parse_size_list(const std::string& text) { return kernels::parse_size_list(text); }

protocol::GemmWorkload parse_gemm_shape(const std::string& text) {
  const kernels::GemmProblem p = kernels::parse_gemm_problem(text);
  return {p.m, p.k, p.n};
}

double nm_pattern_ratio(const std::string& nm) { return kernels::nm_ratio(kernels::parse_nm(nm)); }

std::vector<std::string> compute_paths() { return kernels::engine_paths(); }

const std::vector<std::string>& precision_modes() { return kernels::precision_modes(); }

}  // namespace lowbit::worker
