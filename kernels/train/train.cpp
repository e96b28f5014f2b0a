#include "kernels/train/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <numeric>
#include <stdexcept>

#include "kernels/base/library_info.h"
#include "kernels/base/random.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/train/adam.h"
#include "kernels/train/backprop.h"
#include "kernels/train/evaluate.h"
#include "kernels/train/loss.h"

namespace lowbit::kernels {

namespace {

// Distinct streams for initialization and shuffling, so changing the
// number of epochs never changes the initial weights.
constexpr std::uint64_t kShuffleStream = 0x53485546464c45ULL;  // "SHUFFLE"

float scheduled_lr(const TrainSpec& spec, long step, long total_steps) {
  if (spec.schedule == LrSchedule::kConstant || total_steps <= 1) return spec.learning_rate;
  const double progress = static_cast<double>(step) / static_cast<double>(total_steps);
  return static_cast<float>(spec.learning_rate * 0.5 *
                            (1.0 + std::cos(std::numbers::pi * progress)));
}

void mirror_image(const std::uint8_t* src, int rows, int cols, std::uint8_t* dst) {
  for (int r = 0; r < rows; ++r) {
    const std::uint8_t* in = src + static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    std::uint8_t* out = dst + static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    std::reverse_copy(in, in + cols, out);
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Sets the kernel thread count for a scope and restores the caller's.
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads) : saved_(openblas_threads()) { set_threads(threads); }
  ~ScopedThreads() { set_threads(saved_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

}  // namespace

std::string to_string(LrSchedule schedule) {
  return schedule == LrSchedule::kCosine ? "cosine" : "constant";
}

LrSchedule parse_lr_schedule(const std::string& text) {
  if (text == "cosine") return LrSchedule::kCosine;
  if (text == "constant") return LrSchedule::kConstant;
  throw std::invalid_argument(fmt::format("\"{}\" is not one of cosine, constant", text));
}

Mlp init_mlp(const std::vector<int>& layers, std::uint64_t seed) {
  check_layer_sizes(layers);
  Rng rng(seed);
  Mlp model;
  for (std::size_t l = 0; l + 1 < layers.size(); ++l) {
    DenseLayer layer;
    layer.inputs = layers[l];
    layer.outputs = layers[l + 1];
    layer.weights.resize(static_cast<std::size_t>(layer.inputs) *
                         static_cast<std::size_t>(layer.outputs));
    layer.bias.assign(static_cast<std::size_t>(layer.outputs), 0.0f);
    const double sigma = std::sqrt(2.0 / layer.inputs);
    for (float& w : layer.weights) w = static_cast<float>(rng.normal() * sigma);
    model.layers.push_back(std::move(layer));
  }
  return model;
}

InputNormalization fit_normalization(const ImageSet& images) {
  double sum = 0.0;
  double sum_sq = 0.0;
  for (std::uint8_t p : images.pixels) {
    const double x = p / 255.0;
    sum += x;
    sum_sq += x * x;
  }
  const auto n = static_cast<double>(images.pixels.size());
  InputNormalization norm;
  if (n == 0) return norm;
  const double mean = sum / n;
  const double variance = std::max(sum_sq / n - mean * mean, 0.0);
  norm.mean = static_cast<float>(mean);
  // A constant image set would give σ = 0; keep the identity scale instead.
  norm.stddev = variance > 0.0 ? static_cast<float>(std::sqrt(variance)) : 1.0f;
  return norm;
}

namespace {

void check_train_spec(const TrainSpec& spec, const ImageSet& train) {
  check_layer_sizes(spec.layers);
  if (spec.layers.front() != train.features()) {
    throw std::invalid_argument(
        fmt::format("layers: the first size is {} but images have {} pixels", spec.layers.front(),
                    train.features()));
  }
  if (spec.epochs < 0) throw std::invalid_argument("epochs must be ≥ 0");
  if (spec.batch_size < 1) throw std::invalid_argument("batch size must be ≥ 1");
  if (spec.validation_images < 0 || spec.validation_images >= train.count) {
    throw std::invalid_argument(fmt::format("validation images must be in [0, {}), got {}",
                                            train.count, spec.validation_images));
  }
  if (spec.threads < 1) throw std::invalid_argument("training threads must be ≥ 1");
}

// The images trained on (the first spec.train_images of the fit part, when set) and the
// validation part.
TrainValidationSplit training_split(const TrainSpec& spec, const ImageSet& train) {
  TrainValidationSplit split = split_validation(train, spec.validation_images);
  if (spec.train_images > 0 && spec.train_images < split.fit.count) {
    split.fit = split.fit.slice(0, spec.train_images);
  }
  return split;
}

// The loss of plain training.
double cross_entropy_loss(const MiniBatch& batch, const float* logits, int classes,
                          float* dlogits) {
  return softmax_cross_entropy(logits, batch.labels, batch.count, classes, dlogits);
}

// spec.epochs epochs of mini-batch Adam on `model` minimizing `loss`, from fresh optimizer
// state. Shared by training from scratch, fine-tuning and distillation; with cross-entropy and
// without a mask it performs exactly the operations train_mlp always has, so a seed still gives
// the same model bit for bit.
void run_epochs(Mlp& model, const TrainSpec& spec, const TrainValidationSplit& split,
                const BatchLoss& loss, const EpochMask& mask_for_epoch,
                const EpochCallback& on_epoch, std::vector<EpochStats>& history) {
  const ImageSet& fit = split.fit;
  const int features = fit.features();
  const int classes = spec.layers.back();

  Adam adam(model, AdamSettings{.weight_decay = spec.weight_decay});
  Gradients grads = Gradients::zeros_like(model);
  TrainingWorkspace workspace;
  Rng shuffle_rng(spec.seed ^ kShuffleStream);
  std::vector<int> order(static_cast<std::size_t>(fit.count));
  std::iota(order.begin(), order.end(), 0);
  std::vector<float> batch_images(static_cast<std::size_t>(spec.batch_size) *
                                  static_cast<std::size_t>(features));
  std::vector<std::uint8_t> batch_pixels(batch_images.size());
  std::vector<std::uint8_t> batch_labels(static_cast<std::size_t>(spec.batch_size));
  std::vector<float> dlogits(static_cast<std::size_t>(spec.batch_size) *
                             static_cast<std::size_t>(classes));

  const long steps_per_epoch = (fit.count + spec.batch_size - 1) / spec.batch_size;
  const long total_steps = steps_per_epoch * spec.epochs;
  long step = 0;
  for (int epoch = 1; epoch <= spec.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const PruneMask* mask = mask_for_epoch ? mask_for_epoch(epoch, model) : nullptr;
    if (mask != nullptr) apply_mask(*mask, model);
    shuffle_rng.shuffle(std::span<int>(order));
    double loss_sum = 0.0;
    for (int first = 0; first < fit.count; first += spec.batch_size) {
      const int batch = std::min(spec.batch_size, fit.count - first);
      for (int b = 0; b < batch; ++b) {
        const int index = order[static_cast<std::size_t>(first + b)];
        std::uint8_t* dst =
            batch_pixels.data() + static_cast<std::size_t>(b) * static_cast<std::size_t>(features);
        if (spec.augment_flip && (shuffle_rng.next_u64() & 1u) != 0) {
          mirror_image(fit.image(index), fit.rows, fit.cols, dst);
        } else {
          std::copy_n(fit.image(index), features, dst);
        }
        batch_labels[static_cast<std::size_t>(b)] = fit.labels[static_cast<std::size_t>(index)];
      }
      normalize_images(model.normalization, batch_pixels.data(), batch, features,
                       batch_images.data());
      const float* logits = workspace.forward(model, batch_images.data(), batch, &sgemm_openblas);
      const MiniBatch mini_batch{batch_pixels.data(), batch_labels.data(), batch, features};
      loss_sum += loss(mini_batch, logits, classes, dlogits.data()) * batch;
      workspace.backward(model, dlogits.data(), grads, &sgemm_openblas);
      const float lr = scheduled_lr(spec, step, total_steps);
      if (mask != nullptr) {
        adam.step(model, grads, lr, *mask);
      } else {
        adam.step(model, grads, lr);
      }
      ++step;
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.loss = loss_sum / fit.count;
    stats.validation_top1 = split.validation.count > 0 ? top1_fp32(model, split.validation) : 0.0;
    stats.seconds = seconds_since(epoch_start);
    history.push_back(stats);
    if (on_epoch) on_epoch(stats);
  }
}

}  // namespace

TrainResult train_mlp(const TrainSpec& spec, const ImageSet& train, const EpochCallback& on_epoch) {
  return train_mlp_with_loss(spec, train, &cross_entropy_loss, on_epoch);
}

TrainResult train_mlp_with_loss(const TrainSpec& spec, const ImageSet& train, const BatchLoss& loss,
                                const EpochCallback& on_epoch) {
  check_train_spec(spec, train);
  if (!loss) throw std::invalid_argument("loss: no loss function given");
  const auto start = std::chrono::steady_clock::now();
  const ScopedThreads threads(spec.threads);
  const TrainValidationSplit split = training_split(spec, train);
  TrainResult result;
  result.model = init_mlp(spec.layers, spec.seed);
  result.model.normalization = fit_normalization(split.fit);
  run_epochs(result.model, spec, split, loss, {}, on_epoch, result.history);
  result.seconds = seconds_since(start);
  return result;
}

TrainResult train_from(Mlp model, const TrainSpec& spec, const ImageSet& train,
                       const EpochMask& mask_for_epoch, const EpochCallback& on_epoch) {
  check_train_spec(spec, train);
  if (model.layer_sizes() != spec.layers) {
    throw std::invalid_argument(fmt::format("layers: the spec says {} but the model has {}",
                                            format_layer_sizes(spec.layers),
                                            format_layer_sizes(model.layer_sizes())));
  }
  const auto start = std::chrono::steady_clock::now();
  const ScopedThreads threads(spec.threads);
  const TrainValidationSplit split = training_split(spec, train);
  TrainResult result;
  result.model = std::move(model);
  run_epochs(result.model, spec, split, &cross_entropy_loss, mask_for_epoch, on_epoch,
             result.history);
  result.seconds = seconds_since(start);
  return result;
}

double top1_fp32(const Mlp& model, const ImageSet& images) {
  auto engine = make_fp32_openblas_engine(model);
  return evaluate(*engine, model.normalization, images).top1;
}

}  // namespace lowbit::kernels
