// What pruning buys in fp32 latency, in one run, 1 thread (LOWBIT_BENCH_THREADS to change):
//   - structured 0.5 on 784-128-10 leaves a dense 784-64-10: OpenBLAS on both, batch 1 and 64;
//   - magnitude 0.9 on 784-128-10: the CSR path against OpenBLAS on the same masked model.
// Weights are He-initialized and pruned with the real pruning code (latency depends on shapes and
// sparsity, not on training). Ratios printed at the end: unpruned time / pruned time.
// Run: build/bench/bench_pruned_latency [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_sparse.h"
#include "kernels/prune/prune.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;
using lowbit::bench::bench_threads;
using lowbit::bench::random_input;
using lowbit::bench::RatioReporter;

namespace {

Mlp variant(const std::string& name) {
  const Mlp base = init_mlp({784, 128, 10}, 1);
  if (name == "dense") return base;
  PruneSpec spec;
  spec.ratio = name == "structured_0.5" ? 0.5 : 0.9;
  spec.method = name == "structured_0.5" ? PruneMethod::kStructured : PruneMethod::kMagnitude;
  return prune_model(base, spec).model;
}

void BM_fp32(benchmark::State& state, const std::string& model_name, bool sparse) {
  const int batch = static_cast<int>(state.range(0));
  set_threads(bench_threads());
  const Mlp model = variant(model_name);
  const auto engine = sparse ? make_fp32_sparse_engine(model) : make_fp32_openblas_engine(model);
  const std::vector<float> x = random_input(batch, 784, 3);
  std::vector<float> logits(static_cast<std::size_t>(batch) * 10);
  for (auto _ : state) {
    engine->forward(x.data(), batch, logits.data());
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = bench_threads();
  state.SetLabel(engine->kernel() + " " + format_layer_sizes(model.layer_sizes()));
}

std::string name(const std::string& model, bool sparse, int batch) {
  return "BM_fp32/" + model + (sparse ? "/csr" : "/openblas") + "/batch:" + std::to_string(batch);
}

}  // namespace

int main(int argc, char** argv) {
  struct Case {
    std::string model;
    bool sparse;
  };
  const Case cases[] = {{"dense", false},
                        {"structured_0.5", false},
                        {"magnitude_0.9", false},
                        {"magnitude_0.9", true}};
  for (const Case& c : cases) {
    for (int batch : {1, 64}) {
      benchmark::RegisterBenchmark(name(c.model, c.sparse, batch).c_str(),
                                   [c](benchmark::State& s) { BM_fp32(s, c.model, c.sparse); })
          ->Arg(batch)
          ->MinTime(0.2)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
  benchmark::AddCustomContext("openblas_core", openblas_core());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::cout << "\nratios (> 1: the pruned variant is faster), threads " << bench_threads() << ":\n";
  for (int batch : {1, 64}) {
    const std::string b = std::to_string(batch);
    reporter.print_ratio("structured 0.5 vs dense, batch " + b, name("dense", false, batch),
                         name("structured_0.5", false, batch));
    reporter.print_ratio("magnitude 0.9 CSR vs dense OpenBLAS, batch " + b,
                         name("dense", false, batch), name("magnitude_0.9", true, batch));
    reporter.print_ratio("magnitude 0.9 CSR vs the same masked model on OpenBLAS, batch " + b,
                         name("magnitude_0.9", false, batch), name("magnitude_0.9", true, batch));
  }
  benchmark::Shutdown();
  return 0;
}
