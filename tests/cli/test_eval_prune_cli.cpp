// `lowbit eval --prune …` as a user runs it: the pruned variant's sparsity, storage and accuracy
// fields, composition with quantization, and every bad pruning argument as exit 2 before any
// training. A small model (2 epochs on 2,000 images) keeps it fast.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "protocol/eval_config.h"
#include "tests/cli/eval_json.h"
#include "tests/support/subprocess.h"

using lowbit::testing::TempDir;

namespace {

const std::string kLowbit = LOWBIT_BINARY;
const std::string kSmall =
    " --layers 784,32,10 --epochs 2 --train-images 2000 --validation-images 1000 --threads 1"
    " --batch 1,8 --repetitions 2 --min-time-ms 1 --warmup-ms 0";
constexpr int kDenseWeights = 784 * 32 + 32 * 10;

nlohmann::json eval_json(const TempDir& cache, const std::string& args) {
  return lowbit::testing::eval_json_ok(kLowbit + " eval --json --cache " + cache.path() + kSmall +
                                       " " + args);
}

}  // namespace

TEST_CASE(
    "cli eval --prune: magnitude pruning reaches the ratio exactly and stays there after "
    "fine-tuning") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, "--prune 0.9 --finetune-epochs 1");
  CHECK(r["status"] == "passed");
  const int removed = kDenseWeights - r["params_nonzero"].get<int>();
  CHECK(removed >=
        static_cast<int>(0.9 * kDenseWeights));  // exact count, and fine-tuning revived none
  CHECK(r["sparsity"].get<double>() >= 0.899);
  // The schedule is at its default (oneshot), so the canonical config leaves it out.
  CHECK(r["config"]["pruning"] ==
        nlohmann::json{{"method", "magnitude"}, {"ratio", 0.9}, {"finetune_epochs", 1}});
  CHECK(r["accuracy"]["baseline_top1"].get<double>() > 0.6);
  CHECK(r["accuracy"]["delta"] ==
        r["accuracy"]["top1"].get<double>() - r["accuracy"]["baseline_top1"].get<double>());
  CHECK(r["repro"].get<std::string>().find("--prune 0.9 --prune-method magnitude") !=
        std::string::npos);
  // Unpruned configs carry no pruning block, so their hashes did not move.
  const nlohmann::json dense = eval_json(cache, "");
  CHECK_FALSE(dense["config"].contains("pruning"));
  CHECK(dense["sparsity"] == 0.0);
}

TEST_CASE("cli eval --prune: structured pruning really shrinks the model; n:m implies its ratio") {
  TempDir cache("lowbit-cache");
  const nlohmann::json s =
      eval_json(cache, "--prune 0.5 --prune-method structured --finetune-epochs 0");
  CHECK(s["status"] == "passed");
  CHECK(s["model_bytes"] == (784 * 16 + 16 + 16 * 10 + 10) * 4);  // 784-16-10, stored dense
  CHECK(s["sparsity"] == doctest::Approx(0.5));
  const nlohmann::json nm = eval_json(cache, "--prune-method n:m --finetune-epochs 0");
  CHECK(nm["config"]["pruning"]["ratio"] == 0.5);
  CHECK(nm["config"]["pruning"]["nm"] == "2:4");
  CHECK(nm["sparsity"] == doctest::Approx(0.5));
}

TEST_CASE("cli eval --prune composes with quantization: zeros stay zero in int8") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r =
      eval_json(cache, "--prune 0.8 --finetune-epochs 0 --precision int8 --bits 8");
  CHECK(r["status"] == "passed");
  CHECK(r["sparsity"].get<double>() >= 0.799);
  CHECK(r["config"].contains("pruning"));
  CHECK(r["config"]["bits"] == 8);
}

TEST_CASE("cli eval --prune: bad arguments are exit 2 naming the field, before any training") {
  TempDir cache("lowbit-cache");
  lowbit::testing::expect_eval_usage_errors(cache.path(),
                                            {{"--prune 1.0", "ratio"},
                                             {"--prune -0.1", "ratio"},
                                             {"--prune 0.3 --prune-method n:m", "ratio"},
                                             {"--prune-method n:m --nm 5:4", "nm"},
                                             {"--prune 0.999 --prune-method structured", "ratio"},
                                             {"--prune-method pyramid", "--prune-method"},
                                             {"--gemm 4,8,4 --prune 0.5", "pruning"}});
}

TEST_CASE("cli eval --prune composes with int4: pruned weights stay exactly zero at every width") {
  TempDir cache("lowbit-cache");
  for (const int bits : {4, 2}) {
    CAPTURE(bits);
    const nlohmann::json r = eval_json(
        cache, "--prune 0.8 --finetune-epochs 0 --precision int4 --bits " + std::to_string(bits));
    CHECK(r["status"] == "passed");
    CHECK(r["sparsity"].get<double>() >= 0.799);
    CHECK(r["config"]["pruning"]["ratio"] == 0.8);
    CHECK(r["config"].get<lowbit::protocol::EvalConfig>().quant.group_size == 32);
  }
}
