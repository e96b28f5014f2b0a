#include "cli/result_printer.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "worker/eval_inputs.h"

namespace lowbit::cli {

void print_result(std::ostream& out, const protocol::Result& r) {
  const protocol::EvalConfig& c = r.config;
  if (c.workload == protocol::kWorkloadGemm) {
    fmt::print(out, "workload    gemm M={} K={} N={}\n", c.gemm.m, c.gemm.k, c.gemm.n);
  } else {
    fmt::print(out, "model       {} mlp on {}, {} epochs, seed {}\n",
               worker::format_layer_sizes(c.mlp.layers), c.mlp.dataset, c.mlp.training.epochs,
               c.mlp.training.seed);
  }
  fmt::print(out, "variant     precision {}, bits {}, kernel {}\n", c.precision, c.bits, c.kernel);
  fmt::print(out, "status      {}{}\n", r.status, r.reason.empty() ? "" : " (" + r.reason + ")");
  if (r.accuracy) {
    const protocol::Accuracy& a = *r.accuracy;
    fmt::print(
        out,
        "top-1       {:.4f} on {} test images (baseline {:.4f}, delta {:+.4f}, agreement {:.4f})\n",
        a.top1, a.images, a.baseline_top1, a.delta, a.agreement);
  }
  if (r.base_model) {
    fmt::print(out, "base model  {} ({}; validation top-1 {:.4f})\n", r.base_model->hash,
               r.base_model->cache_hit ? "from cache"
                                       : fmt::format("trained in {:.1f} s", r.train_seconds),
               r.base_model->validation_top1);
  }
  if (r.distillation) {
    fmt::print(out, "distilled   from {} (teacher top-1 {:.4f}); the student from scratch {:.4f}\n",
               worker::format_layer_sizes(r.config.distill.teacher), r.distillation->teacher_top1,
               r.distillation->scratch_top1);
  }
  if (r.status != protocol::kStatusSkipped) {
    fmt::print(out, "kernel      {}\n", r.kernel);
    fmt::print(out, "weights     {} nonzero ({}, sparsity {:.4f}), {} bytes\n", r.params_nonzero,
               r.weights, r.sparsity, r.model_bytes);
  }
  if (r.policy) {
    // mixed: the layers that ran and, for auto, what the validation split said.
    const nlohmann::json& p = *r.policy;
    fmt::print(out, "policy      {} ({})",
               fmt::join(p.at("layers").get<std::vector<std::string>>(), ", "),
               p.at("chosen_by").get<std::string>());
    if (p.contains("validation_top1")) {
      fmt::print(out, ": validation top-1 {:.4f} vs all-fp32 {:.4f}, budget {}, {} candidates",
                 p.at("validation_top1").get<double>(),
                 p.at("baseline_validation_top1").get<double>(), p.at("budget").get<double>(),
                 r.candidates ? r.candidates->size() : 0);
    }
    fmt::print(out, "\n");
  }
  if (r.error) {
    fmt::print(out, "error       max_rel {:.3g}, SQNR {}\n", r.error->max_rel,
               r.error->sqnr_db ? fmt::format("{:.1f} dB", *r.error->sqnr_db) : "∞ (exact)");
  }
  if (!r.latency.empty()) {
    fmt::print(out, "latency     {:>6} {:>11} {:>11} {:>11} {:>7} {:>12} {:>9} {:>7}  {}\n",
               "batch", "median µs", "p90 µs", "p99 µs", "cv", "per second", "GFLOP/s", "%peak",
               "bound");
    for (const protocol::Latency& l : r.latency) {
      fmt::print(out,
                 "            {:>6} {:>11.2f} {:>11.2f} {:>11.2f} {:>7.3f} {:>12.0f} {:>9.2f} "
                 "{:>7} {}{}\n",
                 l.batch, l.median_us, l.p90_us, l.p99_us, l.cv, l.throughput_per_s, l.gflops,
                 l.pct_of_peak ? fmt::format("{:.1f}", *l.pct_of_peak * 100) : "-",
                 l.bound.empty() ? "-" : l.bound, l.noisy ? " (noisy)" : "");
    }
  }
  if (r.context) {
    fmt::print(out, "context     {} MHz measured, load {:.2f} → {:.2f}{}, {} OS threads\n",
               static_cast<int>(r.context->mhz_per_cpu),
               r.context->load_avg_start.empty() ? 0.0 : r.context->load_avg_start[0],
               r.context->load_avg_end.empty() ? 0.0 : r.context->load_avg_end[0],
               r.context->overloaded ? " (overloaded: latency suspect)" : "",
               r.context->os_threads);
  }
  fmt::print(out, "target      {} {} ({}, {} threads)\n", r.target.label, r.target.id, r.target.cpu,
             r.target.threads);
  fmt::print(out, "versions    lowbit {}, {}, OpenBLAS {} ({}), oneDNN {}\n", r.version.lowbit,
             r.version.compiler, r.version.openblas, r.version.openblas_core, r.version.onednn);
  fmt::print(out, "repro       {}\n", r.repro);
}

}  // namespace lowbit::cli
