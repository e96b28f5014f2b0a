#include "cli/results_table.h"

#include <fmt/format.h>

#include <set>

#include "cli/text_table.h"
#include "protocol/variant_label.h"

namespace lowbit::cli {
namespace {

using Align = TextTable::Align;

std::string format_us(double us) {
  if (us >= 1e4) return fmt::format("{:.0f}", us);
  if (us >= 100) return fmt::format("{:.1f}", us);
  return fmt::format("{:.2f}", us);
}

std::string format_bytes(std::int64_t bytes) {
  if (bytes >= (1 << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  if (bytes >= (1 << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / (1 << 10));
  return fmt::format("{} B", bytes);
}

// The accuracy cell: top-1 for an MLP, the relative error for a GEMM.
std::string quality(const protocol::Result& r) {
  if (r.accuracy) return fmt::format("{:.4f}", r.accuracy->top1);
  if (r.error) return fmt::format("err {:.2g}", r.error->max_rel);
  return "";
}

}  // namespace

void print_results_table(std::ostream& out, const std::vector<protocol::Result>& results) {
  std::set<int> batches;
  for (const protocol::Result& r : results) {
    for (const protocol::Latency& l : r.latency) batches.insert(l.batch);
  }
  std::vector<TextTable::Column> columns{{"variant"},
                                         {"target"},
                                         {"status"},
                                         {"top-1", Align::kRight},
                                         {"Δ", Align::kRight},
                                         {"sparsity", Align::kRight},
                                         {"size", Align::kRight},
                                         {"kernel"}};
  for (int b : batches) columns.push_back({fmt::format("b{} µs", b), Align::kRight});
  TextTable table(std::move(columns));
  for (const protocol::Result& r : results) {
    const bool ran = r.status != protocol::kStatusSkipped;
    std::vector<std::string> row{protocol::variant_label(r.config),
                                 r.target.label,
                                 r.status,
                                 quality(r),
                                 r.accuracy ? fmt::format("{:+.4f}", r.accuracy->delta) : "",
                                 ran ? fmt::format("{:.3f}", r.sparsity) : "",
                                 ran ? format_bytes(r.model_bytes) : "",
                                 ran ? r.kernel : r.reason};
    for (int b : batches) {
      std::string cell;
      for (const protocol::Latency& l : r.latency) {
        if (l.batch == b) cell = format_us(l.median_us) + (l.noisy ? "~" : "");
      }
      row.push_back(cell);
    }
    table.add_row(std::move(row));
  }
  table.print(out);
  out << "(µs: median per call; ~ marks a noisy measurement, cv > 0.05)\n";
}

void print_pareto_fronts(std::ostream& out, const std::vector<protocol::ParetoFront>& fronts) {
  for (const protocol::ParetoFront& f : fronts) {
    out << fmt::format("\nPareto front, batch {}: top-1 vs median latency\n", f.batch);
    TextTable table(
        {{"variant"}, {"target"}, {"top-1", Align::kRight}, {"median µs", Align::kRight}});
    for (const protocol::ParetoPoint& p : f.points) {
      table.add_row({p.variant, p.target, fmt::format("{:.4f}", p.top1), format_us(p.median_us)});
    }
    table.print(out);
  }
}

}  // namespace lowbit::cli
