// The low-precision compute paths against fp32 in one run, same threads (LOWBIT_BENCH_THREADS,
// default 1), with the ratios the low-precision bars are about printed at the end:
//   - int8 (and fixed, fp16) vs fp32 at batch 1024 on 784-512-256-10;
//   - int8 vs fp32 at batch 1 on 784-128-10 (per-call activation quantization included);
//   - bf16 vs fp32 on a 1024³ GEMM (skipped with oneDNN's reason where bf16 cannot run);
//   - oneDNN's int8 alone vs our AVX2 int8 GEMM over small batches: where they cross is
//     kInt8SmallBatchAuto (kernels/engine/int8_reference.h).
// Every engine's answer is checked against its reference twin before timing.
// Run: build/bench_low_precision [--benchmark_filter=...] [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/twin_check.h"
#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fixed.h"
#include "kernels/engine/engine_fp16.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_int8_avx2.h"
#include "kernels/engine/engine_onednn_bf16.h"
#include "kernels/engine/engine_onednn_int8.h"
#include "kernels/engine/int8_reference.h"
#include "kernels/train/train.h"

using namespace lowbit::kernels;
using lowbit::bench::agrees;
using lowbit::bench::bench_threads;
using lowbit::bench::Built;
using lowbit::bench::random_input;
using lowbit::bench::RatioReporter;
using lowbit::bench::sizes_name;

namespace {

const std::vector<std::vector<int>>& shapes() {
  static const std::vector<std::vector<int>> list{
      {784, 128, 10}, {784, 512, 256, 10}, {1024, 1024}};
  return list;
}

std::string shape_name(int index) { return sizes_name(shapes()[static_cast<std::size_t>(index)]); }

using Factory = std::function<Built(const Mlp&, const CalibrationSet&)>;

QuantSpec spec8() {
  QuantSpec spec;
  spec.bits = 8;
  return spec;
}

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> map{
      {"fp32",
       [](const Mlp& m, const CalibrationSet&) {
         return Built{make_fp32_openblas_engine(m), make_fp32_reference_engine(m), 1e-4};
       }},
      {"fp16",
       [](const Mlp& m, const CalibrationSet&) {
         return Built{make_fp16_engine(m, "auto"), make_fp16_engine(m, "ref"), 1e-4};
       }},
      {"bf16",
       [](const Mlp& m, const CalibrationSet&) {
         return Built{make_onednn_bf16_engine(m), make_bf16_reference_engine(m), 1e-2};
       }},
      {"int8",
       [](const Mlp& m, const CalibrationSet& c) {  // what `auto` builds
         return Built{make_onednn_int8_engine(m, spec8(), c),
                      make_int8_reference_engine(m, spec8(), c), 1e-3};
       }},
      {"int8_onednn_only",
       [](const Mlp& m, const CalibrationSet& c) {
         Int8Options only;
         only.small_batch_below = 0;
         return Built{make_onednn_int8_engine(m, spec8(), c, only),
                      make_int8_reference_engine(m, spec8(), c), 1e-3};
       }},
      {"int8_avx2",
       [](const Mlp& m, const CalibrationSet& c) {
         Int8Options full;
         full.range = Int8ActivationRange::kFull;
         return Built{make_int8_avx2_engine(m, spec8(), c),
                      make_int8_reference_engine(m, spec8(), c, full), 0.0};
       }},
      {"fixed",
       [](const Mlp& m, const CalibrationSet& c) {
         return Built{make_fixed_engine(m, spec8(), c, "auto"),
                      make_fixed_engine(m, spec8(), c, "ref"), 0.0};
       }},
  };
  return map;
}

void BM_forward(benchmark::State& state, const std::string& mode) {
  const int shape = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  set_threads(bench_threads());
  const std::vector<int>& sizes = shapes()[static_cast<std::size_t>(shape)];
  const Mlp model = init_mlp(sizes, 1);
  const std::vector<float> calibration_images = random_input(256, sizes.front(), 7);
  const CalibrationSet calibration{calibration_images.data(), 256, sizes.front()};
  Built built;
  try {
    built = factories().at(mode)(model, calibration);
  } catch (const EngineUnavailable& e) {
    state.SkipWithError(e.what());
    return;
  }
  const std::vector<float> x = random_input(batch, sizes.front(), 2);
  const std::size_t outputs =
      static_cast<std::size_t>(batch) * static_cast<std::size_t>(sizes.back());
  std::vector<float> logits(outputs);
  std::vector<float> expected(outputs);
  built.engine->forward(x.data(), batch, logits.data());
  if (batch <= 64) {  // the twins are plain loops: check small batches only
    built.twin->forward(x.data(), batch, expected.data());
    if (!agrees(logits, expected, built.tolerance)) {
      state.SkipWithError("forward pass disagrees with its reference twin");
      return;
    }
  }
  for (auto _ : state) {
    built.engine->forward(x.data(), batch, logits.data());
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  const double ops = 2.0 * static_cast<double>(model.multiply_adds_per_image()) * batch;
  state.counters["Gops"] =
      benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = bench_threads();
  state.SetLabel(built.engine->kernel());
}

std::string name(const std::string& mode, int shape, int batch) {
  return "BM_forward/" + mode + "/" + shape_name(shape) + "/batch:" + std::to_string(batch);
}

void register_case(const std::string& mode, int shape, int batch) {
  benchmark::RegisterBenchmark(name(mode, shape, batch).c_str(),
                               [mode](benchmark::State& s) { BM_forward(s, mode); })
      ->Args({shape, batch})
      ->MinTime(0.2)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  for (const char* mode : {"fp32", "int8", "int8_onednn_only", "int8_avx2", "fixed", "fp16"}) {
    register_case(mode, 1, 1024);
    register_case(mode, 0, 1);
  }
  for (const char* mode : {"int8_onednn_only", "int8_avx2"}) {
    for (int shape : {0, 1}) {
      for (int batch : {2, 4, 8, 16, 32, 64}) register_case(mode, shape, batch);
    }
  }
  for (const char* mode : {"fp32", "bf16"}) register_case(mode, 2, 1024);

  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
  benchmark::AddCustomContext("openblas_core", openblas_core());
  benchmark::AddCustomContext("onednn_isa", onednn_effective_isa());
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::cout << "\nratios (fp32 time / mode time; > 1 is faster than fp32), threads "
            << bench_threads() << ":\n";
  for (const char* mode : {"int8", "int8_onednn_only", "int8_avx2", "fixed", "fp16"}) {
    reporter.print_ratio(std::string(mode) + " vs fp32, 784-512-256-10 batch 1024",
                         name("fp32", 1, 1024), name(mode, 1, 1024));
    reporter.print_ratio(std::string(mode) + " vs fp32, 784-128-10 batch 1", name("fp32", 0, 1),
                         name(mode, 0, 1));
  }
  reporter.print_ratio("bf16 vs fp32, 1024x1024x1024", name("fp32", 2, 1024),
                       name("bf16", 2, 1024));
  std::cout << "\nint8: oneDNN alone vs our AVX2 GEMM (> 1: ours is faster):\n";
  for (int shape : {0, 1}) {
    for (int batch : {1, 2, 4, 8, 16, 32, 64}) {
      reporter.print_ratio(shape_name(shape) + " batch " + std::to_string(batch),
                           name("int8_onednn_only", shape, batch), name("int8_avx2", shape, batch));
    }
  }
  benchmark::Shutdown();
  return 0;
}
