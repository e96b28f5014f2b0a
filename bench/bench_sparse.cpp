// Dense OpenBLAS sgemm against the CSR sparse kernel (kernels/gemm/sparse_csr.h) across weight
// sparsity 0.5 .. 0.99 at batch 1, 64 and 1024: two single layers (784→128, the reference
// model's first layer, and 512→256) and the whole 784-128-10 model through the fp32 engines.
// After the runs it prints, per shape and batch, the break-even sparsity: where the sparse time
// crosses the dense one, interpolated linearly between the two measured sparsities around it.
//
// Run: build/bench/bench_sparse [--benchmark_min_time=0.1] [--benchmark_filter=...]
// Threads: LOWBIT_BENCH_THREADS (default 1) for OpenBLAS; the sparse kernel is single-threaded.
// Every benchmark checks its answer against the reference CSR kernel before timing.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_support.h"
#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_sparse.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/sparse_csr.h"
#include "kernels/prune/prune.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

using lowbit::bench::bench_threads;
using lowbit::bench::random_normal;

constexpr double kSparsities[] = {0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99};
constexpr int kBatches[] = {1, 64, 1024};

// A random outputs × inputs matrix with exactly round(sparsity · size) zeros at random places.
std::vector<float> random_sparse_weights(int outputs, int inputs, double sparsity,
                                         std::uint64_t seed) {
  std::vector<float> w =
      random_normal(static_cast<std::size_t>(outputs) * static_cast<std::size_t>(inputs), seed);
  std::vector<std::size_t> order(w.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(seed + 1);
  rng.shuffle(std::span<std::size_t>(order));
  const auto zeros =
      static_cast<std::size_t>(std::llround(sparsity * static_cast<double>(w.size())));
  for (std::size_t i = 0; i < zeros; ++i) w[order[i]] = 0.0f;
  return w;
}

bool close_enough(const std::vector<float>& got, const std::vector<float>& want) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-4f * (1.0f + std::fabs(want[i]))) return false;
  }
  return true;
}

// What each benchmark measured, for the break-even table: (shape, batch) → sparsity → time.
// Sparsity −1 marks the dense run.
struct Key {
  std::string shape;
  int batch;
  bool operator<(const Key& o) const { return std::tie(shape, batch) < std::tie(o.shape, o.batch); }
};
std::map<std::string, std::tuple<Key, double>> g_meta;  // benchmark name → (key, sparsity)
std::map<Key, std::map<double, double>> g_times_ns;

void layer_dense(benchmark::State& state, int outputs, int inputs, int batch) {
  const std::vector<float> w =
      random_normal(static_cast<std::size_t>(outputs) * static_cast<std::size_t>(inputs), 1);
  const std::vector<float> x =
      random_normal(static_cast<std::size_t>(batch) * static_cast<std::size_t>(inputs), 2);
  std::vector<float> y(static_cast<std::size_t>(batch) * static_cast<std::size_t>(outputs));
  GemmArgs args;
  args.shape = {batch, outputs, inputs};
  args.trans_b = Transpose::kYes;
  args.a = x.data();
  args.lda = inputs;
  args.b = w.data();
  args.ldb = inputs;
  args.c = y.data();
  args.ldc = outputs;
  for (auto _ : state) {
    sgemm_openblas(args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string("openblas/") + openblas_core() + "/sgemm");
}

void layer_sparse(benchmark::State& state, int outputs, int inputs, int batch, double sparsity) {
  const std::vector<float> w = random_sparse_weights(outputs, inputs, sparsity, 1);
  const CsrMatrix csr = CsrMatrix::from_dense(w.data(), outputs, inputs, inputs);
  const std::vector<float> x =
      random_normal(static_cast<std::size_t>(batch) * static_cast<std::size_t>(inputs), 2);
  std::vector<float> y(static_cast<std::size_t>(batch) * static_cast<std::size_t>(outputs));
  std::vector<float> expected(y.size());
  SpmmScratch scratch;
  SpmmArgs args{batch, x.data(), inputs, &csr, y.data(), outputs, &scratch};
  const CsrKernel& kernel = select_csr_kernel();
  kernel.run(args);
  SpmmArgs oracle = args;
  oracle.dst = expected.data();
  spmm_csr_ref(oracle);
  if (!close_enough(y, expected)) {
    state.SkipWithError("sparse kernel disagrees with the reference");
    return;
  }
  for (auto _ : state) {
    kernel.run(args);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["nnz"] = static_cast<double>(csr.nnz());
  state.SetLabel(std::string("lowbit/") + kernel.name);
}

void model_forward(benchmark::State& state, int batch, double sparsity) {
  Mlp model = init_mlp({784, 128, 10}, 1);
  if (sparsity >= 0)
    model = prune_model(model, PruneSpec{PruneMethod::kMagnitude, sparsity, {}}).model;
  auto engine = sparsity >= 0 ? make_fp32_sparse_engine(model) : make_fp32_openblas_engine(model);
  auto oracle = make_fp32_reference_engine(model);
  const std::vector<float> x = random_normal(static_cast<std::size_t>(batch) * 784, 2);
  std::vector<float> logits(static_cast<std::size_t>(batch) * 10);
  std::vector<float> expected(logits.size());
  engine->forward(x.data(), batch, logits.data());
  oracle->forward(x.data(), batch, expected.data());
  if (!close_enough(logits, expected)) {
    state.SkipWithError("forward pass disagrees with the reference");
    return;
  }
  for (auto _ : state) {
    engine->forward(x.data(), batch, logits.data());
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(engine->kernel());
}

void register_all() {
  const int threads = bench_threads();
  struct Shape {
    int outputs;
    int inputs;
  };
  for (const Shape shape : {Shape{128, 784}, Shape{256, 512}}) {
    const std::string shape_name = fmt::format("layer_{}x{}", shape.inputs, shape.outputs);
    for (int batch : kBatches) {
      const std::string dense_name = fmt::format("{}/dense/batch:{}", shape_name, batch);
      benchmark::RegisterBenchmark(dense_name.c_str(), [=](benchmark::State& s) {
        set_threads(threads);
        layer_dense(s, shape.outputs, shape.inputs, batch);
      })->UseRealTime();
      g_meta[dense_name] = {Key{shape_name, batch}, -1.0};
      for (double sparsity : kSparsities) {
        const std::string name =
            fmt::format("{}/csr/sparsity:{:.2f}/batch:{}", shape_name, sparsity, batch);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
          layer_sparse(s, shape.outputs, shape.inputs, batch, sparsity);
        })->UseRealTime();
        g_meta[name] = {Key{shape_name, batch}, sparsity};
      }
    }
  }
  for (int batch : kBatches) {
    const std::string dense_name = fmt::format("mlp_784_128_10/dense/batch:{}", batch);
    benchmark::RegisterBenchmark(dense_name.c_str(), [=](benchmark::State& s) {
      set_threads(threads);
      model_forward(s, batch, -1.0);
    })->UseRealTime();
    g_meta[dense_name] = {Key{"mlp_784_128_10", batch}, -1.0};
    for (double sparsity : kSparsities) {
      const std::string name =
          fmt::format("mlp_784_128_10/csr/sparsity:{:.2f}/batch:{}", sparsity, batch);
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
        model_forward(s, batch, sparsity);
      })->UseRealTime();
      g_meta[name] = {Key{"mlp_784_128_10", batch}, sparsity};
    }
  }
}

// The console output as usual, plus each run's time per iteration recorded for the table.
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const auto found = g_meta.find(run.run_name.function_name);
      if (found == g_meta.end()) continue;
      const auto& [key, sparsity] = found->second;
      // Repetitions: keep the smallest, the least disturbed by the other work on this machine.
      const double ns =
          run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
      double& slot = g_times_ns[key][sparsity];
      slot = slot == 0.0 ? ns : std::min(slot, ns);
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

// The sparsity where the sparse time falls below the dense one, interpolated linearly in the
// ratio sparse/dense between the measured points around the crossing.
void print_break_even() {
  std::printf(
      "\nbreak-even sparsity (sparse faster above it; %d OpenBLAS thread(s), sparse 1 thread):\n",
      bench_threads());
  for (const auto& [key, times] : g_times_ns) {
    const auto dense = times.find(-1.0);
    if (dense == times.end()) continue;
    std::string verdict = "sparse never faster in 0.50..0.99";
    double previous_sparsity = -1.0;
    double previous_ratio = 0.0;
    std::string ratios;
    for (const auto& [sparsity, ns] : times) {
      if (sparsity < 0) continue;
      const double ratio = ns / dense->second;
      ratios += fmt::format(" {:.2f}:{:.2f}", sparsity, ratio);
      if (ratio < 1.0 && verdict.rfind("sparse never", 0) == 0) {
        if (previous_sparsity < 0) {
          verdict = fmt::format("≤ {:.2f} (faster at every sparsity measured)", sparsity);
        } else {
          const double t = (previous_ratio - 1.0) / (previous_ratio - ratio);
          verdict = fmt::format("{:.3f}", previous_sparsity + t * (sparsity - previous_sparsity));
        }
      }
      previous_sparsity = sparsity;
      previous_ratio = ratio;
    }
    std::printf("  %-16s batch %5d: dense %10.2f us, break-even %s\n    sparse/dense time:%s\n",
                key.shape.c_str(), key.batch, dense->second * 1e-3, verdict.c_str(),
                ratios.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
  benchmark::AddCustomContext("openblas", openblas_version() + " " + openblas_core());
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_break_even();
  benchmark::Shutdown();
  return 0;
}
