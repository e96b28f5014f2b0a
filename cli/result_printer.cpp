#include "cli/result_printer.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "kernels/mlp.h"

namespace lowbit::cli {

void print_result(std::ostream& out, const protocol::Result& r) {
  const protocol::EvalConfig& c = r.config;
  fmt::print(out, "model       {} mlp on {}, {} epochs, seed {}\n",
             kernels::format_layer_sizes(c.mlp.layers), c.mlp.dataset, c.mlp.training.epochs,
             c.mlp.training.seed);
  fmt::print(out, "variant     precision {}, bits {}, kernel {}\n", c.precision, c.bits, c.kernel);
  fmt::print(out, "status      {}{}\n", r.status, r.reason.empty() ? "" : " (" + r.reason + ")");
  if (r.accuracy) {
    const protocol::Accuracy& a = *r.accuracy;
    fmt::print(out, "top-1       {:.4f} on {} test images (baseline {:.4f}, delta {:+.4f}, agreement {:.4f})\n",
               a.top1, a.images, a.baseline_top1, a.delta, a.agreement);
  }
  if (r.base_model) {
    fmt::print(out, "base model  {} ({}; validation top-1 {:.4f})\n", r.base_model->hash,
               r.base_model->cache_hit ? "from cache" : fmt::format("trained in {:.1f} s", r.train_seconds),
               r.base_model->validation_top1);
  }
  if (r.status != protocol::kStatusSkipped) {
    fmt::print(out, "kernel      {}\n", r.kernel);
    fmt::print(out, "weights     {} nonzero ({}, sparsity {:.4f}), {} bytes\n", r.params_nonzero,
               r.weights, r.sparsity, r.model_bytes);
  }
  fmt::print(out, "target      {} {} ({}, {} threads)\n", r.target.label, r.target.id, r.target.cpu,
             r.target.threads);
  fmt::print(out, "versions    lowbit {}, {}, OpenBLAS {} ({}), oneDNN {}\n", r.version.lowbit,
             r.version.compiler, r.version.openblas, r.version.openblas_core, r.version.onednn);
  fmt::print(out, "repro       {}\n", r.repro);
}

}  // namespace lowbit::cli
