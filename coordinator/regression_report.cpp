#include "coordinator/regression_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

#include "protocol/result.h"
#include "stats/false_discovery.h"
#include "stats/latency_change.h"
#include "stats/mcnemar.h"
#include "stats/sample_size.h"
#include "stats/summary.h"

namespace lowbit::coordinator {

namespace {

const ResultPoint* find_result(
    const std::map<std::pair<std::string, std::string>, const ResultPoint*>& index,
    const std::pair<std::string, std::string>& key) {
  const auto it = index.find(key);
  return it == index.end() ? nullptr : it->second;
}

const LatencyPoint* find_batch(const ResultPoint& r, int batch) {
  for (const LatencyPoint& l : r.latency) {
    if (l.batch == batch) return &l;
  }
  return nullptr;
}

// The median over repetitions of CPU time / real time per call; nothing when the result did
// not record CPU time (an import without it).
std::optional<double> cpu_ratio(const LatencyPoint& l) {
  if (l.cpu_samples_us.empty() || l.cpu_samples_us.size() != l.samples_us.size()) return {};
  std::vector<double> ratios;
  for (std::size_t i = 0; i < l.samples_us.size(); ++i) {
    if (l.samples_us[i] > 0) ratios.push_back(l.cpu_samples_us[i] / l.samples_us[i]);
  }
  if (ratios.empty()) return {};
  return stats::median(ratios);
}

bool passed(const ResultPoint& r) { return r.status == protocol::kStatusPassed; }
bool skipped(const ResultPoint& r) { return r.status == protocol::kStatusSkipped; }

std::string with_reason(const std::string& what, const std::string& reason) {
  return reason.empty() ? what : fmt::format("{}: {}", what, reason);
}

// A series under comparison: its verdict so far, and whether it holds a test for the
// false-discovery-rate control to decide.
struct Pending {
  SeriesVerdict series;
  bool tested = false;
  std::size_t latency_samples_a = 0, latency_samples_b = 0;  // tested latency series only
};

class Comparison {
 public:
  explicit Comparison(const RegressionOptions& options) : options_(options) {}

  void one_sided(const ResultPoint& r, Verdict verdict) {
    for (Pending& p : series_of(nullptr, r)) {
      p.series.verdict = verdict;
      record_value(p, r, verdict == Verdict::kGone);
      out_.push_back(std::move(p));
    }
  }

  void both(const ResultPoint& baseline, const ResultPoint& current) {
    for (Pending& p : series_of(&baseline, current)) {
      judge(p, baseline, current);
      out_.push_back(std::move(p));
    }
  }

  std::vector<Pending>& pending() { return out_; }

 private:
  // The series a result pair has: a latency series per batch either side measured, and the
  // top-1 series of an mlp.
  std::vector<Pending> series_of(const ResultPoint* baseline, const ResultPoint& current) {
    std::vector<int> batches;
    for (const ResultPoint* r : {baseline, &current}) {
      if (r == nullptr) continue;
      for (const LatencyPoint& l : r->latency) batches.push_back(l.batch);
    }
    std::sort(batches.begin(), batches.end());
    batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
    SeriesVerdict base;
    base.config_hash = current.config_hash;
    base.label = current.label;
    base.target = current.target_id;
    base.target_label = current.target_label;
    base.kernel = current.kernel;
    base.baseline_kernel = baseline != nullptr ? baseline->kernel : std::string();
    base.injected = current.injected_slowdown.has_value() ||
                    (baseline != nullptr && baseline->injected_slowdown.has_value());
    std::vector<Pending> out;
    for (int batch : batches) {
      Pending p{base};
      p.series.metric = Metric::kLatency;
      p.series.batch = batch;
      out.push_back(std::move(p));
    }
    if (current.has_top1_series || (baseline != nullptr && baseline->has_top1_series)) {
      Pending p{base};
      p.series.metric = Metric::kTop1;
      out.push_back(std::move(p));
    }
    return out;
  }

  static void record_value(Pending& p, const ResultPoint& r, bool as_baseline) {
    std::optional<double> value;
    if (p.series.metric == Metric::kLatency) {
      if (const LatencyPoint* l = find_batch(r, *p.series.batch)) value = l->median_us;
    } else if (r.accuracy) {
      value = r.accuracy->top1;
    }
    (as_baseline ? p.series.baseline_value : p.series.current_value) = value;
  }

  void judge(Pending& p, const ResultPoint& baseline, const ResultPoint& current) {
    SeriesVerdict& s = p.series;
    record_value(p, baseline, true);
    record_value(p, current, false);
    if (skipped(baseline) || skipped(current)) {
      s.verdict = Verdict::kSkipped;
      s.reason = skipped(current) ? with_reason("skipped now", current.reason)
                                  : with_reason("skipped in the baseline", baseline.reason);
      return;
    }
    if (!passed(baseline) && !passed(current)) {
      s.verdict = Verdict::kSkipped;
      s.reason =
          with_reason(fmt::format("{} in the baseline and {} now", baseline.status, current.status),
                      current.reason);
      return;
    }
    if (!passed(current)) {
      s.verdict = Verdict::kRegression;
      s.reason = with_reason(fmt::format("passed → {}", current.status), current.reason);
      return;
    }
    if (!passed(baseline)) {
      s.verdict = Verdict::kImprovement;
      s.reason = fmt::format("{} → passed", baseline.status);
      return;
    }
    s.kernel_changed = baseline.kernel != current.kernel;
    if (s.metric == Metric::kLatency) {
      judge_latency(p, baseline, current);
    } else {
      judge_top1(p, baseline, current);
    }
  }

  void judge_latency(Pending& p, const ResultPoint& baseline, const ResultPoint& current) {
    SeriesVerdict& s = p.series;
    const LatencyPoint* b = find_batch(baseline, *s.batch);
    const LatencyPoint* c = find_batch(current, *s.batch);
    if (b == nullptr || c == nullptr) {
      s.verdict = b == nullptr ? Verdict::kNew : Verdict::kGone;
      s.reason = fmt::format("batch {} is measured on one side only", *s.batch);
      return;
    }
    if (b->samples_us.size() < stats::kMinSamplesPerSide ||
        c->samples_us.size() < stats::kMinSamplesPerSide) {
      s.verdict = Verdict::kInsufficient;
      s.reason = fmt::format("{} and {} samples a side; a test needs ≥ {}", b->samples_us.size(),
                             c->samples_us.size(), stats::kMinSamplesPerSide);
      return;
    }
    stats::LatencyChange change;
    try {
      change = stats::compare_latency(b->samples_us, c->samples_us);
    } catch (const std::invalid_argument& e) {
      s.verdict = Verdict::kInsufficient;
      s.reason = fmt::format("no test: {}", e.what());
      return;
    }
    s.p = change.p_value;
    s.effect = change.relative;
    s.ci = std::pair{change.relative_lower, change.relative_upper};
    const std::optional<double> ratio_b = cpu_ratio(*b);
    const std::optional<double> ratio_c = cpu_ratio(*c);
    for (const auto& [side, ratio] :
         {std::pair{"the baseline", ratio_b}, std::pair{"now", ratio_c}}) {
      if (ratio && *ratio < options_.min_cpu_ratio) {
        s.verdict = Verdict::kNoisy;
        s.reason = fmt::format(
            "measured on an overloaded host ({}): CPU time per call was {:.2f} of real time "
            "(< {})",
            side, *ratio, options_.min_cpu_ratio);
        return;
      }
    }
    p.tested = true;
    p.latency_samples_a = b->samples_us.size();
    p.latency_samples_b = c->samples_us.size();
  }

  void judge_top1(Pending& p, const ResultPoint& baseline, const ResultPoint& current) {
    SeriesVerdict& s = p.series;
    if (!baseline.accuracy || !current.accuracy) {
      s.verdict = Verdict::kInsufficient;
      s.reason = "no accuracy on one side";
      return;
    }
    const AccuracyPoint& b = *baseline.accuracy;
    const AccuracyPoint& c = *current.accuracy;
    s.effect = c.top1 - b.top1;
    if (b.correct.empty() || c.correct.empty() || b.images != c.images || b.images <= 0) {
      s.verdict = Verdict::kInsufficient;
      s.reason = fmt::format(
          "McNemar needs the per-image correctness of the same test images on both sides "
          "({} and {} images)",
          b.images, c.images);
      return;
    }
    std::vector<std::uint8_t> bits_b, bits_c;
    try {
      for (bool bit : protocol::decode_bitset(b.correct, static_cast<std::size_t>(b.images)))
        bits_b.push_back(bit ? 1 : 0);
      for (bool bit : protocol::decode_bitset(c.correct, static_cast<std::size_t>(c.images)))
        bits_c.push_back(bit ? 1 : 0);
    } catch (const std::invalid_argument& e) {
      s.verdict = Verdict::kInsufficient;
      s.reason = fmt::format("no test: {}", e.what());
      return;
    }
    s.p = stats::mcnemar_exact(bits_b, bits_c).p_value;
    p.tested = true;
  }

  RegressionOptions options_;
  std::vector<Pending> out_;
};

// Benjamini-Hochberg over every tested series, then the minimum effect.
void decide(std::vector<Pending>& pending, const RegressionOptions& options) {
  std::vector<double> p_values;
  for (const Pending& p : pending) {
    if (p.tested) p_values.push_back(*p.series.p);
  }
  const std::vector<double> q_values = stats::benjamini_hochberg_q_values(p_values);
  std::size_t next = 0;
  for (Pending& p : pending) {
    if (!p.tested) continue;
    SeriesVerdict& s = p.series;
    s.q = q_values[next++];
    const double threshold = s.metric == Metric::kLatency ? options.min_effect : options.min_drop;
    // Latency: positive is slower (worse); top-1: negative is worse.
    const double worse = s.metric == Metric::kLatency ? *s.effect : -*s.effect;
    if (*s.q <= options.alpha && worse >= threshold) {
      s.verdict = Verdict::kRegression;
    } else if (*s.q <= options.alpha && -worse >= threshold) {
      s.verdict = Verdict::kImprovement;
    } else {
      s.verdict = Verdict::kUnchanged;
    }
  }
}

ComparisonPower power_of(const std::vector<Pending>& pending, const RegressionOptions& options) {
  ComparisonPower power;
  for (const Pending& p : pending) {
    if (!p.tested) continue;
    ++power.tested;
    if (p.series.metric != Metric::kLatency) continue;
    const int a = static_cast<int>(p.latency_samples_a);
    const int b = static_cast<int>(p.latency_samples_b);
    const double floor = stats::smallest_two_sided_p(a, b);
    if (power.fewest_samples == 0 || floor > power.smallest_p) {
      power.smallest_p = floor;
      power.fewest_samples = std::min(a, b);
    }
  }
  if (power.tested == 0) return power;
  power.lone_change_p = options.alpha / power.tested;
  power.can_flag_lone_change = power.fewest_samples == 0 || power.smallest_p <= power.lone_change_p;
  power.samples_needed = stats::samples_to_flag_lone_change(power.tested, options.alpha);
  return power;
}

}  // namespace

std::string check_options(const RegressionOptions& o) {
  if (!(o.alpha > 0 && o.alpha <= 1))
    return fmt::format("alpha: must be in (0, 1], not {}", o.alpha);
  if (!(o.min_effect >= 0 && std::isfinite(o.min_effect)))
    return fmt::format("min_effect: must be ≥ 0, not {}", o.min_effect);
  if (!(o.min_drop >= 0 && o.min_drop <= 1))
    return fmt::format("min_drop: must be in [0, 1], not {}", o.min_drop);
  if (!(o.min_cpu_ratio >= 0 && o.min_cpu_ratio <= 1))
    return fmt::format("min_cpu_ratio: must be in [0, 1], not {}", o.min_cpu_ratio);
  return {};
}

std::string to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kRegression:
      return "regression";
    case Verdict::kImprovement:
      return "improvement";
    case Verdict::kUnchanged:
      return "unchanged";
    case Verdict::kNoisy:
      return "noisy";
    case Verdict::kInsufficient:
      return "insufficient";
    case Verdict::kSkipped:
      return "skipped";
    case Verdict::kNew:
      return "new";
    case Verdict::kGone:
      return "gone";
  }
  return "unknown";
}

std::string to_string(Metric metric) { return metric == Metric::kLatency ? "latency" : "top1"; }

bool RegressionReport::has_regression() const {
  const auto it = counts.find(Verdict::kRegression);
  return it != counts.end() && it->second > 0;
}

RegressionReport compare_sweeps(const SweepSide& current, const SweepSide* baseline,
                                const RegressionOptions& options) {
  if (const std::string error = check_options(options); !error.empty()) {
    throw std::invalid_argument(error);
  }
  using Key = std::pair<std::string, std::string>;  // config hash, target id
  std::map<Key, const ResultPoint*> now, before;
  for (const ResultPoint& r : current.results) now.emplace(Key{r.config_hash, r.target_id}, &r);
  if (baseline != nullptr) {
    for (const ResultPoint& r : baseline->results) {
      before.emplace(Key{r.config_hash, r.target_id}, &r);
    }
  }
  Comparison comparison(options);
  std::map<Key, bool> keys;
  for (const auto& [key, r] : now) keys[key] = true;
  for (const auto& [key, r] : before) keys[key] = true;
  for (const auto& [key, unused] : keys) {
    const ResultPoint* b = find_result(before, key);
    const ResultPoint* c = find_result(now, key);
    if (b != nullptr && c != nullptr) {
      comparison.both(*b, *c);
    } else if (c != nullptr) {
      comparison.one_sided(*c, Verdict::kNew);
    } else {
      comparison.one_sided(*b, Verdict::kGone);
    }
  }
  std::vector<Pending>& pending = comparison.pending();
  decide(pending, options);

  RegressionReport report;
  report.sweep = current.id;
  report.options = options;
  if (baseline != nullptr) {
    report.baseline_sweep =
        SweepSide{baseline->id, baseline->name, baseline->branch, baseline->commit, {}};
  }
  report.power = power_of(pending, options);
  for (Verdict v : kAllVerdicts) report.counts[v] = 0;
  for (Pending& p : pending) {
    ++report.counts[p.series.verdict];
    report.series.push_back(std::move(p.series));
  }
  std::sort(report.series.begin(), report.series.end(), [](const auto& a, const auto& b) {
    return std::tie(a.config_hash, a.target, a.metric, a.batch) <
           std::tie(b.config_hash, b.target, b.metric, b.batch);
  });
  return report;
}

namespace {

nlohmann::json optional_number(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

void to_json(nlohmann::json& j, const SeriesVerdict& s) {
  j = {{"config_hash", s.config_hash},
       {"label", s.label},
       {"target", s.target},
       {"target_label", s.target_label},
       {"batch", s.batch ? nlohmann::json(*s.batch) : nlohmann::json(nullptr)},
       {"metric", to_string(s.metric)},
       {"verdict", to_string(s.verdict)},
       {"p", optional_number(s.p)},
       {"q", optional_number(s.q)},
       {"effect", optional_number(s.effect)},
       {"ci", s.ci ? nlohmann::json{s.ci->first, s.ci->second} : nlohmann::json(nullptr)},
       {"baseline", optional_number(s.baseline_value)},
       {"current", optional_number(s.current_value)},
       {"kernel_changed", s.kernel_changed},
       {"kernel", s.kernel},
       {"baseline_kernel", s.baseline_kernel},
       {"injected", s.injected}};
  if (!s.reason.empty()) j["reason"] = s.reason;
}

void to_json(nlohmann::json& j, const RegressionReport& r) {
  nlohmann::json baseline = nullptr;
  if (r.baseline_sweep) {
    baseline = {{"id", r.baseline_sweep->id},
                {"name", r.baseline_sweep->name},
                {"branch", r.baseline_sweep->branch},
                {"commit", r.baseline_sweep->commit}};
  }
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [verdict, n] : r.counts) counts[to_string(verdict)] = n;
  const ComparisonPower& p = r.power;
  j = {{"sweep", r.sweep},
       {"baseline", baseline},
       {"baseline_reason", r.baseline_reason},
       {"options",
        {{"alpha", r.options.alpha},
         {"min_effect", r.options.min_effect},
         {"min_drop", r.options.min_drop},
         {"min_cpu_ratio", r.options.min_cpu_ratio}}},
       {"series", r.series},
       {"counts", counts},
       {"power",
        {{"tested", p.tested},
         {"fewest_samples", p.fewest_samples},
         {"smallest_p", p.smallest_p},
         {"lone_change_p", p.lone_change_p},
         {"can_flag_lone_change", p.can_flag_lone_change},
         {"samples_needed", p.samples_needed},
         {"tracked_repetitions", stats::kTrackedRepetitions}}}};
}

}  // namespace lowbit::coordinator
