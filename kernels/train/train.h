#pragma once
// Training an MLP from a seed: He initialization, mini-batch Adam, a
// learning-rate schedule, deterministic for a given seed and thread count
// (our own RNG; OpenBLAS splits work by thread count, not by timing).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/model/dataset.h"
#include "kernels/model/mlp.h"
#include "kernels/model/prune_mask.h"

namespace lowbit::kernels {

enum class LrSchedule : std::uint8_t { kConstant, kCosine };

struct TrainSpec {
  std::vector<int> layers{784, 128, 10};
  int epochs = 30;
  int batch_size = 128;
  float learning_rate = 1e-3f;
  LrSchedule schedule = LrSchedule::kCosine;
  float weight_decay = 0.05f;
  int validation_images = 5000;  // taken from the end of the training set
  int train_images = 0;          // 0: all the rest; tests train on subsets
  // Mirror each training image left-right with probability 1/2. Fashion-MNIST
  // classes are symmetric under it (a mirrored shoe is a shoe), so it is a
  // free, label-preserving augmentation that curbs overfitting.
  bool augment_flip = true;
  std::uint64_t seed = 1;
  // Threads for training's GEMMs, separate from the threads a result is
  // measured with. The model is a function of (spec, data) only because this
  // is part of the spec: float sums split differently across threads round
  // differently. One thread is the default: at batch 128 a second thread
  // buys little, and two OpenMP threads on a busy 2-core machine spin.
  int threads = 1;
};

struct EpochStats {
  int epoch = 0;
  double loss = 0.0;             // mean training loss over the epoch
  double validation_top1 = 0.0;  // 0 when there is no validation split
  double seconds = 0.0;
};

struct TrainResult {
  Mlp model;
  std::vector<EpochStats> history;
  double seconds = 0.0;
};

std::string to_string(LrSchedule schedule);
LrSchedule parse_lr_schedule(const std::string& text);  // throws std::invalid_argument

// He-normal weights (σ = √(2 / fan_in)), zero biases.
Mlp init_mlp(const std::vector<int>& layers, std::uint64_t seed);

// Mean and standard deviation of all pixels of `images`, scaled to [0, 1].
InputNormalization fit_normalization(const ImageSet& images);

// Called after every epoch (progress output); may be empty.
using EpochCallback = std::function<void(const EpochStats&)>;

TrainResult train_mlp(const TrainSpec& spec, const ImageSet& train, const EpochCallback& on_epoch);

// One mini-batch as a training step sees it: the pixels after augmentation (count × features,
// not yet normalized, so a second model can normalize them its own way) and the labels.
struct MiniBatch {
  const std::uint8_t* pixels = nullptr;
  const std::uint8_t* labels = nullptr;
  int count = 0;
  int features = 0;
};

// The loss a training step minimizes: given the mini-batch and the model's logits for it
// (count × classes), returns the mean loss and writes d(loss)/d(logits), already divided by
// the batch size, into dlogits (kernels/train/loss.h's convention).
using BatchLoss =
    std::function<double(const MiniBatch& batch, const float* logits, int classes, float* dlogits)>;

// train_mlp minimizing `loss` instead of softmax cross-entropy, with everything else the same
// (initialization, normalization, data order, augmentation, optimizer, schedule, validation),
// so two losses are compared on equal terms. `loss` is called with the kernel thread count set
// to spec.threads, like the rest of the step.
TrainResult train_mlp_with_loss(const TrainSpec& spec, const ImageSet& train, const BatchLoss& loss,
                                const EpochCallback& on_epoch);

// Called at the start of each epoch (1-based) of train_from with the model as it stands; may
// change it (prune it further) and returns the mask to hold fixed through that epoch, or null
// for none. The mask must outlive the epoch.
using EpochMask = std::function<const PruneMask*(int epoch, Mlp& model)>;

// Continues training an existing model (fine-tuning): no initialization, the model's input
// normalization kept as it is, fresh Adam state, and spec's epochs, batch size, learning rate
// and schedule, weight decay, augmentation, data split, seed and threads. spec.layers must be
// the model's layer sizes. Where `mask_for_epoch` gives a mask, the masked weights are set to
// zero before the epoch's first step and stay exactly zero after every step (Adam's masked step
// also zeroes their moments). An empty `mask_for_epoch` trains every weight.
TrainResult train_from(Mlp model, const TrainSpec& spec, const ImageSet& train,
                       const EpochMask& mask_for_epoch, const EpochCallback& on_epoch);

// Top-1 of `model` on `images` with the fp32 OpenBLAS path (used for validation).
double top1_fp32(const Mlp& model, const ImageSet& images);

}  // namespace lowbit::kernels
