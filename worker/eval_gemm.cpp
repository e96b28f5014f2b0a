#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "kernels/base/library_info.h"
#include "kernels/engine/engine_registry.h"
#include "kernels/gemm/gemm_workload.h"
#include "worker/eval_steps.h"

namespace lowbit::worker {

namespace {

// The seed of the gemm workload's inputs: fixed, so every target multiplies
// the same matrices.
constexpr std::uint64_t kGemmInputSeed = 0x67656d6dULL;  // "gemm"

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
      layer.weights[static_cast<std::size_t>(col) * static_cast<std::size_t>(k) +
                    static_cast<std::size_t>(row)] =
          b[static_cast<std::size_t>(row) * static_cast<std::size_t>(n) +
            static_cast<std::size_t>(col)];
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
    const kernels::GemmKernelChoice choice = kernels::select_gemm_kernel(
        request.config.precision, request.config.bits, request.config.kernel);
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
  runner.run = [engine = runner.engine.get(), m = g.m](const float* a, float* c) {
    engine->forward(a, m, c);
  };
  runner.kernel = runner.engine->kernel();
  for (const kernels::LayerKernel& layer : runner.engine->layers())
    runner.layers.push_back({layer.kernel, layer.impl});
  runner.model_bytes = runner.engine->model_bytes();
  runner.weights = runner.engine->weights();
  return runner;
}

}  // namespace

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
      std::min<std::size_t>(static_cast<std::size_t>(request.config.quant.calibration_samples),
                            std::max<std::size_t>(m, 64));
  const std::vector<float> calibration_values =
      kernels::random_uniform_matrix(calibration_rows * k, kGemmInputSeed + 2);
  const kernels::CalibrationSet calibration{calibration_values.data(),
                                            static_cast<int>(calibration_rows), g.k};
  GemmRunner runner = gemm_runner(request, b, calibration);
  if (!runner.run) {
    result.status = protocol::kStatusSkipped;
    result.reason = runner.skip_reason;
    return;
  }
  const int slots = kernels::rotation_slots(static_cast<std::int64_t>(m * k * sizeof(float)),
                                            kernels::last_level_cache_bytes());
  const std::vector<float> a =
      kernels::random_uniform_matrix(m * k * static_cast<std::size_t>(slots), kGemmInputSeed);
  std::vector<float> c(m * n);
  auto run = [&](int slot) {
    runner.run(a.data() + m * k * static_cast<std::size_t>(slot), c.data());
  };
  run(0);
  const std::vector<double> reference =
      kernels::gemm_reference_f64(problem, std::span<const float>(a.data(), m * k), b);
  const kernels::GemmError error = kernels::gemm_error(c, reference);
  result.error = protocol::GemmError{error.max_rel, error.sqnr_db};
  result.params_nonzero = static_cast<std::int64_t>(
      std::count_if(b.begin(), b.end(), [](float x) { return x != 0.0f; }));
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
  timed.bytes_per_call = static_cast<double>((m * k + m * n) * sizeof(float)) +
                         static_cast<double>(runner.model_bytes);
  timed.call = run;
  std::vector<kernels::TimedCase> cases{timed};
  measure(request, cases, result);
}

}  // namespace lowbit::worker
