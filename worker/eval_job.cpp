#include "worker/eval_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "kernels/dataset.h"
#include "kernels/engine_registry.h"
#include "kernels/evaluate.h"
#include "kernels/gemm_workload.h"
#include "kernels/library_info.h"
#include "kernels/model_cache.h"
#include "kernels/peak_cache.h"
#include "worker/base_model.h"
#include "worker/context_detect.h"
#include "worker/quant_request.h"
#include "worker/target_detect.h"

namespace lowbit::worker {

namespace {

// The seed of the gemm workload's inputs: fixed, so every target multiplies
// the same matrices.
constexpr std::uint64_t kGemmInputSeed = 0x67656d6dULL;  // "gemm"

// Converts the harness's statistics and places them on the roofline.
protocol::Latency to_latency(const kernels::LatencyStats& s, const kernels::Peaks& peaks,
                             const kernels::PeakProbe* probe, int threads) {
  protocol::Latency l;
  l.batch = s.batch;
  l.median_us = s.median_us;
  l.p90_us = s.p90_us;
  l.p99_us = s.p99_us;
  l.mean_us = s.mean_us;
  l.stddev_us = s.stddev_us;
  l.min_us = s.min_us;
  l.cv = s.cv;
  l.repetitions = s.repetitions;
  l.iterations = s.iterations;
  l.samples_us = s.samples_us;
  l.cpu_samples_us = s.cpu_samples_us;
  l.throughput_per_s = s.throughput_per_s;
  l.gflops = s.gops;
  l.arithmetic_intensity = s.arithmetic_intensity;
  l.noisy = s.noisy;
  if (probe != nullptr && probe->gops_per_core > 0) {
    const double peak = probe->gops_per_core * threads;
    l.pct_of_peak = s.gops / peak;
    if (peaks.read_gbytes_per_s > 0) {
      const double ridge = peak / peaks.read_gbytes_per_s;  // ops per byte where the roofs meet
      l.bound = s.arithmetic_intensity < ridge ? "memory" : "compute";
    }
  }
  return l;
}

// The peak probe of a precision's arithmetic: what its inner loop issues.
// fp16 converts its weights to fp32 and multiplies in fp32 FMA.
std::string probe_for_precision(const std::string& precision) {
  if (precision == "fp32" || precision == "fp16") return "fp32_fma";
  if (precision == "int8" || precision == "fixed") return "int8_dot";
  if (precision == "bf16") return "bf16_dot";
  return {};
}

kernels::EngineRequest engine_request(const EvalRequest& request,
                                      const kernels::CalibrationSet* calibration) {
  const protocol::EvalConfig& c = request.config;
  kernels::EngineRequest r;
  r.precision = c.precision;
  r.bits = c.bits;
  r.kernel = c.kernel;
  r.quant = to_quant_spec(c);
  r.calibration = calibration;
  r.isa_cap = request.isa_cap;
  return r;
}

void measure(const EvalRequest& request, std::vector<kernels::TimedCase>& cases,
             protocol::Result& result) {
  const LoadSnapshot start = snapshot_load();
  const kernels::Peaks peaks =
      kernels::load_or_measure_peaks(request.cache_dir, result.target.id, request.threads, request.isa_cap);
  const kernels::PeakProbe* probe =
      kernels::find_probe(peaks, probe_for_precision(request.config.precision));
  spdlog::info("measuring latency: {} case(s), {} repetitions of ≥ {} ms", cases.size(),
               request.measurement.latency.repetitions, request.measurement.latency.min_time_ms);
  const std::vector<kernels::LatencyStats> stats =
      kernels::measure_latency(cases, request.measurement.latency);
  for (const kernels::LatencyStats& s : stats) {
    result.latency.push_back(to_latency(s, peaks, probe, request.threads));
  }
  protocol::Measurement m;
  for (const kernels::TimedCase& c : cases) m.batches.push_back(c.batch);
  m.repetitions = request.measurement.latency.repetitions;
  m.min_time_ms = request.measurement.latency.min_time_ms;
  m.warmup_ms = request.measurement.latency.warmup_ms;
  result.measurement = m;
  protocol::Context context = detect_context(start, snapshot_load());
  context.mhz_per_cpu = peaks.measured_ghz * 1e3;
  context.peak_gflops_per_core = probe != nullptr ? probe->gops_per_core : 0.0;
  context.read_gbytes_per_s = peaks.read_gbytes_per_s;
  if (context.overloaded) {
    spdlog::warn("load average {:.2f} exceeded {} CPUs while measuring: latency is suspect",
                 std::max(start.load_avg.empty() ? 0.0 : start.load_avg[0],
                          context.load_avg_end.empty() ? 0.0 : context.load_avg_end[0]),
                 context.num_cpus);
  }
  result.context = context;
}

void run_mlp(const EvalRequest& request, protocol::Result& result) {
  const kernels::LabeledData data = kernels::load_fashion_mnist(request.data_dir);
  const kernels::TrainSpec spec = to_train_spec(request.config.mlp);
  const kernels::ModelCache cache(request.cache_dir);
  BaseModel base = obtain_base_model(spec, data, cache);

  const kernels::Mlp& model = base.artifact.model;
  const CalibrationImages calibration =
      calibration_images(kernels::split_validation(data.train, spec.validation_images).fit,
                         model.normalization, request.config.quant.calibration_samples);
  kernels::EngineChoice choice =
      kernels::select_engine(model, engine_request(request, &calibration.set));
  if (!choice.engine) {
    result.status = protocol::kStatusSkipped;
    result.reason = choice.skip_reason;
    return;
  }
  kernels::InferenceEngine& engine = *choice.engine;
  const kernels::Evaluation test = kernels::evaluate(engine, model.normalization, data.test);

  protocol::Accuracy accuracy;
  accuracy.top1 = test.top1;
  accuracy.baseline_top1 = base.artifact.test_top1;
  accuracy.delta = test.top1 - base.artifact.test_top1;
  accuracy.agreement = kernels::agreement(test.predictions, base.artifact.test_predictions);
  accuracy.images = data.test.count;
  accuracy.correct = protocol::encode_bitset(test.correct);
  result.accuracy = accuracy;
  result.base_model = protocol::BaseModel{base.hash, base.cache_key, base.cache_hit,
                                          base.artifact.validation_top1};

  const std::int64_t dense = model.weight_count();
  result.params_nonzero = model.nonzero_weights();
  result.sparsity = dense > 0 ? 1.0 - static_cast<double>(result.params_nonzero) / static_cast<double>(dense) : 0.0;
  result.model_bytes = engine.model_bytes();
  result.weights = engine.weights();
  result.train_seconds = base.train_seconds;
  result.kernel = engine.kernel();
  for (const kernels::LayerKernel& layer : engine.layers()) {
    result.layers.push_back({layer.kernel, layer.impl});
  }

  // Latency: each batch size rotates through normalized test images.
  const int features = engine.inputs();
  const int classes = engine.outputs();
  const std::int64_t llc = kernels::last_level_cache_bytes();
  struct Buffers {
    std::vector<float> inputs;
    std::vector<float> logits;
  };
  std::vector<Buffers> buffers(request.measurement.batches.size());
  std::vector<kernels::TimedCase> cases;
  const std::string family = fmt::format("mlp_{}/{}", fmt::join(model.layer_sizes(), "_"), request.config.precision);
  for (std::size_t i = 0; i < request.measurement.batches.size(); ++i) {
    const int batch = request.measurement.batches[i];
    const std::size_t per_slot = static_cast<std::size_t>(batch) * static_cast<std::size_t>(features);
    const int slots = kernels::rotation_slots(static_cast<std::int64_t>(per_slot * sizeof(float)), llc);
    Buffers& buf = buffers[i];
    buf.inputs.resize(per_slot * static_cast<std::size_t>(slots));
    buf.logits.resize(static_cast<std::size_t>(batch) * static_cast<std::size_t>(classes));
    for (std::size_t image = 0; image < static_cast<std::size_t>(slots) * static_cast<std::size_t>(batch); ++image) {
      const int source = static_cast<int>(image % static_cast<std::size_t>(data.test.count));
      kernels::normalize_images(model.normalization, data.test.image(source), 1, features,
                                buf.inputs.data() + image * static_cast<std::size_t>(features));
    }
    kernels::TimedCase c;
    c.name = fmt::format("{}/batch:{}", family, batch);
    c.batch = batch;
    c.threads = request.threads;
    c.slots = slots;
    c.ops_per_call = 2.0 * static_cast<double>(model.multiply_adds_per_image()) * batch;
    c.bytes_per_call = static_cast<double>(engine.model_bytes()) +
                       static_cast<double>(batch) * (features + classes) * sizeof(float);
    c.call = [&engine, &buf, per_slot, batch](int slot) {
      engine.forward(buf.inputs.data() + per_slot * static_cast<std::size_t>(slot), batch, buf.logits.data());
    };
    cases.push_back(std::move(c));
  }
  measure(request, cases, result);
}

// The GEMM as a one-layer model: W[n][k] = B[k][n], no bias, no activation
// (the last layer of an Mlp has none), so every precision's engine computes
// A·B with its own kernels.
kernels::Mlp gemm_as_layer(const std::vector<float>& b, int k, int n) {
  kernels::DenseLayer layer;
  layer.inputs = k;
  layer.outputs = n;
  layer.weights.resize(static_cast<std::size_t>(k) * static_cast<std::size_t>(n));
  for (int row = 0; row < k; ++row) {
    for (int col = 0; col < n; ++col) {
      layer.weights[static_cast<std::size_t>(col) * static_cast<std::size_t>(k) + static_cast<std::size_t>(row)] =
          b[static_cast<std::size_t>(row) * static_cast<std::size_t>(n) + static_cast<std::size_t>(col)];
    }
  }
  layer.bias.assign(static_cast<std::size_t>(n), 0.0f);
  kernels::Mlp model;
  model.layers.push_back(std::move(layer));
  return model;
}

// What computes the GEMM: fp32 at 32 bits is a plain sgemm call (OpenBLAS or
// the reference loops); every other mode runs the one-layer model on its engine.
struct GemmRunner {
  std::function<void(const float* a, float* c)> run;
  std::string kernel;
  std::vector<protocol::LayerKernelResult> layers;
  std::int64_t model_bytes = 0;
  std::string weights = "real";
  std::unique_ptr<kernels::InferenceEngine> engine;
  std::string skip_reason;
};

GemmRunner gemm_runner(const EvalRequest& request, const std::vector<float>& b,
                       const kernels::CalibrationSet& calibration) {
  const protocol::GemmWorkload& g = request.config.gemm;
  GemmRunner runner;
  if (request.config.precision == "fp32" && request.config.bits == 32) {
    const kernels::GemmKernelChoice choice =
        kernels::select_gemm_kernel(request.config.precision, request.config.bits, request.config.kernel);
    if (choice.fn == nullptr) {
      runner.skip_reason = choice.skip_reason;
      return runner;
    }
    runner.run = [fn = choice.fn, g, &b](const float* a, float* c) {
      kernels::GemmArgs args;
      args.shape = {g.m, g.n, g.k};
      args.a = a;
      args.lda = g.k;
      args.b = b.data();
      args.ldb = g.n;
      args.c = c;
      args.ldc = g.n;
      fn(args);
    };
    runner.kernel = choice.name;
    runner.layers.push_back({choice.name, "sgemm"});
    runner.model_bytes = static_cast<std::int64_t>(b.size() * sizeof(float));
    return runner;
  }
  kernels::EngineChoice choice =
      kernels::select_engine(gemm_as_layer(b, g.k, g.n), engine_request(request, &calibration));
  if (!choice.engine) {
    runner.skip_reason = choice.skip_reason;
    return runner;
  }
  runner.engine = std::move(choice.engine);
  runner.run = [engine = runner.engine.get(), m = g.m](const float* a, float* c) { engine->forward(a, m, c); };
  runner.kernel = runner.engine->kernel();
  for (const kernels::LayerKernel& layer : runner.engine->layers()) runner.layers.push_back({layer.kernel, layer.impl});
  runner.model_bytes = runner.engine->model_bytes();
  runner.weights = runner.engine->weights();
  return runner;
}

void run_gemm(const EvalRequest& request, protocol::Result& result) {
  const protocol::GemmWorkload& g = request.config.gemm;
  const kernels::GemmProblem problem{g.m, g.k, g.n};
  const auto m = static_cast<std::size_t>(g.m);
  const auto k = static_cast<std::size_t>(g.k);
  const auto n = static_cast<std::size_t>(g.n);
  const std::vector<float> b = kernels::random_uniform_matrix(k * n, kGemmInputSeed + 1);
  // Static activation ranges come from rows of the same distribution as A,
  // never from A itself.
  const std::size_t calibration_rows =
      std::min<std::size_t>(static_cast<std::size_t>(request.config.quant.calibration_samples), std::max<std::size_t>(m, 64));
  const std::vector<float> calibration_values =
      kernels::random_uniform_matrix(calibration_rows * k, kGemmInputSeed + 2);
  const kernels::CalibrationSet calibration{calibration_values.data(), static_cast<int>(calibration_rows), g.k};
  GemmRunner runner = gemm_runner(request, b, calibration);
  if (!runner.run) {
    result.status = protocol::kStatusSkipped;
    result.reason = runner.skip_reason;
    return;
  }
  const int slots = kernels::rotation_slots(static_cast<std::int64_t>(m * k * sizeof(float)),
                                            kernels::last_level_cache_bytes());
  const std::vector<float> a = kernels::random_uniform_matrix(m * k * static_cast<std::size_t>(slots), kGemmInputSeed);
  std::vector<float> c(m * n);
  auto run = [&](int slot) { runner.run(a.data() + m * k * static_cast<std::size_t>(slot), c.data()); };
  run(0);
  const std::vector<double> reference = kernels::gemm_reference_f64(
      problem, std::span<const float>(a.data(), m * k), b);
  const kernels::GemmError error = kernels::gemm_error(c, reference);
  result.error = protocol::GemmError{error.max_rel, error.sqnr_db};
  result.params_nonzero = static_cast<std::int64_t>(std::count_if(b.begin(), b.end(), [](float x) { return x != 0.0f; }));
  result.sparsity = 1.0 - static_cast<double>(result.params_nonzero) / static_cast<double>(k * n);
  result.model_bytes = runner.model_bytes;
  result.weights = runner.weights;
  result.kernel = runner.kernel;
  result.layers = runner.layers;

  kernels::TimedCase timed;
  timed.name = fmt::format("gemm_{}x{}x{}/{}", g.m, g.k, g.n, request.config.precision);
  timed.batch = g.m;
  timed.threads = request.threads;
  timed.slots = slots;
  timed.ops_per_call = 2.0 * problem.multiply_adds();
  timed.bytes_per_call = static_cast<double>((m * k + m * n) * sizeof(float)) + static_cast<double>(runner.model_bytes);
  timed.call = run;
  std::vector<kernels::TimedCase> cases{timed};
  measure(request, cases, result);
}

}  // namespace

std::string repro_command(const EvalRequest& request) {
  const protocol::EvalConfig& c = request.config;
  std::string cmd = "lowbit eval";
  if (c.workload == protocol::kWorkloadGemm) {
    cmd += fmt::format(" --gemm {},{},{}", c.gemm.m, c.gemm.k, c.gemm.n);
  } else {
    const protocol::MlpTraining& t = c.mlp.training;
    cmd += fmt::format(
        " --layers {} --epochs {} --train-batch {} --lr {} --lr-schedule {} --weight-decay {} "
        "--validation-images {} --train-images {} --augment-flip {} --seed {} --train-threads {} "
        "--batch {}",
        kernels::format_layer_sizes(c.mlp.layers), t.epochs, t.batch_size, t.learning_rate,
        t.schedule, t.weight_decay, t.validation_images, t.train_images,
        t.augment_flip ? "on" : "off", t.seed, t.threads,
        fmt::join(request.measurement.batches, ","));
    if (request.data_dir != kernels::default_fashion_mnist_dir()) {
      cmd += fmt::format(" --data {}", request.data_dir.string());
    }
  }
  if (c.quantized()) {
    const protocol::QuantOptions& q = c.quant;
    cmd += fmt::format(" --scheme {} --granularity {} --activations {} --calibration {} "
                       "--calibration-samples {} --percentile {}",
                       q.scheme, q.granularity, q.activations, q.calibration, q.calibration_samples,
                       q.percentile);
  }
  const kernels::LatencySettings& l = request.measurement.latency;
  cmd += fmt::format(" --precision {} --bits {} --kernel {} --threads {} --max-isa {} "
                     "--repetitions {} --min-time-ms {} --warmup-ms {}",
                     c.precision, c.bits, c.kernel, request.threads, request.isa_cap,
                     l.repetitions, l.min_time_ms, l.warmup_ms);
  return cmd;
}

protocol::Result run_eval(const EvalRequest& request) {
  kernels::set_threads(request.threads);
  protocol::Result result;
  result.config = request.config;
  result.config_hash = protocol::config_hash(request.config);
  result.repro = repro_command(request);
  result.target = detect_target(request.threads, request.isa_cap);
  result.version = detect_versions();
  if (request.config.workload == protocol::kWorkloadGemm) {
    run_gemm(request, result);
  } else {
    run_mlp(request, result);
  }
  return result;
}

}  // namespace lowbit::worker
