#pragma once
// A scheduler on a fresh SQLite file with a clock that moves only when a test says so, plus the
// fingerprints and sweeps the scheduler tests submit.

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "coordinator/scheduler.h"
#include "coordinator/store.h"
#include "protocol/target.h"
#include "tests/support/subprocess.h"

namespace lowbit::testing {

// A worker's fingerprint: the same host capped to `isa_cap` with `threads` threads.
inline protocol::Target fingerprint(const std::string& isa_cap, int threads) {
  protocol::Target t;
  t.cpu = "AMD EPYC 9R14";
  t.isa_flags = {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "f16c", "fma"};
  t.isa_effective = isa_cap == "native" ? "avx512_core_bf16" : isa_cap;
  t.isa_cap = isa_cap;
  t.threads = threads;
  t.num_cpus = 2;
  t.caches = {{1, "data", 32 * 1024, 1}, {2, "unified", 1024 * 1024, 1}};
  t.memory_bytes = std::int64_t{8} << 30;
  t.os = "Linux 6.1.0-18-amd64";
  t.label = protocol::make_target_label(t);
  t.id = protocol::compute_target_id(t);
  return t;
}

// An mlp sweep of `bits.size()` fp32 variants (one per bit width) and a prepare job.
inline nlohmann::json mlp_sweep(const std::string& name, std::vector<int> bits = {32, 8}) {
  return {{"name", name},
          {"workload", {{"kind", "mlp"}}},
          {"axes", {{"bits", bits}, {"precision", {"fp32"}}}}};
}

// A gemm sweep: no prepare job, so its variants are queued at once.
inline nlohmann::json gemm_sweep(const std::string& name, int shapes) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 1; i <= shapes; ++i) list.push_back({{"m", i}, {"k", 64}, {"n", 64}});
  return {{"name", name},
          {"workload", {{"kind", "gemm"}, {"shapes", list}}},
          {"axes", {{"bits", {32}}, {"precision", {"fp32"}}}}};
}

// A result document as a worker would post it; only its bytes matter to the scheduler.
inline nlohmann::json result_for(const coordinator::LeaseGrant& grant,
                                 const std::string& note = "") {
  return {{"config", grant.config},
          {"config_hash", grant.config_hash},
          {"status", "passed"},
          {"note", note}};
}

class SchedulerFixture {
 public:
  explicit SchedulerFixture(coordinator::SchedulerOptions options = {})
      : dir_("lowbit-coordinator"), options_(options) {
    reopen();
  }

  // A new Store and Scheduler on the same file, as after a coordinator restart.
  void reopen() {
    scheduler_.reset();
    store_.reset();
    store_ = std::make_unique<coordinator::Store>(db_path());
    scheduler_ = std::make_unique<coordinator::Scheduler>(*store_, options_, clock.clock());
  }

  std::string db_path() const { return dir_.path() + "/lowbit.db"; }
  coordinator::Scheduler& scheduler() { return *scheduler_; }
  coordinator::Store& store() { return *store_; }

  coordinator::SweepId submit(const nlohmann::json& sweep) {
    auto outcome = scheduler_->submit(sweep);
    REQUIRE_MESSAGE(outcome.ok(), outcome.message);
    return outcome.value.id;
  }

  coordinator::WorkerId add_worker(const std::string& name, const std::string& isa = "native",
                                   int threads = 2) {
    auto outcome = scheduler_->register_worker(name, fingerprint(isa, threads));
    REQUIRE(outcome.ok());
    return outcome.value;
  }

  // The lease a worker gets; fails the test when there is none.
  coordinator::LeaseGrant lease(coordinator::WorkerId worker) {
    auto outcome = scheduler_->lease(worker);
    REQUIRE_MESSAGE(outcome.ok(), outcome.message);
    REQUIRE_MESSAGE(outcome.value.has_value(), "no job for worker ", worker);
    return *outcome.value;
  }

  bool has_work(coordinator::WorkerId worker) {
    auto outcome = scheduler_->lease(worker);
    REQUIRE(outcome.ok());
    return outcome.value.has_value();
  }

  void finish(coordinator::WorkerId worker, const coordinator::LeaseGrant& grant) {
    auto outcome = scheduler_->submit_result(grant.lease_id, worker, result_for(grant));
    REQUIRE_MESSAGE(outcome.ok(), outcome.message);
  }

  std::int64_t count(coordinator::SweepId sweep, const std::string& state) {
    auto status = scheduler_->status(sweep);
    REQUIRE(status.ok());
    return status.value.counts.at(state);
  }

  std::int64_t rows(const std::string& table) {
    return store_->database().scalar("SELECT count(*) FROM " + table);
  }

  coordinator::ManualClock clock;

 private:
  TempDir dir_;
  coordinator::SchedulerOptions options_;
  std::unique_ptr<coordinator::Store> store_;
  std::unique_ptr<coordinator::Scheduler> scheduler_;
};

}  // namespace lowbit::testing
