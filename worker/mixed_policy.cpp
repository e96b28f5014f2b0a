#include "worker/mixed_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <stdexcept>

#include "kernels/train/evaluate.h"

namespace lowbit::worker {

namespace {

using kernels::InferenceEngine;
using kernels::LayerPrecision;

// Policies beyond this many are not scored (a deeper model's product grows fast); the cheapest
// by estimate come first, so what is cut is the slowest.
constexpr std::size_t kMaxScored = 256;
// Policies within budget that are timed whole, cheapest estimate first.
constexpr std::size_t kTimedWhole = 4;
// Timing for ranking: a few repetitions of at least this long each, median per call.
constexpr int kRankRepetitions = 7;
constexpr double kRankRepetitionSeconds = 0.005;

double median_us(InferenceEngine& engine, const std::vector<float>& src, int batch) {
  std::vector<float> dst(static_cast<std::size_t>(batch) *
                         static_cast<std::size_t>(engine.outputs()));
  for (int i = 0; i < 3; ++i) engine.forward(src.data(), batch, dst.data());  // warm-up
  std::vector<double> per_call;
  using Clock = std::chrono::steady_clock;
  for (int r = 0; r < kRankRepetitions; ++r) {
    int calls = 0;
    const auto start = Clock::now();
    double elapsed = 0.0;
    do {
      engine.forward(src.data(), batch, dst.data());
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < kRankRepetitionSeconds);
    per_call.push_back(elapsed / calls * 1e6);
  }
  std::nth_element(per_call.begin(), per_call.begin() + kRankRepetitions / 2, per_call.end());
  return per_call[kRankRepetitions / 2];
}

std::vector<std::string> names(const std::vector<LayerPrecision>& policy) {
  std::vector<std::string> out;
  for (const LayerPrecision& p : policy) out.push_back(kernels::to_string(p));
  return out;
}

struct Scored {
  std::vector<int> option;  // per layer, an index into options[layer]
  double estimated_us = 0.0;
  double validation_top1 = 0.0;
  bool within_budget = false;
  std::optional<double> measured_us;
};

std::unique_ptr<InferenceEngine> compose(kernels::MixedLayers& layers,
                                         const std::vector<LayerPrecision>& policy) {
  std::vector<std::shared_ptr<InferenceEngine>> engines;
  for (std::size_t l = 0; l < policy.size(); ++l) {
    engines.push_back(layers.engine(static_cast<int>(l), policy[l], nullptr));
  }
  return kernels::make_mixed_engine(std::move(engines), policy);
}

MixedChoice run_given(const kernels::Mlp& model, kernels::MixedLayers& layers,
                      const protocol::EvalConfig& config) {
  MixedChoice choice;
  const std::vector<LayerPrecision> policy =
      given_policy(config, static_cast<int>(model.layers.size()));
  std::vector<std::shared_ptr<InferenceEngine>> engines;
  for (std::size_t l = 0; l < policy.size(); ++l) {
    std::string reason;
    auto engine = layers.engine(static_cast<int>(l), policy[l], &reason);
    if (engine == nullptr) {
      choice.skip_reason =
          fmt::format("layer {} ({}): {}", l, kernels::to_string(policy[l]), reason);
      return choice;
    }
    engines.push_back(std::move(engine));
  }
  choice.engine = kernels::make_mixed_engine(std::move(engines), policy);
  choice.policy = {{"layers", names(policy)}, {"chosen_by", "given"}};
  return choice;
}

// `batch` validation images (repeating when there are fewer), normalized: the input the
// policies are ranked on.
std::vector<float> validation_batch(const kernels::Mlp& model, const kernels::ImageSet& validation,
                                    int batch) {
  const int inputs = model.layers[0].inputs;
  std::vector<float> images(static_cast<std::size_t>(batch) * static_cast<std::size_t>(inputs));
  for (int i = 0; i < batch; ++i) {
    kernels::normalize_images(
        model.normalization, validation.image(i % validation.count), 1, inputs,
        images.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(inputs));
  }
  return images;
}

// Per layer: the precisions that build, fp32 first, and each one's time alone on the inputs that
// layer sees (the fp32 model's, on validation images).
struct LayerOptions {
  std::vector<std::vector<LayerPrecision>> options;
  std::vector<std::vector<double>> us;
  std::string skip_reason;  // set when a layer has no fp32 engine to compare against
};

LayerOptions time_layer_options(const kernels::Mlp& model, kernels::MixedLayers& layers,
                                const protocol::EvalConfig& config,
                                const kernels::ImageSet& validation, int ranked_batch) {
  const std::size_t count = model.layers.size();
  std::vector<LayerPrecision> all{{"fp32", 32}, {"bf16", 32}, {"int8", 8}};
  for (int b = std::max(2, config.bits); b <= 4; ++b) all.push_back({"int4", b});
  std::vector<float> src = validation_batch(model, validation, ranked_batch);
  LayerOptions out;
  out.options.resize(count);
  out.us.resize(count);
  for (std::size_t l = 0; l < count; ++l) {
    for (const LayerPrecision& p : all) {
      auto engine = layers.engine(static_cast<int>(l), p, nullptr);
      if (engine == nullptr) continue;
      out.options[l].push_back(p);
      out.us[l].push_back(median_us(*engine, src, ranked_batch));
    }
    if (out.options[l].empty() || out.options[l].front().precision != "fp32") {
      out.skip_reason = fmt::format("layer {}: no fp32 engine to compare against", l);
      return out;
    }
    // The next layer's inputs: this layer in fp32, then the ReLU.
    auto fp32 = layers.engine(static_cast<int>(l), {"fp32", 32}, nullptr);
    std::vector<float> next(static_cast<std::size_t>(ranked_batch) *
                            static_cast<std::size_t>(fp32->outputs()));
    fp32->forward(src.data(), ranked_batch, next.data());
    for (float& v : next) v = std::max(v, 0.0f);
    src = std::move(next);
  }
  return out;
}

// Every policy (one option per layer), cheapest estimate (the sum of its layers' times) first,
// cut to kMaxScored. The all-fp32 policy is option 0 everywhere.
std::vector<Scored> enumerate_policies(const LayerOptions& layer_options) {
  const std::size_t count = layer_options.options.size();
  std::vector<Scored> policies(1);
  policies[0].option.assign(count, 0);
  for (std::size_t l = 0; l < count; ++l) {
    std::vector<Scored> grown;
    for (const Scored& s : policies) {
      for (std::size_t o = 0; o < layer_options.options[l].size(); ++o) {
        Scored t = s;
        t.option[l] = static_cast<int>(o);
        grown.push_back(t);
      }
    }
    policies = std::move(grown);
  }
  for (Scored& s : policies) {
    for (std::size_t l = 0; l < count; ++l) {
      s.estimated_us += layer_options.us[l][static_cast<std::size_t>(s.option[l])];
    }
  }
  std::stable_sort(policies.begin(), policies.end(), [](const Scored& a, const Scored& b) {
    return a.estimated_us < b.estimated_us;
  });
  if (policies.size() > kMaxScored) policies.resize(kMaxScored);
  return policies;
}

// The chosen policy and every candidate's figures, for the result.
void describe_choice(const std::vector<Scored>& policies, std::size_t best,
                     const std::function<std::vector<LayerPrecision>(const Scored&)>& policy_of,
                     double baseline, const protocol::EvalConfig& config,
                     const kernels::ImageSet& validation, int ranked_batch, MixedChoice& choice) {
  choice.policy = {{"layers", names(policy_of(policies[best]))},
                   {"chosen_by", "auto"},
                   {"budget", config.mixed.budget},
                   {"validation_images", validation.count},
                   {"validation_top1", policies[best].validation_top1},
                   {"baseline_validation_top1", baseline},
                   {"ranked_batch", ranked_batch}};
  nlohmann::json candidates = nlohmann::json::array();
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const Scored& s = policies[i];
    nlohmann::json c = {{"policy", names(policy_of(s))},
                        {"validation_top1", s.validation_top1},
                        {"validation_delta", s.validation_top1 - baseline},
                        {"within_budget", s.within_budget},
                        {"estimated_us", s.estimated_us}};
    if (s.measured_us) c["median_us"] = *s.measured_us;
    if (i == best) c["chosen"] = true;
    candidates.push_back(std::move(c));
  }
  choice.candidates = std::move(candidates);
}

// The fastest measured policy within the accuracy budget on the validation split: every policy is
// scored on validation, the cheapest few by estimate within budget are timed whole.
MixedChoice run_auto(const kernels::Mlp& model, kernels::MixedLayers& layers,
                     const protocol::EvalConfig& config, const kernels::ImageSet& validation,
                     int ranked_batch) {
  MixedChoice choice;
  const LayerOptions layer_options =
      time_layer_options(model, layers, config, validation, ranked_batch);
  if (!layer_options.skip_reason.empty()) {
    choice.skip_reason = layer_options.skip_reason;
    return choice;
  }
  std::vector<Scored> policies = enumerate_policies(layer_options);
  const std::size_t count = model.layers.size();
  auto policy_of = [&](const Scored& s) {
    std::vector<LayerPrecision> p;
    for (std::size_t l = 0; l < count; ++l) {
      p.push_back(layer_options.options[l][static_cast<std::size_t>(s.option[l])]);
    }
    return p;
  };

  std::vector<LayerPrecision> fp32_policy(count, LayerPrecision{"fp32", 32});
  const double baseline =
      kernels::evaluate(*compose(layers, fp32_policy), model.normalization, validation).top1;
  for (Scored& s : policies) {
    s.validation_top1 =
        kernels::evaluate(*compose(layers, policy_of(s)), model.normalization, validation).top1;
    s.within_budget = s.validation_top1 - baseline >= -config.mixed.budget;
  }

  std::size_t timed = 0;
  std::size_t best = policies.size();
  const std::vector<float> images = validation_batch(model, validation, ranked_batch);
  for (std::size_t i = 0; i < policies.size() && timed < kTimedWhole; ++i) {
    if (!policies[i].within_budget) continue;
    policies[i].measured_us =
        median_us(*compose(layers, policy_of(policies[i])), images, ranked_batch);
    ++timed;
    if (best == policies.size() || *policies[i].measured_us < *policies[best].measured_us) best = i;
  }
  if (best == policies.size()) {
    choice.skip_reason = "no policy stays within the accuracy budget on the validation split";
    return choice;
  }
  choice.engine = compose(layers, policy_of(policies[best]));
  describe_choice(policies, best, policy_of, baseline, config, validation, ranked_batch, choice);
  return choice;
}

}  // namespace

std::vector<LayerPrecision> given_policy(const protocol::EvalConfig& config, int weight_layers) {
  if (static_cast<int>(config.mixed.policy.size()) != weight_layers) {
    throw std::invalid_argument(
        fmt::format("--layer-precision: the model has {} weight layers; the policy names {}",
                    weight_layers, config.mixed.policy.size()));
  }
  std::vector<LayerPrecision> policy;
  for (const std::string& entry : config.mixed.policy) {
    try {
      policy.push_back(kernels::parse_layer_precision(entry, config.bits));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("--layer-precision: {}", e.what()));
    }
  }
  return policy;
}

MixedChoice choose_mixed(const kernels::Mlp& model, const kernels::EngineRequest& base,
                         const kernels::CalibrationSet* calibration,
                         const protocol::EvalConfig& config, const kernels::ImageSet& validation,
                         int ranked_batch) {
  kernels::MixedLayers layers(model, base, calibration);
  if (!config.mixed.automatic) return run_given(model, layers, config);
  if (validation.count < 1) {
    MixedChoice choice;
    choice.skip_reason =
        "mixed auto scores policies on the validation split, and it is empty (--validation-images "
        "0)";
    return choice;
  }
  return run_auto(model, layers, config, validation, ranked_batch);
}

}  // namespace lowbit::worker
