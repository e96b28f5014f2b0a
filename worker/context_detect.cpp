#include "worker/context_detect.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace lowbit::worker {

namespace {

// Google Benchmark's rule: scaling is "disabled" only under the performance
// governor; no cpufreq at all (common in VMs) is "unknown".
std::string cpu_scaling() {
  std::ifstream in("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  std::string governor;
  if (!(in >> governor)) return "unknown";
  return governor == "performance" ? "disabled" : "enabled";
}

}  // namespace

LoadSnapshot snapshot_load() {
  double loads[3] = {0, 0, 0};
  const int n = ::getloadavg(loads, 3);
  LoadSnapshot s;
  for (int i = 0; i < n; ++i) s.load_avg.push_back(loads[i]);
  return s;
}

int os_thread_count() {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

protocol::Context detect_context(const LoadSnapshot& start, const LoadSnapshot& end) {
  protocol::Context c;
  c.date = fmt::format(
      "{:%Y-%m-%dT%H:%M:%SZ}",
      fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) == 0) c.host_name = host;
  c.num_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  c.cpu_scaling = cpu_scaling();
  c.load_avg_start = start.load_avg;
  c.load_avg_end = end.load_avg;
  const auto over = [&](const LoadSnapshot& s) {
    return !s.load_avg.empty() && s.load_avg[0] > c.num_cpus;
  };
  c.overloaded = over(start) || over(end);
  c.os_threads = os_thread_count();
  return c;
}

}  // namespace lowbit::worker
