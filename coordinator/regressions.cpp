#include "coordinator/regressions.h"

#include <fmt/format.h>

namespace lowbit::coordinator {

namespace {

SweepSide side_of(Store& store, const SweepRow& row) {
  SweepSide side;
  side.id = row.id;
  side.name = row.name;
  const nlohmann::json tags = nlohmann::json::parse(row.tags);
  side.branch = tags.value("branch", "");
  side.commit = tags.value("commit", "");
  for (const std::string& text : store.results(row.id)) {
    side.results.push_back(read_result_point(nlohmann::json::parse(text)));
  }
  return side;
}

std::string quoted_branch(const std::string& branch) {
  return branch.empty() ? std::string("no branch") : fmt::format("branch \"{}\"", branch);
}

}  // namespace

Outcome<RegressionReport> regressions(Store& store, const RegressionRequest& request) {
  using Result = Outcome<RegressionReport>;
  if (const std::string error = check_options(request.options); !error.empty()) {
    return Result::failure(Code::kInvalid, error);
  }
  const std::optional<SweepRow> sweep = store.sweep(request.sweep);
  if (!sweep)
    return Result::failure(Code::kNotFound, fmt::format("unknown sweep {}", request.sweep));
  const SweepSide current = side_of(store, *sweep);

  std::optional<SweepRow> baseline;
  std::string reason;
  if (request.baseline) {
    if (*request.baseline == request.sweep) {
      return Result::failure(
          Code::kInvalid,
          fmt::format("baseline: sweep {} cannot be its own baseline", request.sweep));
    }
    baseline = store.sweep(*request.baseline);
    if (!baseline) {
      return Result::failure(Code::kNotFound,
                             fmt::format("unknown baseline sweep {}", *request.baseline));
    }
    reason = baseline->name == sweep->name
                 ? fmt::format("given: sweep {}", baseline->id)
                 : fmt::format("given: sweep {} is named \"{}\", not \"{}\"", baseline->id,
                               baseline->name, sweep->name);
  } else {
    baseline = store.latest_finished_sweep(sweep->name, current.branch, sweep->id);
    if (baseline) {
      reason = fmt::format("the latest earlier finished sweep named \"{}\" on {}", sweep->name,
                           quoted_branch(current.branch));
    } else if (current.branch != "main") {
      baseline = store.latest_finished_sweep(sweep->name, "main", sweep->id);
      if (baseline) {
        reason = fmt::format(
            "the latest earlier finished sweep named \"{}\" on branch \"main\" "
            "(none on {})",
            sweep->name, quoted_branch(current.branch));
      }
    }
    if (!baseline) {
      reason = fmt::format(
          "no baseline: no earlier finished sweep named \"{}\" on {}{}; "
          "nothing is a regression",
          sweep->name, quoted_branch(current.branch),
          current.branch == "main" ? "" : " or branch \"main\"");
    }
  }
  std::optional<SweepSide> before;
  if (baseline) before = side_of(store, *baseline);
  RegressionReport report = compare_sweeps(current, before ? &*before : nullptr, request.options);
  report.baseline_reason = reason;
  return Result::success(std::move(report));
}

}  // namespace lowbit::coordinator
