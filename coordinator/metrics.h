#pragma once
// What /metrics reports, in the Prometheus text format (version 0.0.4): requests by route and
// status, their latencies as a histogram, and, read from the store when scraped, jobs by state,
// active leases and registered workers. Routes are counted by pattern (`/api/v1/sweeps/{id}`),
// never by the raw path, so the series stay few whatever clients send.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace lowbit::coordinator::http_api {

struct StoreGauges {
  std::map<std::string, std::int64_t> jobs_by_state;  // every state, zeros included
  std::int64_t active_leases = 0;
  std::int64_t workers = 0;
  std::int64_t sweeps = 0;
};

class Metrics {
 public:
  static constexpr std::array<double, 14> kBucketsS = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30};

  // Thread-safe: network threads call it once per answered request.
  void observe(const std::string& route, int status, double seconds);

  std::string render(const StoreGauges& gauges) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBucketsS.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

}  // namespace lowbit::coordinator::http_api
