#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "kernels/measure/peak_cache.h"
#include "worker/context_detect.h"
#include "worker/eval_steps.h"
#include "worker/measure_lock.h"

namespace lowbit::worker {

namespace {

// Converts the harness's statistics and places them on the roofline.
protocol::Latency to_latency(const kernels::LatencyStats& s, const kernels::Peaks& peaks,
                             const kernels::PeakProbe* probe, int threads) {
  protocol::Latency l;
  l.batch = s.batch;
  l.median_us = s.median_us;
  l.p90_us = s.p90_us;
  l.p99_us = s.p99_us;
  l.mean_us = s.mean_us;
  l.stddev_us = s.stddev_us;
  l.min_us = s.min_us;
  l.cv = s.cv;
  l.repetitions = s.repetitions;
  l.iterations = s.iterations;
  l.samples_us = s.samples_us;
  l.cpu_samples_us = s.cpu_samples_us;
  l.throughput_per_s = s.throughput_per_s;
  l.gflops = s.gops;
  l.arithmetic_intensity = s.arithmetic_intensity;
  l.noisy = s.noisy;
  if (probe != nullptr && probe->gops_per_core > 0) {
    const double peak = probe->gops_per_core * threads;
    l.pct_of_peak = s.gops / peak;
    if (peaks.read_gbytes_per_s > 0) {
      const double ridge = peak / peaks.read_gbytes_per_s;  // ops per byte where the roofs meet
      l.bound = s.arithmetic_intensity < ridge ? "memory" : "compute";
    }
  }
  return l;
}

// The peak probe of a precision's arithmetic: what its inner loop issues.
// fp16 converts its weights to fp32 and multiplies in fp32 FMA.
std::string probe_for_precision(const std::string& precision) {
  if (precision == "fp32" || precision == "fp16") return "fp32_fma";
  if (precision == "int8" || precision == "fixed") return "int8_dot";
  if (precision == "bf16") return "bf16_dot";
  return {};
}

}  // namespace

void measure(const EvalRequest& request, std::vector<kernels::TimedCase>& cases,
             protocol::Result& result) {
  // Held through the peak probes and the timing, both of which need the cores to themselves.
  std::optional<MeasureLock> lock;
  if (!request.measure_lock.empty()) {
    lock.emplace(request.measure_lock);
    if (lock->waited_seconds() > 0.1) {
      spdlog::info("waited {:.1f} s for the measurement lock {}", lock->waited_seconds(),
                   request.measure_lock.string());
    }
  }
  const LoadSnapshot start = snapshot_load();
  const kernels::Peaks peaks = kernels::load_or_measure_peaks(request.cache_dir, result.target.id,
                                                              request.threads, request.isa_cap);
  const kernels::PeakProbe* probe =
      kernels::find_probe(peaks, probe_for_precision(request.config.precision));
  spdlog::info("measuring latency: {} case(s), {} repetitions of ≥ {} ms", cases.size(),
               request.measurement.latency.repetitions, request.measurement.latency.min_time_ms);
  const std::vector<kernels::LatencyStats> stats =
      kernels::measure_latency(cases, request.measurement.latency);
  for (const kernels::LatencyStats& s : stats) {
    result.latency.push_back(to_latency(s, peaks, probe, request.threads));
  }
  protocol::Measurement m;
  for (const kernels::TimedCase& c : cases) m.batches.push_back(c.batch);
  m.repetitions = request.measurement.latency.repetitions;
  m.min_time_ms = request.measurement.latency.min_time_ms;
  m.warmup_ms = request.measurement.latency.warmup_ms;
  result.measurement = m;
  protocol::Context context = detect_context(start, snapshot_load());
  context.mhz_per_cpu = peaks.measured_ghz * 1e3;
  context.peak_gflops_per_core = probe != nullptr ? probe->gops_per_core : 0.0;
  context.read_gbytes_per_s = peaks.read_gbytes_per_s;
  if (request.measurement.latency.injected_slowdown > 0) {
    context.injected_slowdown = request.measurement.latency.injected_slowdown;
  }
  if (context.overloaded) {
    spdlog::warn("load average {:.2f} exceeded {} CPUs while measuring: latency is suspect",
                 std::max(start.load_avg.empty() ? 0.0 : start.load_avg[0],
                          context.load_avg_end.empty() ? 0.0 : context.load_avg_end[0]),
                 context.num_cpus);
  }
  result.context = context;
}

}  // namespace lowbit::worker
