// `lowbit eval` in every compute precision, as a user runs it: what runs, what is stored, what is
// skipped and why. A small model (2 epochs on 2,000 images) keeps it fast; accuracy bars on the
// full model are figures of `lowbit eval` itself, not asserted here.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli/eval_json.h"
#include "tests/support/subprocess.h"

using lowbit::testing::run_command;
using lowbit::testing::TempDir;

namespace {

const std::string kLowbit = LOWBIT_BINARY;
const std::string kQuick = " --threads 1 --repetitions 2 --min-time-ms 1 --warmup-ms 0";
const std::string kSmall =
    kQuick +
    " --layers 784,32,10 --epochs 2 --train-images 2000 --validation-images 1000 --batch 1,7";

nlohmann::json eval_json(const TempDir& cache, const std::string& args,
                         const std::string& base = kSmall) {
  return lowbit::testing::eval_json_ok(kLowbit + " eval --json --cache " + cache.path() + base +
                                       " " + args);
}

bool contains(const nlohmann::json& text, const std::string& part) {
  return text.get<std::string>().find(part) != std::string::npos;
}

constexpr int kFp32Bytes = (784 * 32 + 32 + 32 * 10 + 10) * 4;

}  // namespace

TEST_CASE("cli eval: every precision runs its own kernels and reports real storage") {
  TempDir cache("lowbit-cache");
  struct Case {
    std::string args;
    std::string kernel;   // a part of the kernel summary
    std::string weights;  // real | simulated
    bool smaller;         // stores less than fp32
  };
  const Case cases[] = {
      {"--precision fp32 --bits 8", "openblas/", "simulated", false},
      {"--precision fp16 --bits 32", "gemm_f32f16", "real", true},
      {"--precision int8 --bits 8", "onednn/", "real", true},
      {"--precision int8 --bits 8 --activations dynamic", "onednn/", "real", true},
      {"--precision int8 --bits 6 --granularity tensor --kernel avx2", "u8s8_avx2", "real", true},
      {"--precision fixed --bits 8 --calibration percentile", "fixed_u8s8", "real", true},
      {"--precision fixed --bits 6 --calibration minmax --calibration-samples 100", "fixed_u8s8",
       "real", true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const nlohmann::json r = eval_json(cache, c.args);
    CHECK(r["status"] == "passed");
    CHECK(contains(r["kernel"], c.kernel));
    CHECK(r["weights"] == c.weights);
    CHECK((r["model_bytes"].get<int>() < kFp32Bytes) == c.smaller);
    // Quantized weights cost accuracy on this small model, but not much.
    CHECK(r["accuracy"]["delta"].get<double>() > -0.05);
    CHECK(r["accuracy"]["agreement"].get<double>() > 0.9);
    REQUIRE(r["latency"].size() == 2);
    const bool quantized = r["config"]["bits"] != 32;
    CHECK((!r["config"].contains("quantization") || quantized));  // never at 32 bits
    CHECK((r["repro"].get<std::string>().find("--calibration ") != std::string::npos) == quantized);
  }
}

TEST_CASE("cli eval: quantization options are part of the config and its hash") {
  TempDir cache("lowbit-cache");
  const nlohmann::json a = eval_json(cache, "--precision int8 --bits 8 --calibration minmax");
  const nlohmann::json b = eval_json(cache, "--precision int8 --bits 8 --calibration mse");
  // Only what differs from the defaults is in the canonical config: minmax is not the default,
  // mse is, and so is every other option here.
  CHECK(a["config"]["quantization"] == nlohmann::json{{"calibration", "minmax"}});
  CHECK_FALSE(b["config"].contains("quantization"));
  CHECK(a["config_hash"] != b["config_hash"]);
  // The repro line gives the same result.
  std::string repro = a["repro"].get<std::string>();
  repro.replace(0, 6, kLowbit);
  const auto again = run_command(repro + " --json --cache " + cache.path());
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  const nlohmann::json c = nlohmann::json::parse(again.out);
  CHECK(c["config_hash"] == a["config_hash"]);
  CHECK(c["accuracy"]["correct"] == a["accuracy"]["correct"]);
}

TEST_CASE("cli eval: what a precision cannot do is skipped with the reason, exit 0") {
  TempDir cache("lowbit-cache");
  const nlohmann::json asym = eval_json(cache, "--precision int8 --bits 8 --scheme asym");
  CHECK(asym["status"] == "skipped");
  CHECK(contains(asym["reason"], "symmetric"));
  const nlohmann::json dynamic =
      eval_json(cache, "--precision fixed --bits 8 --activations dynamic");
  CHECK(dynamic["status"] == "skipped");
  CHECK(contains(dynamic["reason"], "static"));
  const nlohmann::json fixed32 = eval_json(cache, "--precision fixed --bits 32");
  CHECK(fixed32["status"] == "skipped");
  CHECK(contains(fixed32["reason"], "fixed needs bits ≤ 8"));
  const nlohmann::json forced = eval_json(cache, "--precision fp16 --kernel onednn");
  CHECK(forced["status"] == "skipped");
  CHECK(contains(forced["reason"], "kernel onednn has no fp16 path"));
}

TEST_CASE("cli eval: bf16 under an AVX2 cap is skipped with the reason, never run as fp32") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, "--precision bf16 --max-isa avx2");
  CHECK(r["status"] == "skipped");
  CHECK(contains(r["reason"], "bf16"));
  CHECK(contains(r["reason"], "avx2"));
  CHECK_FALSE(r.contains("accuracy"));
  CHECK_FALSE(r.contains("latency"));
}

TEST_CASE("cli eval: bad quantization flags are exit 2 naming the flag") {
  const char* bad[][2] = {{"--scheme affine", "--scheme"},
                          {"--granularity row", "--granularity"},
                          {"--activations lazy", "--activations"},
                          {"--calibration kl", "--calibration"},
                          {"--calibration-samples 0", "--calibration-samples"},
                          {"--percentile 20", "--percentile"}};
  for (const auto& b : bad) {
    CAPTURE(b[0]);
    const auto r = run_command(kLowbit + " eval --precision int8 --bits 8 " + b[0]);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(b[1]) != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli eval --gemm: every precision, its error against fp64 in line with its arithmetic") {
  TempDir cache("lowbit-cache");
  struct Case {
    std::string args;
    double min_sqnr_db;  // b-bit weights and activations: about 6 dB per bit, less the clipping
  };
  const Case cases[] = {
      {"--precision fp32 --bits 32", 100.0},  // fp32 sums of 64 terms: ~140 dB
      {"--precision fp16 --bits 32", 60.0},   // 11-bit significands: ~70 dB
      {"--precision fp32 --bits 8", 30.0},    // 8-bit weights alone
      {"--precision int8 --bits 8", 25.0},    // 7- or 8-bit activations and 8-bit weights
      {"--precision fixed --bits 8", 25.0},
      {"--precision int8 --bits 8 --activations dynamic", 25.0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const nlohmann::json r = eval_json(cache, "--gemm 9,64,5 " + c.args, kQuick);
    CHECK(r["status"] == "passed");
    REQUIRE(r.contains("error"));
    CHECK(r["error"]["sqnr_db"].get<double>() > c.min_sqnr_db);
    CHECK(r["latency"][0]["batch"] == 9);
  }
}

TEST_CASE("cli eval: int4 runs packed 2-, 3- and 4-bit kernels on every layer and names them") {
  TempDir cache("lowbit-cache");
  for (const int bits : {4, 3, 2}) {
    CAPTURE(bits);
    const nlohmann::json r = eval_json(cache, "--precision int4 --bits " + std::to_string(bits));
    CHECK(r["status"] == "passed");
    const std::string prefix = "lowbit/q" + std::to_string(bits) + "_g32_";
    CHECK(contains(r["kernel"], prefix));
    REQUIRE(r["layers"].size() == 2);
    for (const auto& layer : r["layers"]) CHECK(contains(layer["kernel"], prefix));
    CHECK(r["weights"] == "real");
    // b bits a weight plus a 2-byte scale and a 1-byte zero point per 32: far below fp32's 32.
    CHECK(r["model_bytes"].get<int>() < kFp32Bytes / 4);
    // Fewer bits lose more; 2 bits on a 2-epoch model loses a few points, never the model.
    CHECK(r["accuracy"]["delta"].get<double>() > (bits == 2 ? -0.15 : -0.05));
    const nlohmann::json& q = r["config"]["quantization"];
    CHECK(q["scheme"] == "asym");            // int4's default (docs/precision.md)
    CHECK_FALSE(q.contains("group_size"));   // 32, the default: absent from the canonical config
    CHECK_FALSE(q.contains("activations"));  // int4 quantizes activations per block, every call
    CHECK(contains(r["repro"], "--group-size 32"));
  }
  const nlohmann::json g128 =
      eval_json(cache, "--precision int4 --bits 4 --group-size 128 --scheme sym");
  CHECK(g128["status"] == "passed");
  CHECK(contains(g128["kernel"], "lowbit/q4_g128_"));
  // sym is QuantOptions' default, so only the group size is in the canonical config.
  CHECK(g128["config"]["quantization"] == nlohmann::json{{"group_size", 128}});
  // Forcing a tier runs it; the reference twin gives the same logits, so the same predictions.
  const nlohmann::json portable = eval_json(cache, "--precision int4 --bits 3 --kernel portable");
  const nlohmann::json ref = eval_json(cache, "--precision int4 --bits 3 --kernel ref");
  CHECK(portable["kernel"] == "lowbit/q3_g32_portable");
  CHECK(ref["kernel"] == "lowbit/q3_g32_ref");
  CHECK(portable["accuracy"]["correct"] == ref["accuracy"]["correct"]);
  // The repro line gives the same config and the same predictions.
  std::string repro = portable["repro"].get<std::string>();
  repro.replace(0, 6, kLowbit);
  const auto again = run_command(repro + " --json --cache " + cache.path());
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  const nlohmann::json copy = nlohmann::json::parse(again.out);
  CHECK(copy["config_hash"] == portable["config_hash"]);
  CHECK(copy["accuracy"]["correct"] == portable["accuracy"]["correct"]);
}

TEST_CASE(
    "cli eval: int4 outside its table is skipped with the reason; a bad group size is exit 2") {
  TempDir cache("lowbit-cache");
  const nlohmann::json wide = eval_json(cache, "--precision int4 --bits 8");
  CHECK(wide["status"] == "skipped");
  CHECK(contains(wide["reason"], "int4 needs bits ≤ 4"));
  const nlohmann::json full = eval_json(cache, "--precision int4 --bits 32");
  CHECK(full["status"] == "skipped");
  const nlohmann::json tensor = eval_json(cache, "--precision int4 --bits 4 --granularity tensor");
  CHECK(tensor["status"] == "skipped");
  CHECK(contains(tensor["reason"], "granularity tensor"));
  const nlohmann::json forced = eval_json(cache, "--precision int4 --bits 4 --kernel onednn");
  CHECK(forced["status"] == "skipped");
  CHECK(contains(forced["reason"], "kernel onednn has no int4 path"));
  for (const char* bad : {"--group-size 48", "--group-size 16", "--group-size 256"}) {
    CAPTURE(bad);
    const auto r = run_command(kLowbit + " eval --precision int4 --bits 4 " + bad);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--group-size") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli eval --gemm: int4 at every width, its error in line with its bits") {
  TempDir cache("lowbit-cache");
  struct Case {
    int bits;
    double
        min_sqnr_db;  // b-bit group weights (≈ 6 dB a bit, less the clipping) and int8 activations
  };
  for (const Case c : {Case{4, 15.0}, Case{3, 10.0}, Case{2, 4.0}}) {
    CAPTURE(c.bits);
    const nlohmann::json r = eval_json(
        cache, "--gemm 9,100,5 --precision int4 --bits " + std::to_string(c.bits), kQuick);
    CHECK(r["status"] == "passed");
    CHECK(contains(r["kernel"], "lowbit/q" + std::to_string(c.bits) + "_g32_"));
    CHECK(r["error"]["sqnr_db"].get<double>() > c.min_sqnr_db);
    CHECK(r["latency"][0]["batch"] == 9);
  }
}

TEST_CASE("cli eval: mixed runs a given per-layer policy and names each layer's path") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, "--precision mixed --layer-precision fp32,int4:3");
  CHECK(r["status"] == "passed");
  CHECK(contains(r["kernel"], "mixed["));
  REQUIRE(r["layers"].size() == 2);
  CHECK(contains(r["layers"][1]["kernel"], "lowbit/q3_g32_"));
  CHECK(r["policy"]["layers"] == nlohmann::json({"fp32", "int4:3"}));
  CHECK(r["policy"]["chosen_by"] == "given");
  CHECK_FALSE(r.contains("candidates"));
  CHECK(r["config"]["mixed"]["policy"] == nlohmann::json({"fp32", "int4:3"}));
  CHECK(r["config"]["bits"] == 4);  // mixed's default: the width of an unannotated int4 layer
  CHECK(contains(r["repro"], "--layer-precision fp32,int4:3"));
  CHECK(r["accuracy"]["delta"].get<double>() > -0.05);
}

TEST_CASE("cli eval: mixed auto picks the fastest policy within budget on the validation split") {
  TempDir cache("lowbit-cache");
  const double budget = 0.01;
  const nlohmann::json r =
      eval_json(cache, "--precision mixed --layer-precision auto --accuracy-budget 0.01");
  CHECK(r["status"] == "passed");
  const nlohmann::json& p = r["policy"];
  CHECK(p["chosen_by"] == "auto");
  CHECK(p["validation_images"] == 1000);
  CHECK(p["ranked_batch"] == 7);  // the largest timed batch
  // Within budget on the split it was chosen on.
  CHECK(p["validation_top1"].get<double>() >=
        p["baseline_validation_top1"].get<double>() - budget - 1e-12);
  const nlohmann::json& candidates = r["candidates"];
  REQUIRE(candidates.size() > 1);
  int chosen = 0;
  for (const auto& c : candidates) {
    if (c.value("chosen", false)) {
      ++chosen;
      CHECK(c["within_budget"] == true);
      CHECK(c["policy"] == p["layers"]);
      REQUIRE(c.contains("median_us"));
      // The fastest measured of those measured within budget.
      for (const auto& other : candidates) {
        if (other.contains("median_us"))
          CHECK(c["median_us"].get<double>() <= other["median_us"].get<double>());
      }
    }
    CHECK(c["within_budget"] == (c["validation_delta"].get<double>() >= -budget));
  }
  CHECK(chosen == 1);
  // Test-set figures are reported apart from the validation ones.
  CHECK(r["accuracy"].contains("top1"));
  CHECK(r["config"]["mixed"]["policy"] == "auto");
  CHECK(r["config"]["mixed"]["budget"] == budget);
}

TEST_CASE("cli eval: bad mixed flags are exit 2 naming the flag") {
  const char* bad[][2] = {
      {"--precision mixed", "--layer-precision"},
      {"--precision mixed --layer-precision fp32", "--layer-precision"},
      {"--precision mixed --layer-precision fp32,int4:9", "--layer-precision"},
      {"--precision mixed --layer-precision fp32,fixed", "--layer-precision"},
      {"--precision mixed --layer-precision auto", "--accuracy-budget"},
      {"--precision mixed --layer-precision auto --accuracy-budget 1.5", "--accuracy-budget"},
      {"--precision int8 --bits 8 --layer-precision fp32,int8", "--layer-precision"},
      {"--precision mixed --layer-precision fp32,int8 --gemm 4,8,4", "mixed"}};
  for (const auto& b : bad) {
    CAPTURE(b[0]);
    const auto r = run_command(kLowbit + " eval --epochs 1 --layers 784,32,10 " + b[0]);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(b[1]) != std::string::npos);
    CHECK(r.out.empty());
  }
}
