// The measurement harness judged on itself, all in one run with interleaved
// repetitions (this machine is shared and noisy: only same-run comparisons
// mean anything):
//   1. framework overhead: the fp32 784-128-10 engine at batch 1 against the
//      sum of its two bare GEMVs (plus the bias/ReLU epilogues they need);
//   2. threads: the same model at batch 1024 with 1 and with 2 threads;
//   3. stability: two identical fp32 batch-64 measurements must not be told
//      apart by Mann-Whitney.
// Run: build/bench/bench_measurement_bars [repetitions] [min_time_ms]
#include <cblas.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/bench_support.h"
#include "kernels/base/epilogue.h"
#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/measure/latency.h"
#include "kernels/train/train.h"
#include "stats/mann_whitney.h"

using namespace lowbit::kernels;

namespace {

using lowbit::bench::random_normal;

void report_pair(const char* what, const LatencyStats& a, const LatencyStats& b) {
  const lowbit::stats::MannWhitneyResult mw =
      lowbit::stats::mann_whitney_u(a.samples_us, b.samples_us);
  std::printf(
      "%-44s %10.2f µs (cv %.3f) vs %10.2f µs (cv %.3f): ratio %.3f, Mann-Whitney p = %.4f\n", what,
      a.median_us, a.cv, b.median_us, b.cv, a.median_us / b.median_us, mw.p_value);
}

}  // namespace

int main(int argc, char** argv) {
  LatencySettings settings;
  settings.repetitions = argc > 1 ? std::atoi(argv[1]) : 20;
  settings.min_time_ms = argc > 2 ? std::atof(argv[2]) : 100;
  std::printf("OpenBLAS %s (%s), %d repetitions of >= %.0f ms, interleaved\n",
              openblas_version().c_str(), openblas_core().c_str(), settings.repetitions,
              settings.min_time_ms);

  const Mlp model = init_mlp({784, 128, 10}, 1);
  auto engine = make_fp32_openblas_engine(model);
  const std::int64_t llc = last_level_cache_bytes();

  // Inputs rotate through more than the last-level cache, as lowbit eval does.
  const int slots1 = rotation_slots(784 * 4, llc);
  const std::vector<float> x1 = random_normal(static_cast<std::size_t>(slots1) * 784, 2);
  std::vector<float> hidden(128);
  std::vector<float> logits(1024 * 10);
  const int slots64 = rotation_slots(64 * 784 * 4, llc);
  const std::vector<float> x64 = random_normal(static_cast<std::size_t>(slots64) * 64 * 784, 3);
  const int slots1024 = rotation_slots(1024 * 784 * 4, llc);
  const std::vector<float> x1024 =
      random_normal(static_cast<std::size_t>(slots1024) * 1024 * 784, 4);
  const DenseLayer& l0 = model.layers[0];
  const DenseLayer& l1 = model.layers[1];

  std::vector<TimedCase> cases;
  auto add = [&](const char* name, int batch, int threads, int slots,
                 std::function<void(int)> call) {
    TimedCase c;
    c.name = name;
    c.batch = batch;
    c.threads = threads;
    c.slots = slots;
    c.call = std::move(call);
    cases.push_back(std::move(c));
  };
  add("engine/batch:1", 1, 1, slots1,
      [&](int s) { engine->forward(x1.data() + s * 784, 1, logits.data()); });
  add("bare_gemvs/batch:1", 1, 1, slots1, [&](int s) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, 128, 784, 1.0f, l0.weights.data(), 784,
                x1.data() + s * 784, 1, 0.0f, hidden.data(), 1);
    add_bias_activation(hidden.data(), 1, 128, l0.bias.data(), true);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, 10, 128, 1.0f, l1.weights.data(), 128, hidden.data(),
                1, 0.0f, logits.data(), 1);
    add_bias_activation(logits.data(), 1, 10, l1.bias.data(), false);
  });
  add("engine/batch:1024/threads:1", 1024, 1, slots1024, [&](int s) {
    engine->forward(x1024.data() + static_cast<std::size_t>(s) * 1024 * 784, 1024, logits.data());
  });
  add("engine/batch:1024/threads:2", 1024, 2, slots1024, [&](int s) {
    engine->forward(x1024.data() + static_cast<std::size_t>(s) * 1024 * 784, 1024, logits.data());
  });
  add("engine/batch:64/first", 64, 1, slots64, [&](int s) {
    engine->forward(x64.data() + static_cast<std::size_t>(s) * 64 * 784, 64, logits.data());
  });
  add("engine/batch:64/second", 64, 1, slots64, [&](int s) {
    engine->forward(x64.data() + static_cast<std::size_t>(s) * 64 * 784, 64, logits.data());
  });

  const std::vector<LatencyStats> stats = measure_latency(cases, settings);
  report_pair("1. engine batch 1 vs bare GEMVs", stats[0], stats[1]);
  report_pair("2. batch 1024, 2 threads vs 1 thread", stats[3], stats[2]);
  report_pair("3. fp32 batch 64, two identical measurements", stats[4], stats[5]);
  return 0;
}
