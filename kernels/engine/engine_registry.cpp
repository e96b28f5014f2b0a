#include "kernels/engine/engine_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "kernels/base/isa_cap.h"
#include "kernels/base/precision_modes.h"
#include "kernels/engine/engine_fixed.h"
#include "kernels/engine/engine_fp16.h"
#include "kernels/engine/engine_fp32.h"
#include "kernels/engine/engine_int4.h"
#include "kernels/engine/engine_int8_avx2.h"
#include "kernels/engine/engine_onednn_bf16.h"
#include "kernels/engine/engine_onednn_int8.h"
#include "kernels/engine/engine_sparse.h"
#include "kernels/engine/int8_reference.h"
#include "kernels/engine/simulated_weights.h"
#include "kernels/gemm/gemm_f32f16.h"
#include "kernels/gemm/gemm_lowbit.h"
#include "kernels/gemm/gemm_u8s8.h"

namespace lowbit::kernels {

namespace {

using Builder = std::function<std::unique_ptr<InferenceEngine>(const Mlp&, const EngineRequest&)>;

struct EnginePath {
  std::string name;
  std::string precision;
  bool reference = false;  // a twin of plain loops: runs only when forced
  // `auto` only: why a path that could run the request is not the better
  // choice for this model (empty: it is). A forced path ignores it.
  std::function<std::string(const Mlp&, const EngineRequest&)> decline;
  // Empty when the path can run the request, else the reason it cannot.
  std::function<std::string(const EngineRequest&)> refuse;
  Builder build;
};

std::string accept_all(const EngineRequest&) { return {}; }
std::string never_decline(const Mlp&, const EngineRequest&) { return {}; }

// Integer paths compute with symmetric weights: a weight zero point adds a
// per-row Σ_k q_x term that no bias can absorb (and oneDNN's fast int8 matmul
// takes none). Asymmetric activations are what they use anyway.
std::string symmetric_weights_only(const EngineRequest& r) {
  if (r.quant.scheme == QuantScheme::kAsymmetric) {
    return fmt::format(
        "{} quantizes weights symmetrically (Z_w = 0); asymmetric weights exist only as simulated "
        "weights of a float mode",
        r.precision);
  }
  return {};
}

// The fixed path is integer-only from the input quantization on: it cannot
// measure activation ranges per batch.
std::string fixed_refusal(const EngineRequest& r) {
  if (std::string reason = symmetric_weights_only(r); !reason.empty()) return reason;
  if (!r.quant.static_activations) {
    return "fixed is integer-only inference: its activation ranges are calibrated (static), never "
           "measured per batch";
  }
  return {};
}

// A kernel of our own that needs `isa` (oneDNN cap name) and a CPU check.
std::string needs_isa(const EngineRequest& r, const std::string& path, const std::string& isa,
                      bool cpu_supports) {
  if (!cpu_supports)
    return fmt::format("{} path {} needs {}, which this CPU lacks", r.precision, path, isa);
  if (isa_cap_rank(r.isa_cap) < isa_cap_rank(isa)) {
    return fmt::format("{} path {} needs {}, above the ISA cap {}", r.precision, path, isa,
                       r.isa_cap);
  }
  return {};
}

bool u8s8_cpu_supports(const std::string& name) {
  for (const U8S8Path& p : u8s8_paths()) {
    if (name == p.name) return p.cpu_supports();
  }
  return false;
}

std::string f16_refusal(const EngineRequest& r, const std::string& path) {
  try {
    find_f32f16_kernel(path, r.isa_cap);
    return {};
  } catch (const EngineUnavailable& e) {
    return e.what();
  }
}

// int4 scales weights per group of G inputs of each output channel: a single
// scale per tensor is a different format, which no int4 kernel reads.
std::string int4_refusal(const EngineRequest& r, const std::string& lowbit_path) {
  if (r.quant.granularity == QuantGranularity::kPerTensor) {
    return "int4 scales weights per group of --group-size inputs in each output channel; "
           "granularity tensor does not apply";
  }
  try {
    find_lowbit_kernel(lowbit_path, r.isa_cap);
    return {};
  } catch (const EngineUnavailable& e) {
    return e.what();
  }
}

QuantSpec quant_spec(const EngineRequest& r) {
  QuantSpec spec = r.quant;
  spec.bits = r.bits;
  return spec;
}

const CalibrationSet& calibration(const EngineRequest& r) {
  static const CalibrationSet kNone;
  return r.calibration != nullptr ? *r.calibration : kNone;
}

std::vector<EnginePath> build_paths() {
  std::vector<EnginePath> list;
  // fp32: sparse when the model is sparse enough to beat OpenBLAS at the
  // smallest timed batch, else dense.
  list.push_back(
      {"csr", "fp32", false,
       [](const Mlp& m, const EngineRequest& r) -> std::string {
         if (sparse_is_faster(m, r.batch)) return {};
         return fmt::format(
             "dense is faster at batch {} (density {:.3f} ≥ break-even {:.3f})", r.batch,
             static_cast<double>(m.nonzero_weights()) / static_cast<double>(m.weight_count()),
             sparse_break_even_density(r.batch));
       },
       [](const EngineRequest& r) {
         return needs_isa(r, "csr", "avx2",
                          __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
       },
       [](const Mlp& m, const EngineRequest& r) {
         return make_fp32_sparse_engine(m, "avx2", r.isa_cap);
       }});
  list.push_back({"openblas", "fp32", false, never_decline, accept_all,
                  [](const Mlp& m, const EngineRequest&) { return make_fp32_openblas_engine(m); }});
  list.push_back(
      {"ref", "fp32", true, never_decline, accept_all,
       [](const Mlp& m, const EngineRequest&) { return make_fp32_reference_engine(m); }});
  // bf16: oneDNN refuses below avx512_core (EngineUnavailable names the ISA).
  list.push_back({"onednn", "bf16", false, never_decline, accept_all,
                  [](const Mlp& m, const EngineRequest&) { return make_onednn_bf16_engine(m); }});
  list.push_back(
      {"ref", "bf16", true, never_decline, accept_all,
       [](const Mlp& m, const EngineRequest&) { return make_bf16_reference_engine(m); }});
  // fp16: our kernels, one per ISA tier.
  for (const char* tier : {"avx512", "avx2"}) {
    const std::string path = tier;
    list.push_back({path, "fp16", false, never_decline,
                    [path](const EngineRequest& r) { return f16_refusal(r, path); },
                    [path](const Mlp& m, const EngineRequest& r) {
                      return make_fp16_engine(m, path, r.isa_cap);
                    }});
  }
  list.push_back(
      {"ref", "fp16", true, never_decline, accept_all,
       [](const Mlp& m, const EngineRequest& r) { return make_fp16_engine(m, "ref", r.isa_cap); }});
  // int8 on oneDNN; its twin shares every constant and differs only in the matmul.
  list.push_back({"onednn", "int8", false, never_decline, symmetric_weights_only,
                  [](const Mlp& m, const EngineRequest& r) {
                    return make_onednn_int8_engine(m, quant_spec(r), calibration(r));
                  }});
  list.push_back({"avx2", "int8", false, never_decline,
                  [](const EngineRequest& r) {
                    if (std::string reason = symmetric_weights_only(r); !reason.empty())
                      return reason;
                    return needs_isa(r, "avx2", "avx2", int8_avx2_supported());
                  },
                  [](const Mlp& m, const EngineRequest& r) {
                    return make_int8_avx2_engine(m, quant_spec(r), calibration(r));
                  }});
  list.push_back({"ref", "int8", true, never_decline, symmetric_weights_only,
                  [](const Mlp& m, const EngineRequest& r) {
                    return make_int8_reference_engine(m, quant_spec(r), calibration(r));
                  }});
  // int4: our packed kernels (kernels/gemm/gemm_lowbit.h), bit-exact across tiers.
  // The registry's "avx512" is the lowbit tier "avx512_vnni": one name per ISA
  // tier for every precision, as --kernel spells them.
  const std::pair<const char*, const char*> int4_tiers[] = {
      {"avx512", "avx512_vnni"}, {"avx2", "avx2"}, {"portable", "portable"}, {"ref", "ref"}};
  for (const auto& [name, tier] : int4_tiers) {
    const std::string lowbit_path = tier;
    list.push_back({name, "int4", lowbit_path == "ref", never_decline,
                    [lowbit_path](const EngineRequest& r) { return int4_refusal(r, lowbit_path); },
                    [lowbit_path](const Mlp& m, const EngineRequest& r) {
                      return make_int4_engine(m, r.bits, r.group_size, r.quant.scheme, lowbit_path,
                                              r.isa_cap, r.calibration);
                    }});
  }
  // fixed: integer-only, bit-exact across tiers.
  list.push_back({"avx2", "fixed", false, never_decline,
                  [](const EngineRequest& r) {
                    if (std::string reason = fixed_refusal(r); !reason.empty()) return reason;
                    return needs_isa(r, "avx2", "avx2", u8s8_cpu_supports("avx2"));
                  },
                  [](const Mlp& m, const EngineRequest& r) {
                    return make_fixed_engine(m, quant_spec(r), calibration(r), "avx2");
                  }});
  list.push_back({"ref", "fixed", true, never_decline, fixed_refusal,
                  [](const Mlp& m, const EngineRequest& r) {
                    return make_fixed_engine(m, quant_spec(r), calibration(r), "ref");
                  }});
  return list;
}

const std::vector<EnginePath>& paths() {
  static const std::vector<EnginePath> list = build_paths();
  return list;
}

// What the paths of `precision` are called, for messages.
std::vector<std::string> paths_of(const std::string& precision) {
  std::vector<std::string> names;
  for (const EnginePath& p : paths()) {
    if (p.precision == precision) names.push_back(p.name);
  }
  return names;
}

std::vector<std::string> precisions_of(const std::string& path) {
  std::vector<std::string> names;
  for (const EnginePath& p : paths()) {
    if (p.name == path) names.push_back(p.precision);
  }
  return names;
}

// Float modes with b ≤ 8 bits build on quantize-dequantized weights.
std::unique_ptr<InferenceEngine> build(const EnginePath& path, const Mlp& model,
                                       const EngineRequest& request) {
  if (is_float_precision(request.precision) && request.bits != 32) {
    return mark_simulated(path.build(fake_quantize_model(model, quant_spec(request)), request));
  }
  return path.build(model, request);
}

}  // namespace

std::vector<std::string> engine_paths() {
  std::vector<std::string> names;
  for (const EnginePath& p : paths()) {
    if (std::find(names.begin(), names.end(), p.name) == names.end()) names.push_back(p.name);
  }
  // The reference twins last, whatever order the precisions listed them in.
  std::stable_partition(names.begin(), names.end(),
                        [](const std::string& n) { return n != "ref"; });
  return names;
}

EngineChoice select_engine(const Mlp& model, const EngineRequest& request) {
  EngineChoice choice;
  if (std::string reason = unsupported_combination(request.precision, request.bits);
      !reason.empty()) {
    choice.skip_reason = reason;
    return choice;
  }
  const bool forced = request.kernel != "auto";
  std::vector<std::string> reasons;
  bool named = false;
  for (const EnginePath& p : paths()) {
    if (forced ? request.kernel != p.name : p.reference) continue;
    named = true;
    if (p.precision != request.precision) continue;
    if (!forced && !p.decline(model, request).empty()) continue;
    std::string reason = p.refuse(request);
    if (reason.empty()) {
      try {
        choice.engine = build(p, model, request);
        choice.path = p.name;
        return choice;
      } catch (const EngineUnavailable& e) {
        reason = e.what();
      }
    }
    reasons.push_back(std::move(reason));
  }
  if (forced && !named) {
    choice.skip_reason = fmt::format("no compute path named \"{}\" (known: auto, {})",
                                     request.kernel, fmt::join(engine_paths(), ", "));
  } else if (reasons.empty() && forced) {
    choice.skip_reason =
        fmt::format("kernel {} has no {} path (it runs {}; {} runs on {})", request.kernel,
                    request.precision, fmt::join(precisions_of(request.kernel), ", "),
                    request.precision, fmt::join(paths_of(request.precision), ", "));
  } else if (reasons.empty()) {
    choice.skip_reason = fmt::format("no compute path for {} (known: {})", request.precision,
                                     fmt::join(paths_of(request.precision), ", "));
  } else {
    choice.skip_reason = fmt::format("{}", fmt::join(reasons, "; "));
  }
  return choice;
}

}  // namespace lowbit::kernels
