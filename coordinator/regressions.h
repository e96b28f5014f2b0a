#pragma once
// A sweep's regression report from the store: which sweep is its baseline and why, then the
// comparison of regression_report.h. The default baseline is the latest earlier finished sweep
// with the same name on the same branch (tags.branch), else on branch "main", else none — and
// "no baseline" is never a regression. A baseline given by id is used as given, whatever its
// name, and the report says when its name differs.

#include <optional>

#include "coordinator/outcome.h"
#include "coordinator/regression_report.h"
#include "coordinator/store.h"

namespace lowbit::coordinator {

struct RegressionRequest {
  SweepId sweep = 0;
  std::optional<SweepId> baseline;  // --baseline / ?baseline=: overrides the default
  RegressionOptions options;
};

// kNotFound for an unknown sweep or baseline, kInvalid for options out of range or a baseline
// that is the sweep itself.
Outcome<RegressionReport> regressions(Store& store, const RegressionRequest& request);

}  // namespace lowbit::coordinator
