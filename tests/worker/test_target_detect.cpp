// Target fingerprint and version info. The machine is not assumed: detected values are checked
// for consistency with each other, and the parsers get canned text from other machines.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>

#include "kernels/base/library_info.h"
#include "protocol/target.h"
#include "worker/target_detect.h"

namespace lowbit::worker {
namespace {

using protocol::CacheLevel;
using protocol::Target;
using protocol::VersionInfo;

// A made-up machine with every hashed field set, for the id's invariance tests.
Target sample_target() {
  Target t;
  t.cpu = "Example CPU 9000 (family 25, model 17)";
  t.isa_flags = {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni"};
  t.isa_effective = "avx512_core_vnni";
  t.isa_cap = "native";
  t.threads = 2;
  t.num_cpus = 4;
  t.caches = {{1, "data", 32 << 10, 1},
              {1, "instruction", 32 << 10, 1},
              {2, "unified", 1 << 20, 1},
              {3, "unified", std::int64_t{32} << 20, 4}};
  t.memory_bytes = std::int64_t{16} << 30;
  t.os = "Linux 6.1.0-18-amd64";
  t.label = protocol::make_target_label(t);
  t.id = protocol::compute_target_id(t);
  return t;
}

// The CPU flags oneDNN needs before it will run at each ISA it can report.
std::vector<std::string> flags_required_by(const std::string& isa) {
  const std::vector<std::string> avx512_core = {"avx2", "avx512f", "avx512bw", "avx512vl",
                                                "avx512dq"};
  auto plus = [](std::vector<std::string> base, std::initializer_list<std::string> more) {
    base.insert(base.end(), more);
    return base;
  };
  if (isa == "sse41") return {"sse4_1"};
  if (isa == "avx") return {"avx"};
  if (isa == "avx2") return {"avx", "avx2"};
  if (isa == "avx2_vnni") return {"avx2", "avx_vnni"};
  if (isa == "avx512_core") return avx512_core;
  if (isa == "avx512_core_vnni") return plus(avx512_core, {"avx512_vnni"});
  if (isa == "avx512_core_bf16") return plus(avx512_core, {"avx512_vnni", "avx512_bf16"});
  if (isa == "avx512_core_amx") {
    return plus(avx512_core, {"avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16"});
  }
  FAIL("isa_effective is not a name oneDNN 2.6 reports: " << isa);
  return {};
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::set<std::string> keys_of(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (const auto& item : object.items()) keys.insert(item.key());
  return keys;
}

constexpr const char* kChildOutputEnv = "LOWBIT_TEST_TARGET_OUT";
constexpr const char* kChildCase = "target_detect_child_writes_its_target";

// Runs this test binary again, alone on kChildCase, with `env_prefix` in its environment, and
// returns the target it detected. The id must not depend on anything one process has and another
// lacks (addresses, hash seeds, start time).
Target detect_in_child_process(const std::string& tag, const std::string& env_prefix) {
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe");
  const std::filesystem::path out = std::filesystem::temp_directory_path() /
                                    fmt::format("lowbit-target-{}-{}.json", getpid(), tag);
  std::filesystem::remove(out);
  const std::string command =
      fmt::format("{} {}='{}' '{}' --no-skip --test-case={} --no-version >/dev/null", env_prefix,
                  kChildOutputEnv, out.string(), self.string(), kChildCase);
  const int status = std::system(command.c_str());
  INFO("command: " << command);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::ifstream in(out);
  REQUIRE(in);
  const Target target = nlohmann::json::parse(in).get<Target>();
  std::filesystem::remove(out);
  return target;
}

TEST_CASE("detect_target reports a consistent fingerprint of this machine") {
  const Target t = detect_target(1);
  INFO("target: " << nlohmann::json(t).dump());

  CHECK(!t.cpu.empty());
  CHECK(t.isa_cap == "native");
  CHECK(t.threads == 1);
  CHECK(t.num_cpus >= 1);
  CHECK(t.memory_bytes > 0);
  CHECK(t.memory_bytes % 1024 == 0);  // MemTotal is in kB
  CHECK(t.os.starts_with("Linux "));
  CHECK(t.os.size() > std::string("Linux ").size());

  // Only known ISA flags, each once, in kIsaFlags order.
  std::vector<std::string> canonical;
  for (const std::string_view flag : kIsaFlags) {
    if (contains(t.isa_flags, std::string(flag))) canonical.emplace_back(flag);
  }
  CHECK(t.isa_flags == canonical);

  for (const std::string& flag : flags_required_by(t.isa_effective)) {
    CHECK_MESSAGE(contains(t.isa_flags, flag),
                  "oneDNN runs " << t.isa_effective << " but /proc/cpuinfo lacks " << flag);
  }

  if (std::filesystem::exists("/sys/devices/system/cpu/cpu0/cache")) {
    CHECK(!t.caches.empty());
  }
  for (const CacheLevel& cache : t.caches) {
    CHECK(cache.level >= 1);
    CHECK(cache.level <= 4);
    CHECK((cache.type == "data" || cache.type == "instruction" || cache.type == "unified"));
    CHECK(cache.size_bytes > 0);
    CHECK(cache.shared_by_cpus >= 1);
    CHECK(cache.shared_by_cpus <= t.num_cpus);
  }

  CHECK(t.label == "native-t1");
  CHECK(t.id == protocol::compute_target_id(t));
  CHECK(std::regex_match(t.id, std::regex("[0-9a-f]{16}")));
}

TEST_CASE("without a cap in the environment, oneDNN runs the best ISA the flags allow") {
  if (std::getenv("ONEDNN_MAX_CPU_ISA") != nullptr || std::getenv("DNNL_MAX_CPU_ISA") != nullptr) {
    MESSAGE("skipped: an ISA cap is set in the environment");
    return;
  }
  const Target t = detect_target(1);
  // oneDNN 2.6 prefers these, best first; the first whose flags are all present must be the one.
  const char* const ladder[] = {"avx512_core_amx",
                                "avx512_core_bf16",
                                "avx512_core_vnni",
                                "avx512_core",
                                "avx2_vnni",
                                "avx2",
                                "avx",
                                "sse41"};
  for (const char* isa : ladder) {
    const std::vector<std::string> needed = flags_required_by(isa);
    if (std::all_of(needed.begin(), needed.end(),
                    [&](const std::string& flag) { return contains(t.isa_flags, flag); })) {
      CHECK(t.isa_effective == isa);
      return;
    }
  }
  CHECK(t.isa_effective == "all");
}

TEST_CASE("detecting twice gives the same target") {
  const Target first = detect_target(2);
  const Target second = detect_target(2);
  CHECK(first == second);
}

TEST_CASE("threads and the ISA cap are part of the id and the label") {
  const Target one = detect_target(1);
  const Target two = detect_target(2);
  CHECK(one.label == "native-t1");
  CHECK(two.label == "native-t2");
  CHECK(one.id != two.id);

  // Only recorded here, not applied: the label and id must follow the cap the worker was given.
  const Target capped = detect_target(1, "avx2");
  CHECK(capped.label == "avx2-t1");
  CHECK(capped.id != one.id);
}

TEST_CASE("detect_target rejects impossible settings") {
  CHECK_THROWS_AS(detect_target(0), std::invalid_argument);
  CHECK_THROWS_AS(detect_target(-1), std::invalid_argument);
  CHECK_THROWS_AS(detect_target(1, ""), std::invalid_argument);
}

TEST_CASE("the target id ignores what is not hardware, threads or ISA") {
  const Target base = sample_target();
  const std::string id = protocol::compute_target_id(base);

  Target t = base;
  t.id = "something else";
  t.label = "renamed";
  CHECK(protocol::compute_target_id(t) == id);

  t = base;
  std::reverse(t.isa_flags.begin(), t.isa_flags.end());
  std::reverse(t.caches.begin(), t.caches.end());
  CHECK(protocol::compute_target_id(t) == id);

  t = base;
  t.memory_bytes += std::int64_t{100} << 20;  // a different boot's kernel reservation
  CHECK(protocol::compute_target_id(t) == id);
  t.memory_bytes = base.memory_bytes - (std::int64_t{100} << 20);
  CHECK(protocol::compute_target_id(t) == id);

  t = base;
  t.os = "Linux 6.1.0-21-amd64";  // a kernel update continues the series
  CHECK(protocol::compute_target_id(t) == id);
}

TEST_CASE("the target id changes with every hashed field") {
  const Target base = sample_target();
  const std::string id = protocol::compute_target_id(base);
  auto changed = [&](auto mutate) {
    Target t = base;
    mutate(t);
    return protocol::compute_target_id(t) != id;
  };
  CHECK(changed([](Target& t) { t.cpu = "Example CPU 9001 (family 25, model 17)"; }));
  CHECK(changed([](Target& t) { t.isa_flags.pop_back(); }));
  CHECK(changed([](Target& t) { t.isa_effective = "avx2"; }));
  CHECK(changed([](Target& t) { t.isa_cap = "avx512_core_vnni"; }));
  CHECK(changed([](Target& t) { t.threads = 1; }));
  CHECK(changed([](Target& t) { t.num_cpus = 8; }));
  CHECK(changed([](Target& t) { t.caches[3].size_bytes *= 2; }));
  CHECK(changed([](Target& t) { t.caches[3].shared_by_cpus = 2; }));
  CHECK(changed([](Target& t) { t.caches.pop_back(); }));
  CHECK(changed([](Target& t) { t.memory_bytes += std::int64_t{1} << 30; }));
  CHECK(changed([](Target& t) { t.os = "FreeBSD 14.0-RELEASE"; }));
}

TEST_CASE("the target id of a fixed machine never changes between lowbit versions") {
  // Regression series are keyed by target id: if this fails, stored history splits. Change the
  // scheme only on purpose (kTargetIdScheme in protocol/target.cpp) and update this value with it.
  CHECK(protocol::compute_target_id(sample_target()) == "b468a2496a4b2e33");
}

TEST_CASE("target JSON round trip, with Google Benchmark's cache names") {
  const Target detected = detect_target(2);
  const nlohmann::json j = detected;
  CHECK(keys_of(j) == std::set<std::string>{"id", "label", "cpu", "isa_flags", "isa_effective",
                                            "isa_cap", "threads", "num_cpus", "caches",
                                            "memory_bytes", "os"});
  REQUIRE(j.at("caches").is_array());
  for (const nlohmann::json& cache : j.at("caches")) {
    CHECK(keys_of(cache) == std::set<std::string>{"type", "level", "size", "num_sharing"});
  }
  CHECK(j.get<Target>() == detected);
  CHECK(nlohmann::json::parse(j.dump()).get<Target>() == detected);

  nlohmann::json missing = j;
  missing.erase("threads");
  CHECK_THROWS_AS(missing.get<Target>(), nlohmann::json::exception);
}

TEST_CASE("version info names the build and the loaded libraries") {
  const VersionInfo v = detect_versions();
  INFO("version: " << nlohmann::json(v).dump());
  CHECK(!v.lowbit.empty());
  CHECK((v.compiler.starts_with("g++ ") || v.compiler.starts_with("clang ")));
  CHECK(std::regex_match(v.openblas, std::regex(R"(\d+\.\d+\.\d+)")));
  CHECK(!v.openblas_core.empty());
  CHECK(v.openblas_core == kernels::openblas_core());
  CHECK(std::regex_match(v.onednn, std::regex(R"(\d+\.\d+\.\d+)")));

  const nlohmann::json j = v;
  CHECK(keys_of(j) ==
        std::set<std::string>{"lowbit", "compiler", "openblas", "openblas_core", "onednn"});
  CHECK(j.get<VersionInfo>() == v);
}

TEST_CASE("library info: OpenBLAS shares OpenMP with oneDNN, and threads are set for both") {
  CHECK(kernels::openblas_config().starts_with("OpenBLAS " + kernels::openblas_version() + " "));
  // CMake links the OpenMP build on purpose (docs/openblas-threading.md); a pthread build here
  // means the alternatives system or the link line changed under us.
  CHECK(kernels::openblas_parallel_mode() == "openmp");

  const int before = omp_get_max_threads();
  for (const int threads : {1, 2}) {
    kernels::set_threads(threads);
    CHECK(kernels::openblas_threads() == threads);
    CHECK(omp_get_max_threads() == threads);
  }
  CHECK_THROWS_AS(kernels::set_threads(0), std::invalid_argument);
  kernels::set_threads(before);
}

TEST_CASE("parse_cpuinfo keeps the model and the ISA flags of the first processor") {
  const std::string sapphire_rapids =
      "processor\t: 0\n"
      "vendor_id\t: GenuineIntel\n"
      "cpu family\t: 6\n"
      "model\t\t: 143\n"
      "model name\t: Intel(R) Xeon(R) Platinum 8480+\n"
      "stepping\t: 8\n"
      "flags\t\t: fpu vme sse4_1 sse4_2 avx f16c hypervisor avx2 fma bmi2 avx512f avx512dq "
      "avx512cd avx512bw avx512vl avx_vnni avx512_bf16 avx512_vnni avx512_fp16 amx_bf16 "
      "amx_tile amx_int8 md_clear\n"
      "\n"
      "processor\t: 1\n"
      "model name\t: Some Other CPU\n"
      "flags\t\t: sse4_1\n";
  const CpuInfo info = parse_cpuinfo(sapphire_rapids);
  CHECK(info.cpu == "Intel(R) Xeon(R) Platinum 8480+ (family 6, model 143)");
  CHECK(info.isa_flags == std::vector<std::string>{"sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c",
                                                   "bmi2", "avx_vnni", "avx512f", "avx512cd",
                                                   "avx512bw", "avx512dq", "avx512vl",
                                                   "avx512_vnni", "avx512_bf16", "avx512_fp16",
                                                   "amx_tile", "amx_int8", "amx_bf16"});

  const CpuInfo bare = parse_cpuinfo("processor\t: 0\nflags\t\t: avx2 avx2\n");
  CHECK(bare.cpu == "unknown");
  CHECK(bare.isa_flags == std::vector<std::string>{"avx2"});
  CHECK(parse_cpuinfo("").cpu == "unknown");
}

TEST_CASE("parse_mem_total, parse_cache_size and count_cpu_list") {
  CHECK(parse_mem_total("MemTotal:       24684092 kB\nMemFree:  1000 kB\n") ==
        std::int64_t{24684092} * 1024);
  CHECK(parse_mem_total("MemFree:  1000 kB\n") == 0);
  CHECK(parse_mem_total("MemTotal: lots kB\n") == 0);

  CHECK(parse_cache_size("32K\n") == 32 * 1024);
  CHECK(parse_cache_size("32768K") == std::int64_t{32} << 20);
  CHECK(parse_cache_size("2M") == std::int64_t{2} << 20);
  CHECK(parse_cache_size("512") == 512);
  CHECK(parse_cache_size("") == 0);
  CHECK(parse_cache_size("K") == 0);
  CHECK(parse_cache_size("12Q") == 0);

  CHECK(count_cpu_list("0\n") == 1);
  CHECK(count_cpu_list("0-1") == 2);
  CHECK(count_cpu_list("0-3,8,10-11") == 7);
  CHECK(count_cpu_list("") == 0);
  CHECK(count_cpu_list("3-1") == 0);
  CHECK(count_cpu_list("a") == 0);
  CHECK(count_cpu_list("0,") == 1);
}

TEST_CASE("two processes on this machine detect the same target") {
  const Target here = detect_target(1);
  const Target there = detect_in_child_process("same", "");
  CHECK(there == here);
}

TEST_CASE("ONEDNN_MAX_CPU_ISA set before start lowers the effective ISA and changes the id") {
  const Target here = detect_target(1);
  if (here.isa_effective == "sse41") {
    MESSAGE("skipped: this machine already runs at oneDNN's lowest ISA");
    return;
  }
  const Target capped = detect_in_child_process("sse41", "ONEDNN_MAX_CPU_ISA=SSE41");
  CHECK(capped.isa_effective == "sse41");
  CHECK(capped.isa_flags == here.isa_flags);  // the hardware did not change, only what runs
  CHECK(capped.id != here.id);
}

// Not a test on its own: the two tests above run it in a child process.
TEST_CASE(kChildCase* doctest::skip(true)) {
  const char* out = std::getenv(kChildOutputEnv);
  REQUIRE_MESSAGE(out != nullptr, "run by the two-process tests, which set " << kChildOutputEnv);
  std::ofstream(out) << nlohmann::json(detect_target(1)).dump();
}

}  // namespace
}  // namespace lowbit::worker
