// `lowbit eval`: train or load a model, evaluate one variant, print one result.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/result_printer.h"
#include "kernels/dataset.h"
#include "kernels/engine_registry.h"
#include "kernels/idx_reader.h"
#include "kernels/model_cache.h"
#include "kernels/mlp.h"
#include "kernels/train.h"
#include "protocol/eval_config.h"
#include "worker/eval_job.h"

namespace lowbit::cli {

namespace {

struct EvalOptions {
  std::string layers = "784,128,10";
  std::string lr_schedule;
  std::string augment_flip = "on";
  std::string data_dir = kernels::default_fashion_mnist_dir().string();
  std::string cache_dir;
  int threads = 0;
  bool json = false;
  worker::EvalRequest request;
};

int run(EvalOptions& o) {
  worker::EvalRequest& request = o.request;
  try {
    request.config.mlp.layers = kernels::parse_layer_sizes(o.layers);
  } catch (const std::invalid_argument& e) {
    std::cerr << "lowbit eval: --layers: " << e.what() << "\n";
    return kExitUsage;
  }
  request.config.mlp.training.augment_flip = o.augment_flip == "on";
  if (!o.lr_schedule.empty()) request.config.mlp.training.schedule = o.lr_schedule;
  request.data_dir = o.data_dir;
  request.cache_dir = o.cache_dir.empty() ? kernels::default_cache_dir() : std::filesystem::path(o.cache_dir);
  request.threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  protocol::Result result;
  try {
    result = worker::run_eval(request);
  } catch (const kernels::DataError& e) {
    std::cerr << "lowbit eval: data: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::invalid_argument& e) {
    std::cerr << "lowbit eval: " << e.what() << "\n";
    return kExitUsage;
  }
  if (o.json) {
    std::cout << nlohmann::json(result).dump(2) << "\n";
  } else {
    print_result(std::cout, result);
  }
  return result.status == protocol::kStatusFailed ? kExitFailed : kExitOk;
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  EvalOptions& o = *options;
  protocol::MlpTraining& t = o.request.config.mlp.training;
  auto* cmd = app.add_subcommand("eval", "train or load a model, evaluate one variant, print one result");
  cmd->add_option("--layers", o.layers, "layer sizes, input first")->capture_default_str();
  cmd->add_option("--epochs", t.epochs, "training epochs")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--train-batch", t.batch_size, "training mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr", t.learning_rate, "Adam learning rate (peak of the schedule)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr-schedule", o.lr_schedule, "learning-rate schedule")->check(CLI::IsMember({"cosine", "constant"}))->default_str(t.schedule);
  cmd->add_option("--weight-decay", t.weight_decay, "decoupled weight decay (AdamW)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--validation-images", t.validation_images, "training images held out for validation")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--train-images", t.train_images, "train on this many images (0: all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--augment-flip", o.augment_flip, "mirror training images at random")->capture_default_str()->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--seed", t.seed, "training seed")->capture_default_str();
  cmd->add_option("--train-threads", t.threads, "threads for training (part of the model's identity)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--precision", o.request.config.precision, "compute precision")->capture_default_str()->check(CLI::IsMember(protocol::precision_modes()));
  cmd->add_option("--bits", o.request.config.bits, "weight bit width (32: no integer quantization)")->capture_default_str()->check(CLI::IsMember({2, 3, 4, 5, 6, 7, 8, 32}));
  std::vector<std::string> kernels_allowed{"auto"};
  for (const std::string& p : kernels::engine_paths()) kernels_allowed.push_back(p);
  cmd->add_option("--kernel", o.request.config.kernel, "force a compute path")->capture_default_str()->check(CLI::IsMember(kernels_allowed));
  cmd->add_option("--threads", o.threads, "threads for OpenBLAS and oneDNN (default: all cores)")->check(CLI::PositiveNumber);
  cmd->add_option("--data", o.data_dir, "folder with the Fashion-MNIST IDX files")->capture_default_str();
  cmd->add_option("--cache", o.cache_dir, "model cache folder (default $XDG_CACHE_HOME/lowbit or ~/.cache/lowbit)");
  cmd->add_flag("--json", o.json, "print the result document as JSON on stdout");
  cmd->callback([options] { set_exit_code(run(*options)); });
}

}  // namespace lowbit::cli
