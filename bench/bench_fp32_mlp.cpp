// fp32 forward pass of the 784-128-10 MLP and its layer GEMMs: OpenBLAS
// against the reference loops. Run: build/bench_fp32_mlp [--benchmark_filter=...]
// Threads: set with LOWBIT_BENCH_THREADS (default 1) and printed in the context.
// Every benchmark checks its answer against the reference before timing.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/gemm/gemm.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

using lowbit::bench::bench_threads;
using lowbit::bench::random_input;

template <bool kReference>
void BM_mlp_forward(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  set_threads(bench_threads());
  const Mlp model = init_mlp({784, 128, 10}, 1);
  auto engine = kReference ? make_fp32_reference_engine(model) : make_fp32_openblas_engine(model);
  auto oracle = make_fp32_reference_engine(model);
  const std::vector<float> x = random_input(batch, 784, 2);
  std::vector<float> logits(static_cast<std::size_t>(batch) * 10);
  std::vector<float> expected(logits.size());
  engine->forward(x.data(), batch, logits.data());
  oracle->forward(x.data(), batch, expected.data());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (std::fabs(logits[i] - expected[i]) > 1e-3f * (1.0f + std::fabs(expected[i]))) {
      state.SkipWithError("forward pass disagrees with the reference");
      return;
    }
  }
  for (auto _ : state) {
    engine->forward(x.data(), batch, logits.data());
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(model.multiply_adds_per_image()) * batch;
  state.counters["GFLOPS"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = bench_threads();
  state.SetLabel(engine->kernel());
}

}  // namespace

BENCHMARK(BM_mlp_forward<false>)
    ->Name("fp32_mlp_784_128_10/openblas")
    ->Arg(1)
    ->Arg(64)
    ->Arg(1024)
    ->UseRealTime();
BENCHMARK(BM_mlp_forward<true>)->Name("fp32_mlp_784_128_10/ref")->Arg(1)->Arg(64)->UseRealTime();

BENCHMARK_MAIN();
