// `lowbit eval`: train or load a model (or set up a GEMM), evaluate one
// variant, measure its latency, print one result.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/result_printer.h"
#include "protocol/eval_config.h"
#include "worker/eval_inputs.h"
#include "worker/eval_job.h"
#include "worker/gbench_json.h"
#include "worker/isa_cap.h"
#include "worker/measure_lock.h"

namespace lowbit::cli {

namespace {

struct EvalOptions {
  std::string layers = "784,128,10";
  std::string lr_schedule;
  std::string augment_flip = "on";
  std::string batches = "1,64,1024";
  std::string gemm;
  std::string distill_from;
  std::string data_dir = worker::default_data_dir().string();
  std::string cache_dir;
  std::string max_isa = "native";
  std::string measure_lock = worker::default_measure_lock_path().string();
  int threads = 0;
  bool json = false;
  std::string format = "text";
  worker::EvalRequest request;
  CLI::Option* batch_option = nullptr;
  CLI::Option* scheme_option = nullptr;
  CLI::Option* bits_option = nullptr;
  std::string layer_precision;
  CLI::Option* budget_option = nullptr;
};

void parse_workload(EvalOptions& o) {
  worker::EvalRequest& request = o.request;
  if (!o.gemm.empty()) {
    if (o.batch_option->count() > 0) {
      throw UsageError("--gemm and --batch exclude each other: a GEMM's batch is its M");
    }
    if (!o.distill_from.empty()) {
      throw UsageError("--distill-from: distillation trains an mlp student; --gemm has no model");
    }
    try {
      request.config.gemm = worker::parse_gemm_shape(o.gemm);
      request.config.workload = protocol::kWorkloadGemm;
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--gemm: {}", e.what()));
    }
    request.measurement.batches = {request.config.gemm.m};
    return;
  }
  try {
    request.config.mlp.layers = worker::parse_layer_sizes(o.layers);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--layers: {}", e.what()));
  }
  try {
    request.measurement.batches = worker::parse_size_list(o.batches);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--batch: {}", e.what()));
  }
  if (!o.distill_from.empty()) {
    try {
      request.config.distill.teacher = worker::parse_layer_sizes(o.distill_from);
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--distill-from: {}", e.what()));
    }
  }
  request.config.mlp.training.augment_flip = o.augment_flip == "on";
  // n:m fixes its ratio: --prune may be left out, and a different one is an error.
  protocol::PruneOptions& prune = request.config.prune;
  if (prune.method == "n:m") {
    try {
      const double implied = worker::nm_pattern_ratio(prune.nm);
      if (prune.ratio == 0.0) prune.ratio = implied;
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--nm: {}", e.what()));
    }
  }
  if (!o.lr_schedule.empty()) request.config.mlp.training.schedule = o.lr_schedule;
}

// int4's default scheme is asymmetric: chosen on accuracy at 4 bits, G = 32 (docs/precision.md);
// every other mode keeps symmetric weights unless told otherwise.
// mixed: its int4 layers take the scheme (int8 layers are always symmetric) and, unless --bits
// says otherwise, 4 bits.
void apply_precision_defaults(EvalOptions& o) {
  protocol::EvalConfig& c = o.request.config;
  const bool packed = c.precision == "int4" || c.precision == "mixed";
  if (packed && o.scheme_option->count() == 0) c.quant.scheme = "asym";
  if (c.precision == "mixed" && o.bits_option->count() == 0) c.bits = 4;
}

void parse_mixed(EvalOptions& o) {
  protocol::EvalConfig& c = o.request.config;
  if (c.precision != "mixed") {
    if (!o.layer_precision.empty())
      throw UsageError("--layer-precision goes with --precision mixed");
    if (o.budget_option->count() > 0)
      throw UsageError("--accuracy-budget goes with --precision mixed --layer-precision auto");
    return;
  }
  if (o.layer_precision.empty()) {
    throw UsageError(
        "--precision mixed needs --layer-precision (one precision per layer, or auto)");
  }
  c.mixed.automatic = o.layer_precision == "auto";
  if (c.mixed.automatic) {
    if (o.budget_option->count() == 0)
      throw UsageError("--layer-precision auto needs --accuracy-budget");
    return;
  }
  if (o.budget_option->count() > 0)
    throw UsageError("--accuracy-budget goes with --layer-precision auto");
  c.mixed.policy.clear();
  std::size_t start = 0;
  while (start <= o.layer_precision.size()) {
    const std::size_t comma = o.layer_precision.find(',', start);
    const std::size_t end = comma == std::string::npos ? o.layer_precision.size() : comma;
    c.mixed.policy.push_back(o.layer_precision.substr(start, end - start));
    start = end + 1;
  }
}

int run(EvalOptions& o, char** argv) {
  worker::EvalRequest& request = o.request;
  try {
    parse_workload(o);
    apply_precision_defaults(o);
    parse_mixed(o);
    worker::enter_isa_cap(o.max_isa, argv);  // may re-execute this process
    worker::verify_isa_cap(o.max_isa);
  } catch (const std::invalid_argument& e) {
    std::cerr << "lowbit eval: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::runtime_error& e) {
    std::cerr << "lowbit eval: --max-isa: " << e.what() << "\n";
    return kExitFailed;
  }
  request.isa_cap = o.max_isa;
  request.data_dir = o.data_dir;
  if (o.measure_lock != "off") request.measure_lock = o.measure_lock;
  request.cache_dir =
      o.cache_dir.empty() ? worker::default_cache_dir() : std::filesystem::path(o.cache_dir);
  request.threads = o.threads > 0
                        ? o.threads
                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  protocol::Result result;
  try {
    result = worker::run_eval(request);
  } catch (const worker::DataError& e) {
    std::cerr << "lowbit eval: data: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::invalid_argument& e) {
    std::cerr << "lowbit eval: " << e.what() << "\n";
    return kExitUsage;
  }
  const std::string format = o.json ? "json" : o.format;
  if (format == "json") {
    std::cout << nlohmann::json(result).dump(2) << "\n";
  } else if (format == "gbench-json") {
    std::cout << worker::to_gbench_json(result).dump(2) << "\n";
  } else {
    print_result(std::cout, result);
  }
  return result.status == protocol::kStatusFailed ? kExitFailed : kExitOk;
}

}  // namespace

void add_eval_command(CLI::App& app, char** argv) {
  auto options = std::make_shared<EvalOptions>();
  EvalOptions& o = *options;
  protocol::MlpTraining& t = o.request.config.mlp.training;
  auto& l = o.request.measurement.latency;
  auto* cmd = app.add_subcommand("eval", "evaluate one variant: accuracy and latency, one result");

  cmd->add_option("--layers", o.layers, "MLP layer sizes, input first")
      ->capture_default_str()
      ->group("Workload");
  cmd->add_option("--gemm", o.gemm, "a raw GEMM M,K,N instead of the MLP (error against fp64)")
      ->group("Workload");
  cmd->add_option("--data", o.data_dir, "folder with the Fashion-MNIST IDX files")
      ->capture_default_str()
      ->group("Workload");

  cmd->add_option("--epochs", t.epochs, "training epochs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Training");
  cmd->add_option("--train-batch", t.batch_size, "training mini-batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Training");
  cmd->add_option("--lr", t.learning_rate, "Adam learning rate (peak of the schedule)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Training");
  cmd->add_option("--lr-schedule", o.lr_schedule, "learning-rate schedule")
      ->check(CLI::IsMember({"cosine", "constant"}))
      ->default_str(t.schedule)
      ->group("Training");
  cmd->add_option("--weight-decay", t.weight_decay, "decoupled weight decay (AdamW)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Training");
  cmd->add_option("--validation-images", t.validation_images,
                  "training images held out for validation")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Training");
  cmd->add_option("--train-images", t.train_images, "train on this many images (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Training");
  cmd->add_option("--augment-flip", o.augment_flip, "mirror training images at random")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}))
      ->group("Training");
  cmd->add_option("--seed", t.seed, "training seed")->capture_default_str()->group("Training");
  cmd->add_option("--train-threads", t.threads,
                  "threads for training (part of the model's identity)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Training");
  cmd->add_option("--cache", o.cache_dir,
                  "model and peak cache folder (default $XDG_CACHE_HOME/lowbit or ~/.cache/lowbit)")
      ->group("Training");

  cmd->add_option("--precision", o.request.config.precision, "compute precision")
      ->capture_default_str()
      ->check(CLI::IsMember(worker::precision_modes()))
      ->group("Variant");
  cmd->add_option("--bits", o.request.config.bits, "weight bit width (32: no integer quantization)")
      ->capture_default_str()
      ->check(CLI::IsMember({2, 3, 4, 5, 6, 7, 8, 32}))
      ->group("Variant");
  protocol::PruneOptions& pr = o.request.config.prune;
  cmd->add_option("--prune", pr.ratio,
                  "fraction of the weights to remove, in [0, 1) (n:m: 1 − n/m)")
      ->capture_default_str()
      ->group("Variant");
  cmd->add_option("--prune-method", pr.method,
                  "magnitude: global threshold; structured: whole neurons; n:m: n of every m")
      ->capture_default_str()
      ->check(CLI::IsMember({"magnitude", "structured", "n:m"}))
      ->group("Variant");
  cmd->add_option("--nm", pr.nm, "the n:m pattern")->capture_default_str()->group("Variant");
  cmd->add_option("--finetune-epochs", pr.finetune_epochs,
                  "fine-tuning epochs after pruning, mask fixed")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Variant");
  cmd->add_option("--prune-schedule", pr.schedule,
                  "prune once, or gradually over the fine-tuning epochs")
      ->capture_default_str()
      ->check(CLI::IsMember({"oneshot", "gradual"}))
      ->group("Variant");
  protocol::DistillOptions& d = o.request.config.distill;
  cmd->add_option("--distill-from", o.distill_from,
                  "train the model as a student of a teacher with these layer sizes")
      ->group("Variant");
  cmd->add_option("--temperature", d.temperature,
                  "distillation: softmax temperature of the soft targets")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Variant");
  cmd->add_option("--alpha", d.alpha,
                  "distillation: weight of the soft loss (1 − alpha weighs the labels)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0))
      ->group("Variant");
  protocol::QuantOptions& q = o.request.config.quant;
  cmd->add_option("--scheme", q.scheme, "weight quantization: symmetric or asymmetric (bits ≤ 8)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sym", "asym"}))
      ->group("Variant");
  cmd->add_option("--granularity", q.granularity,
                  "weight scales per output channel or per tensor (bits ≤ 8)")
      ->capture_default_str()
      ->check(CLI::IsMember({"channel", "tensor"}))
      ->group("Variant");
  cmd->add_option("--activations", q.activations,
                  "int8 activation ranges: calibrated once or measured per batch")
      ->capture_default_str()
      ->check(CLI::IsMember({"static", "dynamic"}))
      ->group("Variant");
  cmd->add_option("--calibration", q.calibration,
                  "static activation calibration on training images")
      ->capture_default_str()
      ->check(CLI::IsMember({"minmax", "percentile", "mse"}))
      ->group("Variant");
  cmd->add_option("--calibration-samples", q.calibration_samples, "training images for calibration")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Variant");
  o.scheme_option = cmd->get_option("--scheme");
  o.bits_option = cmd->get_option("--bits");
  cmd->add_option("--layer-precision", o.layer_precision,
                  "mixed: one of fp32, bf16, fp16, int8[:B], int4[:B] per weight layer, or auto")
      ->group("Variant");
  o.budget_option =
      cmd->add_option("--accuracy-budget", o.request.config.mixed.budget,
                      "mixed auto: the largest validation top-1 loss allowed, a fraction")
          ->check(CLI::Range(0.0, 1.0))
          ->group("Variant");
  cmd->add_option("--group-size", q.group_size, "int4: weights per group scale and zero point")
      ->capture_default_str()
      ->check(CLI::IsMember({32, 64, 128}))
      ->group("Variant");
  cmd->add_option("--percentile", q.percentile, "clipping percentile for --calibration percentile")
      ->capture_default_str()
      ->check(CLI::Range(50.0, 100.0))
      ->group("Variant");
  std::vector<std::string> kernels_allowed{"auto"};
  for (const std::string& p : worker::compute_paths()) kernels_allowed.push_back(p);
  cmd->add_option("--kernel", o.request.config.kernel, "force a compute path")
      ->capture_default_str()
      ->check(CLI::IsMember(kernels_allowed))
      ->group("Variant");

  o.batch_option = cmd->add_option("--batch", o.batches, "batch sizes to time")
                       ->capture_default_str()
                       ->group("Measurement");
  cmd->add_option("--repetitions", l.repetitions, "repetitions per batch size (one sample each)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Measurement");
  cmd->add_option("--min-time-ms", l.min_time_ms, "minimum time per repetition")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Measurement");
  cmd->add_option("--warmup-ms", l.warmup_ms, "warm-up before the first repetition")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Measurement");
  cmd->add_option("--measure-lock", o.measure_lock,
                  "host-wide lock held while timing, so processes never measure at once; off: none")
      ->capture_default_str()
      ->group("Measurement");
  cmd->add_option("--threads", o.threads, "threads for OpenBLAS and oneDNN (default: all cores)")
      ->check(CLI::PositiveNumber)
      ->group("Measurement");
  cmd->add_option("--max-isa", o.max_isa, "cap the ISA for the whole process")
      ->capture_default_str()
      ->check(CLI::IsMember(worker::isa_cap_names()))
      ->group("Measurement");

  cmd->add_flag("--json", o.json, "print the result document as JSON (same as --format json)")
      ->group("Output");
  cmd->add_option("--format", o.format, "output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json", "gbench-json"}))
      ->group("Output");
  cmd->callback([options, argv] { set_exit_code(run(*options, argv)); });
}

}  // namespace lowbit::cli
