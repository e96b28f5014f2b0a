#include "kernels/engine_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "kernels/engine_fp32.h"

namespace lowbit::kernels {

namespace {

struct EnginePath {
  std::string name;
  // Empty when the path can run the request, else the reason it cannot.
  std::function<std::string(const EngineRequest&)> refuse;
  std::function<std::unique_ptr<InferenceEngine>(const Mlp&)> build;
};

std::string fp32_only(const std::string& path, const EngineRequest& r) {
  if (r.precision != "fp32") {
    return fmt::format("kernel {} computes fp32 only, not {}", path, r.precision);
  }
  if (r.bits != 32) {
    return fmt::format("kernel {} has no {}-bit weights (fp32 needs bits 32)", path, r.bits);
  }
  return {};
}

const std::vector<EnginePath>& paths() {
  static const std::vector<EnginePath> list{
      {"openblas", [](const EngineRequest& r) { return fp32_only("openblas", r); },
       &make_fp32_openblas_engine},
      {"ref", [](const EngineRequest& r) { return fp32_only("ref", r); },
       &make_fp32_reference_engine},
  };
  return list;
}

}  // namespace

std::vector<std::string> engine_paths() {
  std::vector<std::string> names;
  for (const EnginePath& p : paths()) names.push_back(p.name);
  return names;
}

EngineChoice select_engine(const Mlp& model, const EngineRequest& request) {
  EngineChoice choice;
  std::vector<std::string> reasons;
  for (const EnginePath& p : paths()) {
    if (request.kernel != "auto" && request.kernel != p.name) continue;
    if (std::string reason = p.refuse(request); !reason.empty()) {
      reasons.push_back(std::move(reason));
      continue;
    }
    choice.engine = p.build(model);
    choice.path = p.name;
    return choice;
  }
  if (reasons.empty()) {
    choice.skip_reason = fmt::format("no compute path named \"{}\" (known: auto, {})", request.kernel,
                                     fmt::join(engine_paths(), ", "));
  } else {
    choice.skip_reason = fmt::format("{}", fmt::join(reasons, "; "));
  }
  return choice;
}

}  // namespace lowbit::kernels
