#include "protocol/pareto.h"

#include <algorithm>
#include <map>

#include "protocol/variant_label.h"

namespace lowbit::protocol {

std::vector<ParetoFront> pareto_fronts(const std::vector<Result>& results) {
  std::map<int, std::vector<ParetoPoint>> by_batch;
  for (const Result& r : results) {
    if (r.status != kStatusPassed || !r.accuracy || r.config.workload != kWorkloadMlp) continue;
    for (const Latency& l : r.latency) {
      by_batch[l.batch].push_back(
          {r.config_hash, r.target.label, variant_label(r.config), r.accuracy->top1, l.median_us});
    }
  }
  std::vector<ParetoFront> fronts;
  for (auto& [batch, points] : by_batch) {
    // Fastest first, the more accurate first among equally fast: then a point is on the front
    // exactly when it is more accurate than every point before it.
    std::stable_sort(points.begin(), points.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
      if (a.median_us != b.median_us) return a.median_us < b.median_us;
      return a.top1 > b.top1;
    });
    ParetoFront front{batch, {}};
    for (const ParetoPoint& p : points) {
      if (front.points.empty() || p.top1 > front.points.back().top1) front.points.push_back(p);
    }
    fronts.push_back(std::move(front));
  }
  return fronts;
}

void to_json(nlohmann::json& j, const ParetoPoint& p) {
  j = {{"config_hash", p.config_hash},
       {"target", p.target},
       {"variant", p.variant},
       {"top1", p.top1},
       {"median_us", p.median_us}};
}

void to_json(nlohmann::json& j, const ParetoFront& f) {
  j = {{"batch", f.batch}, {"points", f.points}};
}

}  // namespace lowbit::protocol
