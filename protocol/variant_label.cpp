#include "protocol/variant_label.h"

#include <fmt/format.h>

namespace lowbit::protocol {

std::string variant_label(const EvalConfig& c) {
  std::string label = c.precision;
  if (c.quantized()) label += fmt::format(" b{}", c.bits);
  if (c.kernel != "auto") label += fmt::format(" [{}]", c.kernel);
  if (c.workload == kWorkloadGemm) {
    label += fmt::format(" · gemm {}×{}×{}", c.gemm.m, c.gemm.k, c.gemm.n);
    return label;
  }
  if (c.prune.active()) {
    label += c.prune.method == "n:m" ? fmt::format(" · n:m {}", c.prune.nm)
                                     : fmt::format(" · {} {:g}", c.prune.method, c.prune.ratio);
  }
  if (c.distill.active())
    label += fmt::format(" · distilled from {}", fmt::join(c.distill.teacher, "-"));
  return label;
}

}  // namespace lowbit::protocol
