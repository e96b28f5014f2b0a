#pragma once
// The result document: one per (job, target), the same from `lowbit eval`,
// the API and the store. schemas/result.schema.json is its contract; this is
// its C++ form. Groups that a status does not produce (a skipped result has
// no accuracy) are absent, not zero.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "protocol/eval_config.h"
#include "protocol/target.h"

namespace lowbit::protocol {

inline constexpr const char* kStatusPassed = "passed";
inline constexpr const char* kStatusSkipped = "skipped";
inline constexpr const char* kStatusFailed = "failed";
inline constexpr const char* kStatusMistrusted = "mistrusted";

struct Accuracy {
  double top1 = 0.0;
  double baseline_top1 = 0.0;
  double delta = 0.0;  // top1 − baseline_top1; negative is worse
  double agreement = 0.0;
  int images = 0;
  std::string correct;  // per-image correctness, base64 bitset (bit i = image i, LSB first)
};

struct LayerKernelResult {
  std::string kernel;
  std::string impl;
};

// One batch size's latency. Median, mean, stddev, cv and min are over
// samples_us (one per repetition); p90/p99 over the individual calls.
struct Latency {
  int batch = 1;
  double median_us = 0, p90_us = 0, p99_us = 0, mean_us = 0, stddev_us = 0, min_us = 0, cv = 0;
  int repetitions = 0;
  std::int64_t iterations = 0;  // calls per repetition
  std::vector<double> samples_us;
  std::vector<double> cpu_samples_us;  // CPU time per call of each repetition
  double throughput_per_s = 0;
  double gflops = 0;                  // G operations/s at the median (a multiply-add is 2)
  std::optional<double> pct_of_peak;  // absent when no peak is known for the precision
  std::string bound;                  // "compute" or "memory"; empty when unknown
  double arithmetic_intensity = 0;    // operations per byte moved
  bool noisy = false;                 // cv > 0.05
};

// How the latency was measured (not part of the config: changing it does
// not change what is measured).
struct Measurement {
  std::vector<int> batches;
  int repetitions = 0;
  double min_time_ms = 0;
  double warmup_ms = 0;
};

// The machine's state while measuring, with Google Benchmark's field names
// where they exist.
struct Context {
  std::string date;  // ISO 8601, UTC
  std::string host_name;
  int num_cpus = 0;
  double mhz_per_cpu = 0;   // measured (an add chain), not /proc/cpuinfo's base clock
  std::string cpu_scaling;  // "enabled", "disabled" or "unknown"
  std::vector<double> load_avg_start;
  std::vector<double> load_avg_end;
  bool overloaded = false;          // load average above the CPU count during the run
  int os_threads = 0;               // threads of the process after measuring
  double peak_gflops_per_core = 0;  // for the result's precision; 0 when unknown
  double read_gbytes_per_s = 0;     // streaming read bandwidth with the target's threads
  // A slowdown the worker was told to inject (`--inject-slowdown`, for testing regression
  // detectors): each timed call spun this fraction of its own time longer. Absent: none, the
  // figures are real.
  std::optional<double> injected_slowdown;
};

struct GemmError {
  double max_rel = 0;
  std::optional<double> sqnr_db;  // absent: the error is exactly zero
};

// The base model the variant was built from (content-addressed artifact).
struct BaseModel {
  std::string hash;
  std::string cache_key;
  bool cache_hit = false;
  double validation_top1 = 0.0;
};

// With distillation: the two models the distilled student is judged against, on the
// same test set. The student's own top-1 is the base model's (accuracy.baseline_top1).
struct Distillation {
  double teacher_top1 = 0.0;
  double scratch_top1 = 0.0;  // the same student, same training spec, labels only
  std::string teacher_hash;   // model artifacts, as base_model.hash
  std::string scratch_hash;
};

struct Result {
  EvalConfig config;
  std::string config_hash;
  std::string status = kStatusPassed;
  std::string reason;
  std::optional<Accuracy> accuracy;
  std::optional<BaseModel> base_model;
  std::optional<Distillation> distillation;
  double sparsity = 0.0;
  std::int64_t params_nonzero = 0;
  std::int64_t model_bytes = 0;
  std::string weights = "real";
  double train_seconds = 0.0;
  std::string kernel;
  std::vector<LayerKernelResult> layers;
  std::optional<GemmError> error;  // gemm workload only
  // precision mixed: the policy that ran and, for auto, every candidate tried (the result
  // schema's `policy` and `candidates`, built by worker/mixed_policy.cpp).
  std::optional<nlohmann::json> policy;
  std::optional<nlohmann::json> candidates;
  std::vector<Latency> latency;
  std::optional<Measurement> measurement;
  std::optional<Context> context;
  Target target;
  VersionInfo version;
  std::string repro;
};

void to_json(nlohmann::json& j, const Latency& l);
void from_json(const nlohmann::json& j, Latency& l);
void to_json(nlohmann::json& j, const Measurement& m);
void from_json(const nlohmann::json& j, Measurement& m);
void to_json(nlohmann::json& j, const Context& c);
void from_json(const nlohmann::json& j, Context& c);
void to_json(nlohmann::json& j, const Result& r);
void from_json(const nlohmann::json& j, Result& r);

// Base64 (RFC 4648, with padding) of a bit vector packed LSB first.
std::string encode_bitset(const std::vector<bool>& bits);
std::vector<bool> decode_bitset(const std::string& text, std::size_t count);

}  // namespace lowbit::protocol
