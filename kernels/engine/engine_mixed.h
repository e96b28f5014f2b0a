#pragma once
// The mixed precision engine (a per-layer policy; docs/precision.md "mixed: a precision per
// layer"): each weight layer runs on its own engine, chosen by the registry for that layer's
// precision as if it were a one-layer model (kernels/engine/engine_registry.h), and the hidden ReLU
// runs between them in fp32. So a layer in int8 is exactly the int8 path's layer, calibrated on the
// inputs that layer sees in the fp32 model, and a layer in int4 is the int4 path's — nothing here
// computes.
//
// Layer engines are built once per (layer, precision) by MixedLayers and shared, so the
// automatic policy search (worker/mixed_policy.h) can compose many policies from a few engines.

#include <memory>
#include <string>
#include <vector>

#include "kernels/engine/engine.h"
#include "kernels/engine/engine_registry.h"
#include "kernels/model/mlp.h"
#include "kernels/quant/quantize.h"

namespace lowbit::kernels {

// One layer's precision: a mode of the bits × precision table and its weight bits.
struct LayerPrecision {
  std::string precision = "fp32";
  int bits = 32;

  friend bool operator==(const LayerPrecision&, const LayerPrecision&) = default;
};

// "fp32", "bf16", "fp16" (32 bits), "int8:8", "int4:3": what the policy lists.
std::string to_string(const LayerPrecision& p);

// "fp32" | "bf16" | "fp16" | "int8[:B]" | "int4[:B]"; without ":B", int8 takes 8 bits and
// int4 `default_bits` (the config's bits, as a sweep's policy entry "int4" does). Throws
// std::invalid_argument naming the entry for anything else (fixed and mixed are whole-model modes)
// or for bits its precision cannot take.
LayerPrecision parse_layer_precision(const std::string& text, int default_bits);

class MixedLayers {
 public:
  // `base`: kernel, quantization options, ISA cap and batch for every layer's request (its
  // precision and bits are replaced per layer; int8 layers are always symmetric, the only
  // scheme that path has, so base's scheme is the int4 layers'). `calibration`: training images
  // (may be null when no layer needs them).
  MixedLayers(const Mlp& model, const EngineRequest& base, const CalibrationSet* calibration);

  int layer_count() const { return static_cast<int>(model_.layers.size()); }

  // Layer l's engine at p, built on first use; null with *reason set when no path runs it.
  std::shared_ptr<InferenceEngine> engine(int layer, const LayerPrecision& p, std::string* reason);

 private:
  struct Built {
    int layer;
    LayerPrecision precision;
    std::shared_ptr<InferenceEngine> engine;
    std::string reason;
  };
  Mlp model_;
  EngineRequest base_;
  std::vector<std::vector<float>> layer_inputs_;  // calibration inputs of layers 1..L−1
  std::vector<CalibrationSet> calibration_;       // per layer; count 0 when none
  std::vector<Built> built_;
};

// The whole model from one engine per layer (inputs of layer l + 1 = outputs of layer l).
// Throws std::invalid_argument when the widths do not chain or the list is empty.
std::unique_ptr<InferenceEngine> make_mixed_engine(
    std::vector<std::shared_ptr<InferenceEngine>> layers, std::vector<LayerPrecision> policy);

}  // namespace lowbit::kernels
