#include "cli/regression_printer.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/text_table.h"

namespace lowbit::cli {

namespace {

constexpr const char* kVerdictOrder[] = {"regression",   "improvement", "unchanged", "noisy",
                                         "insufficient", "skipped",     "new",       "gone"};
constexpr int kReasonsShown = 3;

std::string value_text(const nlohmann::json& series, const char* key) {
  const nlohmann::json& v = series.at(key);
  if (v.is_null()) return "–";
  if (series.at("metric") == "top1") return fmt::format("{:.4f}", v.get<double>());
  return fmt::format("{:.2f} µs", v.get<double>());
}

std::string change_text(const nlohmann::json& s) {
  if (s.at("effect").is_null()) return "–";
  const double effect = s.at("effect").get<double>();
  if (s.at("metric") == "top1") return fmt::format("{:+.4f}", effect);
  return fmt::format("{:+.1f} %", 100 * effect);
}

std::string ci_text(const nlohmann::json& s) {
  if (s.at("ci").is_null()) return "–";
  return fmt::format("[{:+.1f}, {:+.1f}] %", 100 * s.at("ci")[0].get<double>(),
                     100 * s.at("ci")[1].get<double>());
}

std::string q_text(const nlohmann::json& s) {
  return s.at("q").is_null() ? std::string("–") : fmt::format("{:.2g}", s.at("q").get<double>());
}

std::string notes_text(const nlohmann::json& s) {
  std::string notes;
  if (s.at("kernel_changed").get<bool>()) {
    notes += fmt::format("path changed: {} → {}", s.at("baseline_kernel").get<std::string>(),
                         s.at("kernel").get<std::string>());
  }
  if (s.at("injected").get<bool>()) notes += (notes.empty() ? "" : "; ") + std::string("injected");
  if (s.contains("reason"))
    notes += (notes.empty() ? "" : "; ") + s.at("reason").get<std::string>();
  return notes;
}

void print_baseline(const nlohmann::json& report, std::ostream& out) {
  const nlohmann::json& b = report.at("baseline");
  if (b.is_null()) {
    out << fmt::format("sweep {}: {}\n", report.at("sweep").get<long>(),
                       report.at("baseline_reason").get<std::string>());
    return;
  }
  std::string where;
  if (!b.at("branch").get<std::string>().empty())
    where += ", branch " + b.at("branch").get<std::string>();
  if (!b.at("commit").get<std::string>().empty())
    where += ", commit " + b.at("commit").get<std::string>();
  out << fmt::format("sweep {} against baseline sweep {} \"{}\"{} ({})\n",
                     report.at("sweep").get<long>(), b.at("id").get<long>(),
                     b.at("name").get<std::string>(), where,
                     report.at("baseline_reason").get<std::string>());
}

}  // namespace

void print_regressions(const nlohmann::json& report, std::ostream& out) {
  print_baseline(report, out);
  TextTable table({{"variant"},
                   {"target"},
                   {"batch", TextTable::Align::kRight},
                   {"metric"},
                   {"baseline", TextTable::Align::kRight},
                   {"now", TextTable::Align::kRight},
                   {"change", TextTable::Align::kRight},
                   {"95 % CI", TextTable::Align::kRight},
                   {"q", TextTable::Align::kRight},
                   {"verdict"},
                   {"notes"}});
  int rows = 0;
  std::vector<std::string> noisy;
  for (const nlohmann::json& s : report.at("series")) {
    const std::string verdict = s.at("verdict").get<std::string>();
    if (verdict == "noisy" && s.contains("reason"))
      noisy.push_back(s.at("reason").get<std::string>());
    if (verdict != "regression" && verdict != "improvement") continue;
    table.add_row({s.at("label").get<std::string>(), s.at("target_label").get<std::string>(),
                   s.at("batch").is_null() ? "–" : std::to_string(s.at("batch").get<int>()),
                   s.at("metric").get<std::string>(), value_text(s, "baseline"),
                   value_text(s, "current"), change_text(s), ci_text(s), q_text(s), verdict,
                   notes_text(s)});
    ++rows;
  }
  if (rows > 0) table.print(out);
  std::string counts;
  for (const char* verdict : kVerdictOrder) {
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ",
                          report.at("counts").value(verdict, 0), verdict);
  }
  const nlohmann::json& o = report.at("options");
  out << fmt::format("{} series: {} (alpha {}, min effect {:.0f} %, min drop {})\n",
                     report.at("series").size(), counts, o.at("alpha").get<double>(),
                     100 * o.at("min_effect").get<double>(), o.at("min_drop").get<double>());
  for (std::size_t i = 0; i < noisy.size() && i < kReasonsShown; ++i) {
    out << "  noisy: " << noisy[i] << "\n";
  }
  if (noisy.size() > kReasonsShown) {
    out << fmt::format("  ... and {} more noisy series\n", noisy.size() - kReasonsShown);
  }
  const nlohmann::json& p = report.at("power");
  if (!p.at("can_flag_lone_change").get<bool>()) {
    out << fmt::format(
        "note: too small to catch a lone regression: with {} samples a side no p-value goes "
        "below {:.2g}, and one regression among {} tested series needs p ≤ {:.2g}. Use at least "
        "{} repetitions ({} to catch a 10 % shift at cv 0.05: a tracked sweep's default).\n",
        p.at("fewest_samples").get<int>(), p.at("smallest_p").get<double>(),
        p.at("tested").get<int>(), p.at("lone_change_p").get<double>(),
        p.at("samples_needed").get<int>(), p.at("tracked_repetitions").get<int>());
  }
}

int regression_exit_code(const nlohmann::json& report) {
  return report.at("counts").value("regression", 0) > 0 ? kExitRegression : kExitOk;
}

}  // namespace lowbit::cli
