#include "worker/gbench_json.h"

#include <fmt/format.h>

#include <cctype>

#include "stats/summary.h"

namespace lowbit::worker {

namespace {

std::string benchmark_family(const protocol::Result& r) {
  const protocol::EvalConfig& c = r.config;
  if (c.workload == protocol::kWorkloadGemm) {
    return fmt::format("gemm_{}x{}x{}/{}/{}", c.gemm.m, c.gemm.k, c.gemm.n, c.precision, r.kernel);
  }
  return fmt::format("mlp_{}/{}/bits:{}/{}", fmt::join(c.mlp.layers, "_"), c.precision, c.bits,
                     r.kernel);
}

// Google Benchmark capitalizes cache types ("Data", "Instruction", "Unified").
std::string capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

nlohmann::json aggregate(const nlohmann::json& base, const std::string& name, double real,
                         double cpu, const char* unit) {
  nlohmann::json a = base;
  a["name"] = fmt::format("{}_{}", base["run_name"].get<std::string>(), name);
  a["run_type"] = "aggregate";
  a["aggregate_name"] = name;
  a["aggregate_unit"] = unit;
  a["real_time"] = real;
  a["cpu_time"] = cpu;
  a.erase("repetition_index");
  return a;
}

}  // namespace

nlohmann::json to_gbench_json(const protocol::Result& r) {
  nlohmann::json context = {
      {"executable", "lowbit"},
      {"num_cpus", r.target.num_cpus},
      {"library_build_type", "release"},
      {"lowbit_target", r.target.label},
      {"lowbit_config_hash", r.config_hash},
      {"lowbit_repro", r.repro},
  };
  nlohmann::json caches = nlohmann::json::array();
  for (const protocol::CacheLevel& c : r.target.caches) {
    caches.push_back({{"type", capitalized(c.type)},
                      {"level", c.level},
                      {"size", c.size_bytes},
                      {"num_sharing", c.shared_by_cpus}});
  }
  context["caches"] = caches;
  if (r.context) {
    context["date"] = r.context->date;
    context["host_name"] = r.context->host_name;
    context["mhz_per_cpu"] = r.context->mhz_per_cpu;
    context["cpu_scaling_enabled"] = r.context->cpu_scaling == "enabled";
    context["load_avg"] = r.context->load_avg_start;
  }

  nlohmann::json benchmarks = nlohmann::json::array();
  const std::string family = benchmark_family(r);
  int family_index = 0;
  for (const protocol::Latency& l : r.latency) {
    const std::string run_name = fmt::format("{}/batch:{}", family, l.batch);
    const nlohmann::json base = {
        {"run_name", run_name},
        {"family_index", family_index},
        {"per_family_instance_index", 0},
        {"repetitions", l.repetitions},
        {"threads", r.target.threads},
        {"iterations", l.iterations},
        {"time_unit", "us"},
    };
    for (std::size_t i = 0; i < l.samples_us.size(); ++i) {
      nlohmann::json run = base;
      run["name"] = run_name;
      run["run_type"] = "iteration";
      run["repetition_index"] = i;
      run["real_time"] = l.samples_us[i];
      run["cpu_time"] = i < l.cpu_samples_us.size() ? l.cpu_samples_us[i] : l.samples_us[i];
      run["items_per_second"] = l.samples_us[i] > 0 ? l.batch / (l.samples_us[i] * 1e-6) : 0.0;
      benchmarks.push_back(run);
    }
    const stats::Summary cpu =
        stats::summarize(l.cpu_samples_us.empty() ? l.samples_us : l.cpu_samples_us);
    benchmarks.push_back(aggregate(base, "mean", l.mean_us, cpu.mean, "time"));
    benchmarks.push_back(aggregate(base, "median", l.median_us, cpu.median, "time"));
    benchmarks.push_back(aggregate(base, "stddev", l.stddev_us, cpu.stddev, "time"));
    benchmarks.push_back(aggregate(base, "cv", l.cv, cpu.cv, "percentage"));
    ++family_index;
  }
  return {{"context", context}, {"benchmarks", benchmarks}};
}

}  // namespace lowbit::worker
