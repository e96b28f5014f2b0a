#include "worker/eval_job.h"

#include <fmt/format.h>

#include "kernels/base/library_info.h"
#include "kernels/model/dataset.h"
#include "kernels/model/mlp.h"
#include "kernels/train/distill.h"
#include "worker/eval_steps.h"
#include "worker/mixed_policy.h"
#include "worker/prune_request.h"
#include "worker/quant_request.h"
#include "worker/target_detect.h"

namespace lowbit::worker {

kernels::EngineRequest engine_request(const EvalRequest& request,
                                      const kernels::CalibrationSet* calibration) {
  const protocol::EvalConfig& c = request.config;
  kernels::EngineRequest r;
  r.precision = c.precision;
  r.bits = c.bits;
  r.kernel = c.kernel;
  r.quant = to_quant_spec(c);
  r.group_size = c.quant.group_size;
  r.calibration = calibration;
  r.isa_cap = request.isa_cap;
  return r;
}

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
  if (c.distill.active()) {
    cmd += fmt::format(" --distill-from {} --temperature {} --alpha {}",
                       kernels::format_layer_sizes(c.distill.teacher), c.distill.temperature,
                       c.distill.alpha);
  }
  if (c.prune.active()) {
    const protocol::PruneOptions& p = c.prune;
    cmd += fmt::format(" --prune {} --prune-method {} --finetune-epochs {} --prune-schedule {}",
                       p.ratio, p.method, p.finetune_epochs, p.schedule);
    if (p.method == "n:m") cmd += fmt::format(" --nm {}", p.nm);
  }
  if (c.quantized() && c.precision == "int4") {
    // What int4 reads (protocol/eval_config.h); its activations take no options.
    cmd += fmt::format(" --scheme {} --group-size {} --calibration-samples {}", c.quant.scheme,
                       c.quant.group_size, c.quant.calibration_samples);
  } else if (c.quantized()) {
    const protocol::QuantOptions& q = c.quant;
    cmd += fmt::format(
        " --scheme {} --granularity {} --activations {} --calibration {} "
        "--calibration-samples {} --percentile {}",
        q.scheme, q.granularity, q.activations, q.calibration, q.calibration_samples, q.percentile);
  }
  if (c.precision == "mixed") {
    cmd += c.mixed.automatic
               ? fmt::format(" --layer-precision auto --accuracy-budget {}", c.mixed.budget)
               : fmt::format(" --layer-precision {}", fmt::join(c.mixed.policy, ","));
    if (c.quantized()) cmd += fmt::format(" --group-size {}", c.quant.group_size);
  }
  const kernels::LatencySettings& l = request.measurement.latency;
  cmd += fmt::format(
      " --precision {} --bits {} --kernel {} --threads {} --max-isa {} "
      "--repetitions {} --min-time-ms {} --warmup-ms {}",
      c.precision, c.bits, c.kernel, request.threads, request.isa_cap, l.repetitions, l.min_time_ms,
      l.warmup_ms);
  return cmd;
}

namespace {

// A mixed policy is per layer: it needs the MLP, one entry per weight layer, or auto with a
// budget that is a fraction.
void check_mixed(const protocol::EvalConfig& c) {
  if (c.workload == protocol::kWorkloadGemm) {
    throw std::invalid_argument(
        "--precision mixed needs the mlp workload: its policy is per layer, a GEMM has one");
  }
  if (c.mixed.automatic) {
    if (!(c.mixed.budget >= 0.0 && c.mixed.budget <= 1.0)) {
      throw std::invalid_argument(
          fmt::format("--accuracy-budget must be a fraction in [0, 1], not {}", c.mixed.budget));
    }
    return;
  }
  given_policy(c, static_cast<int>(c.mlp.layers.size()) - 1);
}

}  // namespace

protocol::Result run_eval(const EvalRequest& request) {
  // Input errors first, before any data is read or model trained.
  to_quant_spec(request.config);
  if (request.config.precision == "mixed") check_mixed(request.config);
  if (request.config.prune.active()) {
    if (request.config.workload == protocol::kWorkloadGemm) {
      throw std::invalid_argument("pruning applies to the mlp workload, not to --gemm");
    }
    to_prune_spec(request.config.mlp, request.config.prune);
  }
  if (request.config.distill.active()) {
    const protocol::DistillOptions& d = request.config.distill;
    if (request.config.workload == protocol::kWorkloadGemm) {
      throw std::invalid_argument("distill-from: distillation trains an mlp student, not a --gemm");
    }
    kernels::check_distill_spec({d.temperature, d.alpha});
    kernels::check_distill_layers(request.config.mlp.layers, d.teacher);
  }
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
