// `lowbit eval` latency, GEMM workload, targets and export, as a user runs
// them. Measurement settings are cut to the minimum by flag: these tests check
// what is reported, never how fast anything is.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "protocol/json_schema.h"
#include "tests/support/subprocess.h"

using lowbit::testing::run_command;
using lowbit::testing::TempDir;

namespace {

const std::string kLowbit = LOWBIT_BINARY;
const std::string kQuick = " --repetitions 2 --min-time-ms 1 --warmup-ms 0";

nlohmann::json eval_json(const TempDir& cache, const std::string& args, int expect_exit = 0) {
  const auto r =
      run_command(kLowbit + " eval --json --cache " + cache.path() + kQuick + " " + args);
  INFO(args);
  INFO(r.err);
  REQUIRE(r.exit_code == expect_exit);
  return nlohmann::json::parse(r.out);
}

void check_schema(const nlohmann::json& result) {
  static const auto schema = lowbit::protocol::JsonSchema::load("result");
  for (const auto& e : schema.validate(result)) FAIL_CHECK(e.to_string());
}

bool cpu_has_flag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(" " + flag + " ") != std::string::npos;
  }
  return false;
}

}  // namespace

TEST_CASE("cli eval --gemm: error against fp64, one latency entry with batch M, schema-valid") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, "--gemm 8,64,4 --threads 1");
  check_schema(r);
  CHECK(r["status"] == "passed");
  CHECK(r["config"]["workload"] == nlohmann::json{{"kind", "gemm"}, {"m", 8}, {"k", 64}, {"n", 4}});
  CHECK(r["error"]["max_rel"].get<double>() < 1e-5);
  CHECK(r["error"]["sqnr_db"].get<double>() > 100.0);
  REQUIRE(r["latency"].size() == 1);
  const nlohmann::json& l = r["latency"][0];
  CHECK(l["batch"] == 8);
  CHECK(l["samples_us"].size() == 2);
  CHECK(l["repetitions"] == 2);
  CHECK(l["gflops"].get<double>() > 0.0);
  CHECK(l["min_us"].get<double>() <= l["median_us"].get<double>());
  CHECK_FALSE(r.contains("accuracy"));
  CHECK(r["repro"].get<std::string>().find("--gemm 8,64,4") != std::string::npos);
}

// Whether a kernel reaches some share of the peak is a speed figure, measured
// in bench/ and reported, never asserted here: a peak probe timed on a busy
// machine can come out low. The test checks the bookkeeping instead.
TEST_CASE("cli eval --gemm: pct_of_peak is gflops over the measured peak times threads") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, "--gemm 256,256,256 --threads 1");
  const nlohmann::json& l = r["latency"][0];
  REQUIRE(l.contains("pct_of_peak"));
  CHECK(l["pct_of_peak"].get<double>() > 0.0);
  const double peak =
      r["context"]["peak_gflops_per_core"].get<double>() * r["target"]["threads"].get<double>();
  CHECK(l["pct_of_peak"].get<double>() ==
        doctest::Approx(l["gflops"].get<double>() / peak).epsilon(1e-9));
  CHECK(
      l["gflops"].get<double>() ==
      doctest::Approx(2.0 * 256 * 256 * 256 / (l["median_us"].get<double>() * 1e3)).epsilon(1e-9));
  CHECK((l["bound"] == "compute" || l["bound"] == "memory"));
  CHECK(r["context"]["peak_gflops_per_core"].get<double>() > 0.0);
  CHECK(r["context"]["mhz_per_cpu"].get<double>() > 100.0);
}

TEST_CASE("cli eval: --gemm with --batch, and bad measurement flags, are exit 2") {
  const auto both = run_command(kLowbit + " eval --gemm 8,8,8 --batch 4");
  CHECK(both.exit_code == 2);
  CHECK(both.err.find("--batch") != std::string::npos);
  const auto shape = run_command(kLowbit + " eval --gemm 8,8");
  CHECK(shape.exit_code == 2);
  CHECK(shape.err.find("--gemm") != std::string::npos);
  const auto batch = run_command(kLowbit + " eval --batch 1,0");
  CHECK(batch.exit_code == 2);
  CHECK(batch.err.find("--batch") != std::string::npos);
  const auto reps = run_command(kLowbit + " eval --repetitions 0");
  CHECK(reps.exit_code == 2);
  const auto isa = run_command(kLowbit + " eval --max-isa sse2");
  CHECK(isa.exit_code == 2);
}

TEST_CASE("cli eval: the target fingerprint is equal across two processes") {
  TempDir cache("lowbit-cache");
  const nlohmann::json a = eval_json(cache, "--gemm 4,4,4 --threads 1");
  const nlohmann::json b = eval_json(cache, "--gemm 4,4,4 --threads 1");
  CHECK(a["target"] == b["target"]);
  CHECK(a["config_hash"] == b["config_hash"]);
  const nlohmann::json c = eval_json(cache, "--gemm 4,4,4 --threads 2");
  CHECK(c["target"]["id"] != a["target"]["id"]);
  CHECK(c["target"]["label"] == "native-t2");
}

TEST_CASE("cli eval: --threads 1 runs one thread") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, "--gemm 128,128,128 --threads 1");
  CHECK(r["target"]["threads"] == 1);
  CHECK(r["context"]["os_threads"] == 1);
}

TEST_CASE("cli eval: --max-isa avx2 runs no AVX-512 kernel and no AVX-512 OpenBLAS core") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, "--gemm 16,16,16 --threads 1 --max-isa avx2");
  check_schema(r);
  CHECK(r["target"]["isa_effective"] == "avx2");
  CHECK(r["target"]["isa_cap"] == "avx2");
  CHECK(r["target"]["label"] == "avx2-t1");
  CHECK(r["version"]["openblas_core"] == "Haswell");
  CHECK(r["kernel"] == "openblas/Haswell/sgemm");
  CHECK(r["repro"].get<std::string>().find("--max-isa avx2") != std::string::npos);
  const nlohmann::json native = eval_json(cache, "--gemm 16,16,16 --threads 1");
  CHECK(native["target"]["id"] != r["target"]["id"]);
}

TEST_CASE("cli eval: --max-isa above what the CPU has is refused, not faked") {
  TempDir cache("lowbit-cache");
  const auto r = run_command(kLowbit + " eval --json --gemm 4,4,4 --max-isa avx512_core --cache " +
                             cache.path() + kQuick);
  if (cpu_has_flag("avx512f") && cpu_has_flag("avx512bw")) {
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["target"]["isa_effective"] == "avx512_core");
  } else {
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("avx512") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli eval --format gbench-json: Google Benchmark's field names") {
  TempDir cache("lowbit-cache");
  const auto r =
      run_command(kLowbit + " eval --format gbench-json --gemm 8,8,8 --threads 1 --cache " +
                  cache.path() + kQuick);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json g = nlohmann::json::parse(r.out);
  for (const char* key : {"date", "host_name", "executable", "num_cpus", "mhz_per_cpu",
                          "cpu_scaling_enabled", "caches", "load_avg", "library_build_type"}) {
    CHECK_MESSAGE(g["context"].contains(key), key);
  }
  REQUIRE(g["benchmarks"].size() == 2 + 4);  // two repetitions, then mean, median, stddev, cv
  const nlohmann::json& run = g["benchmarks"][0];
  for (const char* key : {"name", "run_name", "run_type", "repetitions", "repetition_index",
                          "threads", "iterations", "real_time", "cpu_time", "time_unit"}) {
    CHECK_MESSAGE(run.contains(key), key);
  }
  CHECK(run["run_type"] == "iteration");
  CHECK(run["time_unit"] == "us");
  const nlohmann::json& agg = g["benchmarks"][3];
  CHECK(agg["run_type"] == "aggregate");
  CHECK(agg["aggregate_name"] == "median");
}

TEST_CASE("cli eval: the MLP reports one latency entry per batch size") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache,
                                     "--layers 784,16,10 --epochs 1 --train-images 500 "
                                     "--validation-images 100 --threads 1 --batch 1,3");
  check_schema(r);
  REQUIRE(r["latency"].size() == 2);
  CHECK(r["latency"][0]["batch"] == 1);
  CHECK(r["latency"][1]["batch"] == 3);
  CHECK(r["measurement"]["batches"] == nlohmann::json{1, 3});
  for (const auto& l : r["latency"]) {
    CHECK(l["throughput_per_s"].get<double>() > 0);
    CHECK(l.contains("pct_of_peak"));
  }
}
