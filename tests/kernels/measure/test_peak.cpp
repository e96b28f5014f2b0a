// Tests for the peak probes (kernels/peak) and their cache (kernels/peak_cache): each loop does
// the work it claims, the measured figures are positive and plausible for the instruction, a
// probe the CPU cannot run is absent, the ISA cap is honoured, JSON round-trips, and the cache
// reuses a good file and replaces a bad one. No test asserts a speed beyond "not absurd".

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/measure/peak.h"
#include "kernels/measure/peak_cache.h"
#include "tests/support/subprocess.h"

namespace {

namespace fs = std::filesystem;
using lowbit::kernels::find_probe;
using lowbit::kernels::isa_cap_rank;
using lowbit::kernels::load_or_measure_peaks;
using lowbit::kernels::measure_peaks;
using lowbit::kernels::PeakLoop;
using lowbit::kernels::PeakProbe;
using lowbit::kernels::Peaks;
using lowbit::kernels::peaks_from_json;
using lowbit::kernels::select_peak_loops;
using lowbit::kernels::to_json;

// One measurement shared by the tests that only read it: each costs ~0.3 s.
const Peaks& measured_once() {
  static const Peaks peaks = measure_peaks(1);
  return peaks;
}

bool cpu_has(const char* flag) {
  // __builtin_cpu_supports needs a literal; the flags the tests ask about.
  const std::string f(flag);
  if (f == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (f == "avx512f") return __builtin_cpu_supports("avx512f");
  if (f == "avx512bf16") return __builtin_cpu_supports("avx512bf16");
  FAIL("unknown flag " << f);
  return false;
}

using lowbit::testing::TempDir;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

Peaks sample_peaks() {
  Peaks peaks;
  peaks.compute = {{"fp32_fma", "avx2_fma", 101.5, 32.0}, {"int8_dot", "avx2_vpmaddubsw", 203, 64}};
  peaks.read_gbytes_per_s = 17.25;
  peaks.threads = 2;
  peaks.measured_ghz = 3.17;
  return peaks;
}

}  // namespace

TEST_CASE("peak: every loop the CPU supports does exactly the multiply-adds it counts") {
  // All inputs are 1, so the accumulators sum to the multiply-adds done: ops / 2 per iteration.
  // A mismatch means ops_per_iteration in peak.cpp disagrees with the asm.
  constexpr std::int64_t kIterations = 1000;  // keeps every fp32 lane far below 2^24
  int ran = 0;
  for (const PeakLoop& loop : lowbit::kernels::peak_loops()) {
    CAPTURE(loop.isa);
    if (!loop.cpu_supports()) continue;
    CHECK(loop.run(kIterations) == kIterations * loop.ops_per_iteration / 2);
    ++ran;
  }
  if (cpu_has("avx2")) CHECK(ran >= 2);
  REQUIRE_MESSAGE(ran > 0, "no peak loop can run on this CPU");
}

TEST_CASE("peak: loops are listed fastest first within each probe") {
  // The first admitted loop wins, so a later entry of the same probe must need no more ISA.
  const auto loops = lowbit::kernels::peak_loops();
  for (std::size_t i = 0; i < loops.size(); ++i) {
    for (std::size_t j = i + 1; j < loops.size(); ++j) {
      if (std::string(loops[i].probe) != loops[j].probe) continue;
      CAPTURE(loops[i].isa);
      CAPTURE(loops[j].isa);
      CHECK(isa_cap_rank(loops[i].min_cap) >= isa_cap_rank(loops[j].min_cap));
    }
  }
}

TEST_CASE("peak: ISA caps take oneDNN's names in any case and reject others") {
  CHECK(isa_cap_rank("avx2") < isa_cap_rank("avx2_vnni"));
  CHECK(isa_cap_rank("avx2_vnni") < isa_cap_rank("avx512_core"));
  CHECK(isa_cap_rank("avx512_core_vnni") < isa_cap_rank("avx512_core_bf16"));
  CHECK(isa_cap_rank("AVX512_CORE") == isa_cap_rank("avx512_core"));
  CHECK(isa_cap_rank("native") == isa_cap_rank("ALL"));
  CHECK_THROWS_AS(isa_cap_rank("avx3"), std::invalid_argument);
  CHECK_THROWS_AS(isa_cap_rank(""), std::invalid_argument);
  CHECK_THROWS_AS(measure_peaks(1, "avx3"), std::invalid_argument);
  CHECK_THROWS_AS(measure_peaks(0), std::invalid_argument);
}

TEST_CASE("peak: the cap limits the loops to the instructions it admits") {
  CHECK(select_peak_loops("sse41").empty());
  for (const PeakLoop* loop : select_peak_loops("avx2")) {
    CAPTURE(loop->isa);
    CHECK(isa_cap_rank(loop->min_cap) <= isa_cap_rank("avx2"));
  }
  const std::vector<const PeakLoop*> native = select_peak_loops("native");
  for (const PeakLoop* loop : native) CHECK(loop->cpu_supports());
  if (cpu_has("avx2")) {
    REQUIRE(select_peak_loops("avx2").size() == 2);
    CHECK(std::string(select_peak_loops("avx2")[0]->isa) == "avx2_fma");
    CHECK(std::string(select_peak_loops("avx2")[1]->isa) == "avx2_vpmaddubsw");
  }
  if (cpu_has("avx512f")) CHECK(std::string(native.at(0)->isa) == "avx512f");
}

TEST_CASE("peak: measured probes are positive, finite and plausible for the instruction") {
  const Peaks& peaks = measured_once();
  MESSAGE("peaks: " << to_json(peaks).dump());
  CHECK(peaks.threads == 1);
  CHECK(std::isfinite(peaks.measured_ghz));
  CHECK(peaks.measured_ghz > 0.3);  // a clock outside 0.3-10 GHz is a broken measurement
  CHECK(peaks.measured_ghz < 10);
  CHECK(std::isfinite(peaks.read_gbytes_per_s));
  CHECK(peaks.read_gbytes_per_s > 1);
  REQUIRE(peaks.compute.size() == select_peak_loops("native").size());
  for (const PeakProbe& probe : peaks.compute) {
    CAPTURE(probe.name);
    CHECK(std::isfinite(probe.gops_per_core));
    CHECK(probe.gops_per_core > 0);
    CHECK(probe.ops_per_cycle_hint == doctest::Approx(probe.gops_per_core / peaks.measured_ghz));
  }
  if (cpu_has("avx2")) {
    const PeakProbe* fp32 = find_probe(peaks, "fp32_fma");
    REQUIRE(fp32 != nullptr);
    // One 8-lane FMA per cycle at least, 2 × 16-lane × 4 at most: ops per cycle in [4, 256].
    const double per_cycle = fp32->gops_per_core / peaks.measured_ghz;
    CHECK(per_cycle >= 4);
    CHECK(per_cycle <= 256);
    CHECK(find_probe(peaks, "int8_dot") != nullptr);
  }
  if (cpu_has("avx512bf16")) {
    CHECK(find_probe(peaks, "bf16_dot") != nullptr);
  } else {
    CHECK(find_probe(peaks, "bf16_dot") == nullptr);  // absent, not zero
  }
  CHECK(find_probe(peaks, "fp16_fma") == nullptr);
}

TEST_CASE("peak: JSON round trip and rejection of malformed peaks") {
  const Peaks peaks = sample_peaks();
  const nlohmann::json json = to_json(peaks);
  const Peaks back = peaks_from_json(nlohmann::json::parse(json.dump()));
  CHECK(to_json(back) == json);
  REQUIRE(back.compute.size() == 2);
  CHECK(back.compute[1].name == "int8_dot");
  CHECK(back.compute[1].isa == "avx2_vpmaddubsw");
  CHECK(back.compute[1].gops_per_core == 203);
  CHECK(back.read_gbytes_per_s == 17.25);
  CHECK(back.threads == 2);
  CHECK(back.measured_ghz == 3.17);

  nlohmann::json bad = json;
  bad["read_gbytes_per_s"] = -1;
  CHECK_THROWS_AS(peaks_from_json(bad), std::invalid_argument);
  bad = json;
  bad["compute"][0]["gops_per_core"] = 0;
  CHECK_THROWS_AS(peaks_from_json(bad), std::invalid_argument);
  bad = json;
  bad["compute"][1]["name"] = "fp32_fma";
  CHECK_THROWS_AS(peaks_from_json(bad), std::invalid_argument);
  bad = json;
  bad["version"] = json["version"].get<int>() + 1;
  CHECK_THROWS_AS(peaks_from_json(bad), std::invalid_argument);
  bad = json;
  bad.erase("measured_ghz");
  CHECK_THROWS_AS(peaks_from_json(bad), nlohmann::json::exception);
  bad = json;
  bad["threads"] = "two";
  CHECK_THROWS_AS(peaks_from_json(bad), nlohmann::json::exception);
}

TEST_CASE("peak cache: measures once, then reads the file; a damaged file is measured again") {
  const TempDir dir("lowbit-test-peak");
  const std::string target_id = "0123456789abcdef";
  const fs::path path = lowbit::kernels::peaks_cache_path(dir.folder(), target_id);
  CHECK(path == dir.folder() / "peaks" / (target_id + ".json"));
  REQUIRE_FALSE(fs::exists(path));

  const Peaks first = load_or_measure_peaks(dir.folder(), target_id, 1);
  REQUIRE(fs::exists(path));
  CHECK(to_json(peaks_from_json(nlohmann::json::parse(read_text(path)))) == to_json(first));
  for (const auto& entry : fs::directory_iterator(path.parent_path())) {
    CHECK(entry.path() == path);  // no temp file left behind
  }

  // A value no measurement gives comes back: the second call read the file.
  nlohmann::json edited = nlohmann::json::parse(read_text(path));
  edited["read_gbytes_per_s"] = 12345.5;
  write_text(path, edited.dump());
  CHECK(load_or_measure_peaks(dir.folder(), target_id, 1).read_gbytes_per_s == 12345.5);

  // A truncated file is a miss: measured again, and the file replaced.
  write_text(path, "{\"compute\": [1, 2");
  const Peaks remeasured = load_or_measure_peaks(dir.folder(), target_id, 1);
  CHECK(remeasured.read_gbytes_per_s != 12345.5);
  CHECK(remeasured.read_gbytes_per_s > 0);
  CHECK(to_json(peaks_from_json(nlohmann::json::parse(read_text(path)))) == to_json(remeasured));

  // Peaks measured with another thread count are not these: measured again.
  edited["threads"] = 2;
  write_text(path, edited.dump());
  CHECK(load_or_measure_peaks(dir.folder(), target_id, 1).read_gbytes_per_s != 12345.5);

  CHECK_THROWS_AS(load_or_measure_peaks(dir.folder(), "../escape", 1), std::invalid_argument);
  CHECK_THROWS_AS(load_or_measure_peaks(dir.folder(), "", 1), std::invalid_argument);
  CHECK_THROWS_AS(load_or_measure_peaks(dir.folder(), target_id, 0), std::invalid_argument);
}
