// The int4 path's packed low-bit kernels (kernels/engine/engine_int4.h) against fp32 and int8, same
// run, same threads (LOWBIT_BENCH_THREADS, default 1), with the ratios its bars are about
// printed at the end:
//   - a 1 × 4096 × 4096 GEMV (one layer, batch 1: memory-bound): fp32 OpenBLAS vs int4 at 4, 3
//     and 2 bits — int4 should be ≥ 1.5× faster than fp32, and 2 bits faster than 4;
//   - batch 64 on 4096 × 4096 and on 784-512-256-10: int4 vs int8 (oneDNN's engine, which the
//     int8 mode runs, and our AVX2 u8s8 engine) — int4 should take at most 1.5× int8's time.
// int4 runs every layer at the given width with asymmetric groups and the scale search
// (kInt4Scheme: the default, chosen on accuracy at 4 bits, G = 32).
// Every engine's answer is checked before timing: fp32 and int4 at batch 1 against their
// reference twins, int4 at batch 64 against the portable tier (itself checked bit for bit
// against the reference by tests/kernels/gemm/test_gemm_lowbit.cpp), int8 against its reference
// twin. Engines are built once per case and kept: quantizing 4096 × 4096 with the search takes a
// second. Run: build/bench/bench_int4 [--benchmark_filter=...] [--benchmark_repetitions=5]
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/twin_check.h"
#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_int4.h"
#include "kernels/engine/engine_int8_avx2.h"
#include "kernels/engine/engine_onednn_int8.h"
#include "kernels/engine/int8_reference.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;

namespace {

using lowbit::bench::agrees;
using lowbit::bench::bench_threads;
using lowbit::bench::Built;
using lowbit::bench::random_input;
using lowbit::bench::sizes_name;

constexpr QuantScheme kInt4Scheme = QuantScheme::kAsymmetric;

const std::vector<std::vector<int>>& shapes() {
  static const std::vector<std::vector<int>> list{{4096, 4096}, {784, 512, 256, 10}};
  return list;
}

std::string shape_name(int index) { return sizes_name(shapes()[static_cast<std::size_t>(index)]); }

using Factory = std::function<Built(const Mlp&, const CalibrationSet&, int batch)>;

QuantSpec spec8() {
  QuantSpec spec;
  spec.bits = 8;
  return spec;
}

Factory int4(int bits, int group) {
  return [bits, group](const Mlp& m, const CalibrationSet&, int batch) {
    return Built{make_int4_engine(m, bits, group, kInt4Scheme, "auto"),
                 make_int4_engine(m, bits, group, kInt4Scheme, batch == 1 ? "ref" : "portable"),
                 0.0};
  };
}

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> map{
      {"fp32",
       [](const Mlp& m, const CalibrationSet&, int) {
         return Built{make_fp32_openblas_engine(m), make_fp32_reference_engine(m), 1e-4};
       }},
      {"int8",
       [](const Mlp& m, const CalibrationSet& c, int) {  // what the int8 mode builds
         return Built{make_onednn_int8_engine(m, spec8(), c),
                      make_int8_reference_engine(m, spec8(), c), 1e-3};
       }},
      {"int8_avx2",
       [](const Mlp& m, const CalibrationSet& c, int) {
         Int8Options full;
         full.range = Int8ActivationRange::kFull;
         return Built{make_int8_avx2_engine(m, spec8(), c),
                      make_int8_reference_engine(m, spec8(), c, full), 0.0};
       }},
      {"int4_q4_g32", int4(4, 32)},
      {"int4_q3_g32", int4(3, 32)},
      {"int4_q2_g32", int4(2, 32)},
      {"int4_q4_g128", int4(4, 128)},
      {"int4_q3_g128", int4(3, 128)},
      {"int4_q2_g128", int4(2, 128)},
  };
  return map;
}

// One engine per case, built and checked on the first call: Google Benchmark calls a case
// several times while it sizes the iteration count.
struct Prepared {
  std::unique_ptr<InferenceEngine> engine;
  std::string error;  // non-empty: skip with this
  std::vector<float> x;
  std::vector<float> logits;
};

Prepared& prepare(const std::string& mode, int shape, int batch) {
  static std::map<std::string, Prepared> cache;
  const std::string key = mode + "/" + std::to_string(shape) + "/" + std::to_string(batch);
  if (auto found = cache.find(key); found != cache.end()) return found->second;
  Prepared& p = cache[key];
  const std::vector<int>& sizes = shapes()[static_cast<std::size_t>(shape)];
  const Mlp model = init_mlp(sizes, 1);
  const std::vector<float> calibration_images = random_input(256, sizes.front(), 7);
  const CalibrationSet calibration{calibration_images.data(), 256, sizes.front()};
  Built built;
  try {
    built = factories().at(mode)(model, calibration, batch);
  } catch (const EngineUnavailable& e) {
    p.error = e.what();
    return p;
  }
  p.x = random_input(batch, sizes.front(), 2);
  const std::size_t outputs =
      static_cast<std::size_t>(batch) * static_cast<std::size_t>(sizes.back());
  p.logits.resize(outputs);
  std::vector<float> expected(outputs);
  built.engine->forward(p.x.data(), batch, p.logits.data());
  built.twin->forward(p.x.data(), batch, expected.data());
  if (!agrees(p.logits, expected, built.tolerance)) {
    p.error = "forward pass disagrees with its twin";
    return p;
  }
  p.engine = std::move(built.engine);
  return p;
}

void BM_forward(benchmark::State& state, const std::string& mode) {
  const int shape = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  set_threads(bench_threads());
  Prepared& p = prepare(mode, shape, batch);
  if (!p.error.empty()) {
    state.SkipWithError(p.error.c_str());
    return;
  }
  for (auto _ : state) {
    p.engine->forward(p.x.data(), batch, p.logits.data());
    benchmark::DoNotOptimize(p.logits.data());
    benchmark::ClobberMemory();
  }
  const std::vector<int>& sizes = shapes()[static_cast<std::size_t>(shape)];
  double macs = 0.0;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l)
    macs += static_cast<double>(sizes[l]) * sizes[l + 1];
  state.counters["Gops"] =
      benchmark::Counter(2.0 * macs * batch * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["model_MB"] = static_cast<double>(p.engine->model_bytes()) * 1e-6;
  state.counters["threads"] = bench_threads();
  state.SetLabel(p.engine->kernel());
}

// Keeps every run's time per iteration (ns) by name, for the ratios. With repetitions, the
// median aggregate is the one kept.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      const bool have_median = medians_.count(run.run_name.function_name) != 0;
      if (run.run_type == Run::RT_Aggregate) medians_.insert(run.run_name.function_name);
      if (run.run_type == Run::RT_Aggregate || !have_median) {
        times_[run.run_name.function_name] = run.GetAdjustedRealTime();
      }
    }
  }
  // base time / fast time, and whether it meets `bar` (ratio ≥ bar).
  void print_ratio(const std::string& what, const std::string& base, const std::string& fast,
                   double bar) const {
    const auto b = times_.find(base);
    const auto f = times_.find(fast);
    if (b == times_.end() || f == times_.end()) {
      std::cout << what << ": not measured (" << (b == times_.end() ? base : fast) << " skipped)\n";
      return;
    }
    const double ratio = b->second / f->second;
    std::cout << what << ": " << ratio << "x  (" << base << " / " << fast << "; bar >= " << bar
              << (ratio >= bar ? ": met" : ": MISSED") << ")\n";
  }

 private:
  std::map<std::string, double> times_;
  std::set<std::string> medians_;
};

std::string name(const std::string& mode, int shape, int batch) {
  return "BM_forward/" + mode + "/" + shape_name(shape) + "/batch:" + std::to_string(batch);
}

void register_case(const std::string& mode, int shape, int batch) {
  benchmark::RegisterBenchmark(name(mode, shape, batch).c_str(),
                               [mode](benchmark::State& s) { BM_forward(s, mode); })
      ->Args({shape, batch})
      ->MinTime(0.3)
      ->Unit(benchmark::kMicrosecond);
}

const char* const kGemvModes[] = {"fp32",         "int4_q4_g32",  "int4_q3_g32", "int4_q2_g32",
                                  "int4_q4_g128", "int4_q3_g128", "int4_q2_g128"};
const char* const kBatchModes[] = {"int8", "int8_avx2", "int4_q4_g32", "int4_q4_g128",
                                   "int4_q2_g32"};

}  // namespace

int main(int argc, char** argv) {
  for (const char* mode : kGemvModes) register_case(mode, 0, 1);
  for (int shape : {0, 1}) {
    for (const char* mode : kBatchModes) register_case(mode, shape, 64);
  }

  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
  benchmark::AddCustomContext("openblas_core", openblas_core());
  benchmark::AddCustomContext("onednn_isa", onednn_effective_isa());
  benchmark::AddCustomContext("int4_scheme", to_string(kInt4Scheme));
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::cout << "\nGEMV 1x4096x4096 (fp32 time / int4 time; > 1 is faster than fp32), threads "
            << bench_threads() << ":\n";
  for (const char* g : {"g32", "g128"}) {
    for (const char* q : {"q4", "q3", "q2"}) {
      const std::string mode = std::string("int4_") + q + "_" + g;
      reporter.print_ratio(mode + " vs fp32", name("fp32", 0, 1), name(mode, 0, 1), 1.5);
    }
    const std::string q4 = std::string("int4_q4_") + g;
    const std::string q2 = std::string("int4_q2_") + g;
    reporter.print_ratio(std::string("2-bit vs 4-bit, ") + g, name(q4, 0, 1), name(q2, 0, 1), 1.0);
  }
  std::cout
      << "\nbatch 64 (int8 time / int4 time; the bar: int4 within 1.5x of int8, i.e. >= 0.667):\n";
  for (int shape : {0, 1}) {
    for (const char* int8 : {"int8", "int8_avx2"}) {
      for (const char* mode : {"int4_q4_g32", "int4_q4_g128", "int4_q2_g32"}) {
        reporter.print_ratio(shape_name(shape) + " " + mode + " vs " + int8, name(int8, shape, 64),
                             name(mode, shape, 64), 1.0 / 1.5);
      }
    }
  }
  benchmark::Shutdown();
  return 0;
}
