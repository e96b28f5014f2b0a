#include "coordinator/metrics.h"

#include <fmt/format.h>

namespace lowbit::coordinator::http_api {

namespace {

// Label values are our own route patterns and state names; escape anyway, as the format asks.
std::string label(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::observe(const std::string& route, int status, double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < kBucketsS.size(); ++i) {
    if (seconds <= kBucketsS[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::render(const StoreGauges& gauges) const {
  std::string out;
  out += "# HELP lowbit_jobs Variant and prepare jobs by state.\n# TYPE lowbit_jobs gauge\n";
  for (const auto& [state, n] : gauges.jobs_by_state) {
    out += fmt::format("lowbit_jobs{{state=\"{}\"}} {}\n", label(state), n);
  }
  out += fmt::format(
      "# HELP lowbit_leases_active Leases held by workers now.\n"
      "# TYPE lowbit_leases_active gauge\nlowbit_leases_active {}\n",
      gauges.active_leases);
  out += fmt::format(
      "# HELP lowbit_workers Registered workers.\n"
      "# TYPE lowbit_workers gauge\nlowbit_workers {}\n",
      gauges.workers);
  out += fmt::format(
      "# HELP lowbit_sweeps Sweeps in the store.\n"
      "# TYPE lowbit_sweeps gauge\nlowbit_sweeps {}\n",
      gauges.sweeps);

  const std::lock_guard lock(mutex_);
  out +=
      "# HELP lowbit_http_requests_total Answered requests by route and status.\n"
      "# TYPE lowbit_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("lowbit_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                       label(key.first), key.second, n);
  }
  out +=
      "# HELP lowbit_http_request_seconds Time from a request's last byte read to its answer "
      "written.\n# TYPE lowbit_http_request_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string r = label(route);
    for (std::size_t i = 0; i < kBucketsS.size(); ++i) {
      out += fmt::format("lowbit_http_request_seconds_bucket{{route=\"{}\",le=\"{:g}\"}} {}\n", r,
                         kBucketsS[i], h.buckets[i]);
    }
    out += fmt::format("lowbit_http_request_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", r,
                       h.count);
    out += fmt::format("lowbit_http_request_seconds_sum{{route=\"{}\"}} {:g}\n", r, h.sum);
    out += fmt::format("lowbit_http_request_seconds_count{{route=\"{}\"}} {}\n", r, h.count);
  }
  return out;
}

}  // namespace lowbit::coordinator::http_api
