// `lowbit eval --distill-from …` as a user runs it: the distilled student is the base model,
// judged against its teacher and the same student trained from scratch, every model from the
// cache on the second run; bad distillation arguments are exit 2 before any training. Small
// models (2 epochs on 2,000 images) keep it fast.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli/eval_json.h"
#include "tests/support/subprocess.h"

using lowbit::testing::TempDir;

namespace {

const std::string kLowbit = LOWBIT_BINARY;
const std::string kSmall =
    " --epochs 2 --train-images 2000 --validation-images 1000 --threads 1"
    " --batch 1 --repetitions 2 --min-time-ms 1 --warmup-ms 0";
const std::string kTeacher = " --distill-from 784,64,10";

nlohmann::json eval_json(const TempDir& cache, const std::string& args,
                         const std::string& layers = "784,16,10") {
  return lowbit::testing::eval_json_ok(kLowbit + " eval --json --cache " + cache.path() + kSmall +
                                       " --layers " + layers + " " + args);
}

}  // namespace

TEST_CASE(
    "cli eval --distill-from: the student is the base model, reported beside its teacher and its "
    "scratch twin") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r = eval_json(cache, kTeacher);
  CHECK(r["status"] == "passed");
  // Temperature and alpha are at their defaults, so only the teacher is in the canonical config.
  CHECK(r["config"]["distillation"] == nlohmann::json{{"teacher", {784, 64, 10}}});
  const nlohmann::json& d = r["distillation"];
  // An unpruned fp32 variant is the base model itself.
  CHECK(r["accuracy"]["top1"] == r["accuracy"]["baseline_top1"]);
  CHECK(r["base_model"]["cache_hit"] == false);
  CHECK(r["train_seconds"].get<double>() > 0.0);
  CHECK(r["repro"].get<std::string>().find(
            "--distill-from 784,64,10 --temperature 1 --alpha 0.5") != std::string::npos);

  // The teacher and the scratch student are the cache's models of those specs: evaluating them
  // directly gives the top-1 the distilled result reported.
  const nlohmann::json teacher = eval_json(cache, "", "784,64,10");
  CHECK(teacher["base_model"]["cache_hit"] == true);
  CHECK(teacher["base_model"]["hash"] == d["teacher_hash"]);
  CHECK(teacher["accuracy"]["top1"] == d["teacher_top1"]);
  const nlohmann::json scratch = eval_json(cache, "");
  CHECK(scratch["base_model"]["cache_hit"] == true);
  CHECK(scratch["base_model"]["hash"] == d["scratch_hash"]);
  CHECK(scratch["accuracy"]["top1"] == d["scratch_top1"]);
  CHECK_FALSE(scratch["config"].contains("distillation"));  // undistilled hashes did not move
  CHECK(scratch["config_hash"] != r["config_hash"]);

  // Again: every model from the cache, nothing trained.
  const nlohmann::json again = eval_json(cache, kTeacher);
  CHECK(again["base_model"]["cache_hit"] == true);
  CHECK(again["base_model"]["hash"] == r["base_model"]["hash"]);
  CHECK(again["train_seconds"] == 0.0);
  CHECK(again["accuracy"]["correct"] == r["accuracy"]["correct"]);
}

TEST_CASE(
    "cli eval --distill-from: alpha 0 is training on the labels alone, the scratch student "
    "exactly") {
  TempDir cache("lowbit-cache");
  const nlohmann::json labels_only = eval_json(cache, kTeacher + " --alpha 0");
  // Same initialization, data order and augmentation as the scratch student: only the loss differs,
  // and with no weight on the soft term it is the same cross-entropy, so the predictions match.
  CHECK(labels_only["accuracy"]["top1"] == labels_only["distillation"]["scratch_top1"]);
  const nlohmann::json scratch = eval_json(cache, "");
  CHECK(labels_only["accuracy"]["correct"] == scratch["accuracy"]["correct"]);
  // A different alpha is a different student from the same teacher.
  const nlohmann::json soft = eval_json(cache, kTeacher + " --alpha 0.9 --temperature 2");
  CHECK(soft["distillation"]["teacher_hash"] == labels_only["distillation"]["teacher_hash"]);
  CHECK(soft["base_model"]["hash"] != labels_only["base_model"]["hash"]);
  CHECK(soft["config_hash"] != labels_only["config_hash"]);
}

TEST_CASE("cli eval --distill-from composes with pruning and quantization of the student") {
  TempDir cache("lowbit-cache");
  const nlohmann::json r =
      eval_json(cache, kTeacher + " --prune 0.5 --finetune-epochs 0 --precision int8 --bits 8");
  CHECK(r["status"] == "passed");
  CHECK(r["config"].contains("distillation"));
  CHECK(r["config"].contains("pruning"));
  CHECK(r["sparsity"].get<double>() >= 0.499);
  const nlohmann::json base = eval_json(cache, kTeacher);
  CHECK(r["accuracy"]["baseline_top1"] ==
        base["accuracy"]["top1"]);  // against the distilled student
}

TEST_CASE(
    "cli eval --distill-from: bad arguments are exit 2 naming the field, before any training") {
  TempDir cache("lowbit-cache");
  lowbit::testing::expect_eval_usage_errors(
      cache.path(), {{"--distill-from 100,64,10", "distill-from"},
                     {"--distill-from 784,64,7", "distill-from"},
                     {"--distill-from 784", "distill-from"},
                     {"--distill-from 784,x,10", "--distill-from"},
                     {"--distill-from 784,64,10 --alpha 1.5", "--alpha"},
                     {"--distill-from 784,64,10 --temperature 0", "--temperature"},
                     {"--gemm 4,8,4 --distill-from 784,64,10", "--distill-from"}});
}
